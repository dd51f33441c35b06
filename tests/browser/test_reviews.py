"""审核: a school leader works the registration queue. The items are made here through
enrollment's API (a registrar submits students without ID of a new class: each is a review item
waiting for the school level), then the leader cancels a batch confirmation (nothing changes),
rejects one item with an opinion, and batch-approves the checked items while one of them has
meanwhile been decided elsewhere: the answer is per item, with the reason of the skip."""

from __future__ import annotations

import uuid
from typing import Any

from playwright.sync_api import Dialog, Page, expect

from tests.browser.conftest import Stack, accessible_in_both_languages, assert_accessible, sign_in

SCHOOL = "4141010001"  # the demo's school: its majors are qualified for the 2025 intake
# A guardian's resident ID with a valid check digit (GB 11643); nobody real.
GUARDIAN_ID = "11010519491231002X"
PDF = b"%PDF-1.4\n% evidence for a browser test\n"
# Names take no digits: a run's tag is spelled with these characters instead.
TAG_CHARACTERS = dict(zip("0123456789abcdef", "零一二三四五六七八九春夏秋冬东西", strict=True))


class Api:
    """Enrollment's API as one account of the school."""

    def __init__(self, stack: Stack, role: str) -> None:
        self.stack, self.role = stack, role

    def post(self, path: str, **kwargs: Any) -> dict[str, Any]:
        return self._answer("POST", path, **kwargs)

    def review(self, item_id: str) -> dict[str, Any]:
        return self._answer("GET", f"/api/v1/reviews/{item_id}")

    def _answer(self, method: str, path: str, **kwargs: Any) -> dict[str, Any]:
        response = self.stack.api(method, "41", "enrollment", path, role=self.role, org=SCHOOL, **kwargs)
        answer: dict[str, Any] = response.json()
        return answer


def submit_students_without_id(registrar: Api, count: int) -> list[dict[str, Any]]:
    """A new class and ``count`` students without ID submitted for review (无证件学生单个录入)."""
    tag = uuid.uuid4().hex[:6]
    klass = registrar.post(
        f"/api/v1/schools/{SCHOOL}/classes",
        json={"name": f"审核测试班-{tag}", "grade": 2025, "major_code": "710201"},
    )
    evidence = registrar.post("/api/v1/evidence", files={"file": ("证明.pdf", PDF, "application/pdf")})
    items = []
    for number in range(count):
        items.append(
            registrar.post(
                "/api/v1/students/without-id",
                json={
                    "name": f"审核生{'甲乙丙丁戊'[number]}{''.join(TAG_CHARACTERS[c] for c in tag)}",
                    "sex": "F" if number % 2 else "M",
                    "birth_date": f"2010-0{number + 1}-15",
                    "class_id": klass["id"],
                    "guardian": {"name": "林守业", "relation": "father", "id_number": GUARDIAN_ID},
                    "evidence_ids": [evidence["id"]],
                },
            )
        )
    return items


def test_a_leader_rejects_cancels_and_batch_approves_with_a_per_item_answer(stack: Stack, page: Page) -> None:
    console = stack.console("41")
    leader_api = Api(stack, "school_leader")
    queue_items = submit_students_without_id(Api(stack, "school_registrar"), 4)
    assert all(item["current_level"] == "school" for item in queue_items)
    first, second, third, fourth = queue_items
    sign_in(page, console, stack.account("41", "school_leader", SCHOOL))
    page.goto(f"{console}/reviews?queue=registration")
    for item in queue_items:
        expect(page.locator(f"#review-{item['id']}")).to_contain_text(item["title"])

    accessible_in_both_languages(page, "reviews-queue")

    def check(item: dict[str, Any]) -> None:
        page.get_by_role("checkbox", name=f"选择：{item['title']}").check()

    # A cancelled confirmation changes nothing: the dialog states the count; no request is sent.
    check(first)
    check(second)
    asked: list[str] = []

    def dismiss(dialog: Dialog) -> None:
        asked.append(dialog.message)
        dialog.dismiss()

    page.once("dialog", dismiss)
    page.get_by_role("button", name="批量通过").click()
    expect(page.get_by_role("button", name="批量通过")).to_be_enabled()
    assert asked and "2 条" in asked[0], asked
    for item in (first, second):
        after = leader_api.review(item["id"])
        assert (after["state"], after["current_level"]) == ("pending", "school"), after
    expect(page.locator("#batch-answer")).to_have_count(0)

    # Reject with an opinion: without one the service's reason shows in the row.
    row = page.locator(f"#review-{fourth['id']}")
    row.get_by_role("button", name="退回").click()
    expect(row.get_by_role("alert")).to_contain_text("退回时必须填写原因")
    row.get_by_role("textbox").fill("监护人证明材料不清晰，请重新上传")
    row.get_by_role("button", name="退回").click()
    expect(page.locator(f"#review-{fourth['id']}")).to_contain_text("已退回")
    rejected = leader_api.review(fourth["id"])
    assert rejected["state"] == "returned"
    assert rejected["decisions"][-1]["opinion"] == "监护人证明材料不清晰，请重新上传"

    # The third is decided elsewhere while it is checked here: the service re-checks each item.
    check(third)
    leader_api.post(
        f"/api/v1/reviews/{third['id']}/decision", json={"decision": "reject", "opinion": "另行处理"}
    )

    def accept(dialog: Dialog) -> None:
        asked.append(dialog.message)
        dialog.accept()

    page.once("dialog", accept)
    page.get_by_role("button", name="批量通过").click()
    answer = page.locator("#batch-answer")
    expect(answer).to_contain_text("2 条通过，1 条跳过（不在本级待审核）")
    assert "3 条" in asked[-1], asked
    expect(answer).to_contain_text(f"{first['title']}：已通过，转上级审核")
    expect(answer).to_contain_text(f"{third['title']}：跳过（不在本级待审核）")
    for item in (first, second):
        after = leader_api.review(item["id"])
        assert (after["state"], after["current_level"]) == ("pending", "county"), after
    for item in queue_items:
        expect(page.locator(f"#review-{item['id']}")).to_have_count(0)

    assert_accessible(page)  # with the batch answer in place


def test_a_review_item_shows_its_steps_and_every_queue_tab_answers(stack: Stack, page: Page) -> None:
    console = stack.console("41")
    (item,) = submit_students_without_id(Api(stack, "school_registrar"), 1)
    sign_in(page, console, stack.account("41", "school_leader", SCHOOL))
    page.goto(f"{console}/reviews/{item['id']}")
    expect(page.get_by_role("heading", name=item["title"])).to_be_visible()
    expect(page.get_by_role("table")).to_contain_text("41-registrar-4141010001")
    accessible_in_both_languages(page)
    page.get_by_label("审核意见").fill("材料齐全")
    page.get_by_role("button", name="同意").click()
    expect(page.get_by_role("status")).to_contain_text("已通过，转上级审核")
    for queue in ("status_change", "key_data", "problem_record", "transfer", "graduation"):
        page.goto(f"{console}/reviews?queue={queue}")
        expect(page.locator("nav.review-tabs a[aria-current='true']")).to_be_visible()
        assert_accessible(page)

    # The county sees the approved item next, and the overdue tab bureaus have.
    page.get_by_role("button", name="退出").click()
    sign_in(page, console, stack.account("41", "county"))
    page.goto(f"{console}/reviews?queue=registration")
    expect(page.locator(f"#review-{item['id']}")).to_contain_text(item["title"])
    page.get_by_role("link", name="逾期督办").click()
    expect(page.get_by_role("heading", name="逾期督办")).to_be_visible()
    assert_accessible(page)
