"""The student's phone page (issue 9, point 3) on a phone-sized screen: activation with the
code from the phone and a device key made in the browser, the separate face consent, face
capture (camera, and the file input when there is no camera), and check-in inside the campus
(正常), outside (不在校区, then a retry inside), and with someone else's face (疑似作弊).

Each test registers its own student and publishes its own round (face checked on every
check-in) through the APIs, so the demo's data and other tests do not matter."""

from __future__ import annotations

import random
import re
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from PIL import Image
from playwright.sync_api import Browser, BrowserContext, Geolocation, Page, ViewportSize, expect

from deploy.local.checkin_step import campus_boundary
from services.checkin.domain.gcj02 import to_wgs84
from tests.browser.conftest import FACES, Stack, accessible_in_both_languages, assert_accessible

PROVINCE = "41"
SCHOOL = "4141010001"
PHONE_SCREEN: ViewportSize = {"width": 390, "height": 844}
# North of the campus's northern edge by this much: outside, and close enough that walking back
# in a minute later is not an impossible speed (cheating_signals.py ignores jumps under 1 km).
BEYOND_EDGE_DEG = 0.003  # about 330 m
PASSWORD = "Phone-page-2026"
NO_CAMERA = (
    "navigator.mediaDevices.getUserMedia = () => Promise.reject(new DOMException('none', 'NotFoundError'));"
)


def new_student(stack: Stack, name: str) -> dict[str, str]:
    """A student registered now into the demo's 2025 class, with an identity account to activate."""
    student = stack.register_student(name, province=PROVINCE, school=SCHOOL)
    return {"name": name, "id_number": student.id_number, "phone": f"139{random.randint(0, 99_999_999):08d}"}


def campus_positions(stack: Stack) -> tuple[Geolocation, Geolocation]:
    """A point inside the school's first campus and one north of it, in WGS-84 as a browser
    reports (the campus may be registered in GCJ-02; the demo registers one if none)."""
    path = f"/api/v1/schools/{SCHOOL}/campuses"
    listed = stack.api("GET", PROVINCE, "enrollment", path, role="school_registrar").json()
    campuses = listed if isinstance(listed, list) else listed.get("items", [])
    if not campuses:
        body = {"name": "主校区", "crs": "WGS-84", "boundary": campus_boundary()}
        campuses = [
            stack.api("POST", PROVINCE, "enrollment", path, role="school_registrar", json=body).json()
        ]
    boundary = campuses[0]["boundary"]
    ring = boundary["coordinates"][0][0] if boundary["type"] == "MultiPolygon" else boundary["coordinates"][0]
    corners = [to_wgs84(lat, lon, campuses[0]["crs"]) for lon, lat in ring[:-1]]
    # The mean of a convex ring's corners lies inside it (campuses here are rectangles).
    latitude = sum(c[0] for c in corners) / len(corners)
    longitude = sum(c[1] for c in corners) / len(corners)
    north = max(c[0] for c in corners)
    inside: Geolocation = {"latitude": latitude, "longitude": longitude, "accuracy": 25.0}
    outside: Geolocation = {"latitude": north + BEYOND_EDGE_DEG, "longitude": longitude, "accuracy": 25.0}
    return inside, outside


def face_checked_round(stack: Stack) -> str:
    """A verification round of the school's 2025 intake that checks every face, open now."""
    now = datetime.now(UTC)
    body = {
        "name": f"手机签到测试 {now:%H:%M:%S}",
        "starts_at": now.isoformat(),
        "ends_at": (now + timedelta(hours=2)).isoformat(),
        "grades": [2025],
        "scope_code": SCHOOL,
        "face_policy": "every",
    }
    created = stack.api("POST", PROVINCE, "checkin", "/api/v1/rounds", role="province", json=body, expect=201)
    round_id = str(created.json()["id"])

    def opened() -> bool:
        path = f"/api/v1/rounds/{round_id}"
        found = stack.api("GET", PROVINCE, "checkin", path, role="province", expect=None)
        return found.status_code == 200 and found.json()["state"] == "open"

    stack.scenario.wait_for("the round to open", opened)
    return round_id


