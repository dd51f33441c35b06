"""Issue 2's walking skeleton across two provinces, two virtual hosts and the shovel."""

from __future__ import annotations

import time

from shared.tracetree import SpanRecord, ancestors, load_spans, roots
from tests.e2e.conftest import RunningProvinces


def test_cross_province_transfer__records_move_and_both_sides_agree(provinces: RunningProvinces) -> None:
    states = provinces.report["final_states"]
    assert states["transfer"] == {"41": "COMPLETED", "37": "COMPLETED"}
    assert states["enrollment"] == {"41": "in_school", "37": "transferred_out"}
    assert states["same_student_number"] is True
    assert states["read_models"] == {
        "41": {"checkin": "in_school", "certificates": "in_school"},
        "37": {"checkin": "transferred_out", "certificates": "transferred_out"},
    }


def test_cross_province_transfer__timeline_is_the_same_in_both_provinces(provinces: RunningProvinces) -> None:
    timeline = provinces.report["timeline"]

    def steps(province: str) -> list[tuple[str, str, str | None, str]]:
        return [(s["step_id"], s["action"], s.get("level"), s["state_after"]) for s in timeline[province]]

    assert steps("41") == steps("37")
    approvals = [s for s in timeline["41"] if s["action"] == "approve"]
    assert [(s["level"], s["actor_province"]) for s in approvals] == [
        ("dest_school", "41"),
        ("dest_county", "41"),
        ("origin_school", "37"),
        ("origin_county", "37"),
    ]
    assert len({s["actor_username"] for s in approvals}) == 4  # four different accounts
    assert [s["action"] for s in timeline["41"]][-1] == "records_moved"
    assert timeline["41"][-1]["state_after"] == "COMPLETED"


def _wait_for_trace(provinces: RunningProvinces, trace_id: str, needed: set[str]) -> list[SpanRecord]:
    deadline = time.monotonic() + 30
    while True:
        spans = load_spans(provinces.deployment.trace_dir, trace_id)
        seen = {f"{s.service}@{s.province}" for s in spans}
        if (needed <= seen and len(roots(spans)) == 1) or time.monotonic() > deadline:
            return spans
        time.sleep(0.5)


def _assert_one_unbroken_trace(spans: list[SpanRecord], needed: set[str]) -> None:
    assert {f"{s.service}@{s.province}" for s in spans} >= needed
    (root,) = roots(spans)  # exactly one root: every other span's parent is in the trace
    assert root.kind == "SPAN_KIND_SERVER"
    by_id = {s.span_id: s for s in spans}
    for span in spans:
        if span is not root:
            assert ancestors(span, by_id)[-1] is root


def _crossings(spans: list[SpanRecord]) -> list[tuple[str, str]]:
    """(producer province, consumer province) for each consumer span whose parent is a publish."""
    by_id = {s.span_id: s for s in spans}
    hops = []
    for span in spans:
        parent = by_id.get(span.parent_id or "")
        if span.kind == "SPAN_KIND_CONSUMER" and parent is not None and parent.kind == "SPAN_KIND_PRODUCER":
            hops.append((parent.province, span.province))
    return hops


def test_transfer_request_trace__one_trace_through_both_provinces(provinces: RunningProvinces) -> None:
    needed = {"transfer@41", "enrollment@41", "enrollment@37", "transfer@37"}
    spans = _wait_for_trace(provinces, provinces.report["transfer_trace_id"], needed)
    _assert_one_unbroken_trace(spans, needed)
    root = roots(spans)[0]
    assert (root.service, root.province) == ("transfer", "41")
    hops = _crossings(spans)
    assert ("41", "37") in hops and ("37", "41") in hops  # over the shovel and back
    names = {s.name for s in spans}
    assert any(n.startswith("outbox publish") for n in names)
    assert any(s.attributes.get("db.system") == "postgresql" for s in spans)


def test_final_approval_trace__release_move_and_completion(provinces: RunningProvinces) -> None:
    needed = {"transfer@37", "enrollment@37", "enrollment@41", "transfer@41"}
    spans = _wait_for_trace(provinces, provinces.report["final_approval_trace_id"], needed)
    _assert_one_unbroken_trace(spans, needed)
    root = roots(spans)[0]
    assert (root.service, root.province) == ("transfer", "37")
    hops = _crossings(spans)
    assert ("37", "41") in hops and ("41", "37") in hops


def test_check_in__the_imported_student_checks_in_from_the_campus_as_normal(
    provinces: RunningProvinces,
) -> None:
    """Step 5: activation with a device key, a round that opened by itself, a signed GCJ-02
    check-in from inside the school's campus (drawn in WGS-84) → 正常, decided in the 202."""
    check_in = provinces.report["check_in"]["check_in"]
    assert (check_in["state"], check_in["result"], check_in["final"]) == ("decided", "normal", True)


def test_graduation__the_2023_class_graduates_is_printed_and_verifies_valid(
    provinces: RunningProvinces,
) -> None:
    """Step 9: a class registered and filed under the province's supplementary window (补注册),
    listed, approved by the school and the county, issued by the province, printed in one batch
    to 100 %, and one certificate verified by number and name → valid."""
    graduation = provinces.report["graduation"]
    assert graduation["registered"] == 3 and graduation["filed"] == 3
    assert graduation["reviews"] == ["school", "county"]
    assert graduation["list_state"] == "issued"
    certificates = graduation["certificates"]
    assert len(certificates) == 3 and {c["status"] for c in certificates} == {"valid"}
    assert len({c["number"] for c in certificates}) == 3
    assert graduation["print_batch"]["state"] == "done" and graduation["print_batch"]["percent"] == 100
    assert graduation["printer_file_bytes"] > 1000
    assert graduation["verification"] == {"number": certificates[0]["number"], "state": "valid"}
