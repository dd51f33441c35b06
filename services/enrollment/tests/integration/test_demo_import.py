"""The demo's class workbook against the demo's population file: what `make demo` step 4 shows."""

from __future__ import annotations

from deploy.local.class_workbook import demo_workbook
from deploy.local.layout import POPULATION_FILE
from services.enrollment.identity_check import FilePopulationRegistry
from services.enrollment.tests.integration.conftest import Province
from services.enrollment.tests.integration.imports_support import finished, new_class, report, upload
from services.enrollment.tests.integration.test_identity_check import _use


async def test_demo_import__one_bad_row_and_one_temporary_number(p41: Province) -> None:
    for _ in _use(p41, FilePopulationRegistry.from_file(POPULATION_FILE)):
        class_id = await new_class(p41)
        accepted = await upload(p41, class_id, demo_workbook())
        progress = await finished(p41, accepted.json()["id"])
        assert (progress["total"], progress["registered"], progress["failed"]) == (7, 6, 1)
        body = await report(p41, progress["id"])
        [failed] = body["failed_rows"]
        assert failed["row"] == 8 and failed["message_zh"].startswith("第8行 【身份证号】")
        assert "校验位" in failed["message_zh"]
        [note] = body["notes"]
        assert note.startswith("第7行") and "临时学籍号" in note