def fresh_photo(photo: Path, into: Path) -> Path:
    """The photo as a phone's camera app would hand it over: never the same bytes twice (the
    service refuses a selfie sent before, by anyone, and the suite may run again)."""
    image = Image.open(photo).convert("RGB")
    image.putpixel((0, 0), (random.randrange(256), random.randrange(256), random.randrange(256)))
    target = into / f"fresh-{photo.stem}.jpg"
    image.save(target, "JPEG", quality=92)
    return target


def phone_code(stack: Stack, phone: str) -> str:
    """The code identity's SMS stand-in wrote to its log (as deploy/local/checkin_step.py reads it)."""
    log = stack.deployment.home / "log" / f"identity-{PROVINCE}.log"
    pattern = rf"verification code for {re.escape(phone[:3])}\*\*\*\*{re.escape(phone[-4:])}: (\d{{6}})"

    def found() -> str | None:
        codes = re.findall(pattern, log.read_text())
        return str(codes[-1]) if codes else None

    code: str = stack.scenario.wait_for("the activation code in identity's log", found)
    return code


@pytest.fixture
def phone(
    camera_browser: Callable[[str], Browser],
) -> Iterator[Callable[[str, Geolocation], BrowserContext]]:
    """``phone(photo, position)``: a phone-sized browser whose camera shows that photo."""
    contexts: list[BrowserContext] = []

    def open_phone(photo: str, position: Geolocation) -> BrowserContext:
        context = camera_browser(photo).new_context(
            viewport=PHONE_SCREEN,
            is_mobile=True,
            has_touch=True,
            locale="zh-CN",
            geolocation=position,
            permissions=["geolocation", "camera"],
        )
        contexts.append(context)
        return context

    yield open_phone
    for context in contexts:
        context.close()


def activate(page: Page, stack: Stack, student: dict[str, str], *, check_pages: bool = False) -> None:
    """From the sign-in page through activation to the consent page, as a student does."""
    page.goto(f"{stack.console(PROVINCE)}/m/signin")
    page.get_by_role("link", name="首次使用？激活账号").click()
    if check_pages:
        accessible_in_both_languages(page)
    page.get_by_label("姓名").fill(student["name"])
    page.get_by_label("身份证号").fill(student["id_number"])
    page.get_by_label("手机号").fill(student["phone"])
    page.get_by_role("button", name="获取验证码").click()
    expect(page.get_by_label("验证码")).to_be_visible()
    page.get_by_label("验证码").fill(phone_code(stack, student["phone"]))
    page.get_by_label("设置密码").fill(PASSWORD)
    page.get_by_role("button", name="激活").click()
    expect(page).to_have_url(re.compile(r"/m/consent$"))
    assert page.evaluate("typeof indexedDB !== 'undefined'")


def check_in(page: Page) -> None:
    submit = page.get_by_role("button", name="签到", exact=True)
    expect(submit).to_be_enabled(timeout=20_000)
    submit.click()


def result_of(page: Page) -> Any:
    return page.locator("#result .result")


def test_a_student_activates_captures_a_face_and_checks_in(
    stack: Stack, phone: Callable[[str, Geolocation], BrowserContext]
) -> None:
    console = stack.console(PROVINCE)
    round_id = face_checked_round(stack)
    inside, outside = campus_positions(stack)
    student = new_student(stack, "手机甲")
    context = phone("obama/obama1.jpg", outside)
    page = context.new_page()
    activate(page, stack, student, check_pages=True)

    accessible_in_both_languages(page)
    page.get_by_role("button", name="同意人脸信息处理").click()
    expect(page).to_have_url(re.compile(r"/m/face$"))
    accessible_in_both_languages(page)
    page.get_by_role("button", name="拍照并上传").click()
    expect(page.get_by_role("link", name="去签到")).to_be_visible(timeout=20_000)

    page.goto(f"{console}/m/")
    expect(page.get_by_role("link", name="在籍核验签到")).to_be_visible()
    accessible_in_both_languages(page, "mobile-home")

    # Outside the campus: 不在校区, with the reason, and a retry offered.
    page.goto(f"{console}/m/checkin?round={round_id}")
    accessible_in_both_languages(page)
    check_in(page)
    expect(result_of(page)).to_have_text("不在校区", timeout=30_000)
    expect(page.locator("#result")).to_contain_text("定位不在学校登记的校区范围内")
    # The stream was stopped after sending: nothing can be sent until the camera is back.
    assert page.evaluate("!document.getElementById('video').srcObject.active")

    # Back inside, the retry is 正常 and final.
    context.set_geolocation(inside)
    page.get_by_role("button", name="重新签到").click()
    check_in(page)
    expect(result_of(page)).to_have_text("正常", timeout=30_000)
    expect(page.get_by_role("button", name="重新签到")).to_have_count(0)
    assert_accessible(page)
    # Coming back shows the standing, and no camera or button: the result is final.
    page.goto(f"{console}/m/checkin?round={round_id}")
    expect(page.locator(".result")).to_have_text("正常")
    expect(page.get_by_role("button", name="签到", exact=True)).to_have_count(0)
    accessible_in_both_languages(page, "mobile-checkin")

    for path in ("/m/leave", "/m/appeals", "/m/record", "/m/certificates", "/m/consent"):
        page.goto(f"{console}{path}")
        expect(page.get_by_role("heading", level=1)).to_be_visible()
        accessible_in_both_languages(page)
    # A leave request from the phone lands in the student's own list, awaiting the counselor.
    page.goto(f"{console}/m/leave")
    first_day = date.today() + timedelta(days=7)
    page.get_by_label("开始日期").fill(first_day.isoformat())
    page.get_by_label("结束日期（含）").fill((first_day + timedelta(days=1)).isoformat())
    page.get_by_label("请假事由").fill("家中有事，回家两天")
    page.get_by_role("button", name="提交请假申请").click()
    expect(page.get_by_role("status")).to_contain_text("请假申请已提交")
    expect(page.locator(".cards")).to_contain_text("家中有事，回家两天")
    expect(page.locator(".cards")).to_contain_text("待审批")
    page.goto(f"{console}/m/record")
    expect(page.locator("dl.record")).to_contain_text("手机甲")


def test_the_file_input_without_a_camera_and_an_impostor_face(
    stack: Stack, phone: Callable[[str, Geolocation], BrowserContext], tmp_path: Path
) -> None:
    """The student's face is captured from a chosen photo (no camera: an in-app browser); then
    someone else faces the phone's camera for the check-in: 疑似作弊."""
    console = stack.console(PROVINCE)
    round_id = face_checked_round(stack)
    inside, _ = campus_positions(stack)
    student = new_student(stack, "手机乙")
    context = phone("biden/biden1.jpg", inside)
    page = context.new_page()
    activate(page, stack, student)
    page.get_by_role("button", name="同意人脸信息处理").click()
    expect(page).to_have_url(re.compile(r"/m/face$"))

    without_camera = context.new_page()
    without_camera.add_init_script(NO_CAMERA)
    without_camera.goto(f"{console}/m/face")
    expect(without_camera.get_by_text("无法使用摄像头")).to_be_visible()
    # Two people in the picture: refused with the service's reason, shown in place.
    without_camera.get_by_label("选择照片").set_input_files(FACES / "multi" / "two_people.jpg")
    expect(without_camera.locator("#face-problem .problem-reason")).not_to_be_empty(timeout=20_000)
    assert_accessible(without_camera)
    without_camera.get_by_label("选择照片").set_input_files(FACES / "kit_harington" / "kit1.jpeg")
    expect(without_camera.get_by_role("link", name="去签到")).to_be_visible(timeout=20_000)
    expect(without_camera.locator("#face-problem")).to_be_empty()
    without_camera.close()

    page.goto(f"{console}/m/checkin?round={round_id}")
    check_in(page)
    expect(result_of(page)).to_have_text("疑似作弊", timeout=60_000)
    expect(page.locator("#result")).to_contain_text("人脸与本人不符")
    assert_accessible(page)

    # Suspected cheating is not final: the student, back at the phone without a working camera,
    # takes a photo with the file input instead and is checked in.
    expect(page.get_by_role("button", name="重新签到")).to_be_visible()
    page.close()
    own_face = context.new_page()
    own_face.add_init_script(NO_CAMERA)
    own_face.goto(f"{console}/m/checkin?round={round_id}")
    expect(own_face.get_by_role("button", name="签到", exact=True)).to_be_disabled()
    own_face.get_by_label("拍照").set_input_files(
        fresh_photo(FACES / "kit_harington" / "kit2.jpeg", tmp_path)
    )
    check_in(own_face)
    expect(own_face.locator("#result")).to_contain_text("正常", timeout=60_000)
    assert_accessible(own_face)
