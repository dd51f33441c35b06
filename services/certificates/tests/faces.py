"""The certificate face the printing tests start from (unit wording, integration rendering):
a fictional 2027 graduate named 王𬌗, whose second character is in CJK Extension E, the case
that breaks fonts without full coverage. A test varies it with ``dataclasses.replace``."""

from __future__ import annotations

from datetime import date

from services.certificates.printing.face import CertificateFace

FACE = CertificateFace(
    kind="graduation",
    number="2027-410102-4141010001-0000123-45",
    name="王𬌗",
    sex="M",
    birth_date=date(2009, 5, 1),
    id_number="41010220090501123X",
    study_start=date(2024, 9, 1),
    study_end=date(2027, 6, 30),
    major_name="计算机应用",
    skill_direction="网络技术",
    study_length=3,
    study_form="full_time",
    outcome="graduated",
    school_name="郑州市信息技术中等职业学校",
    issued_on=date(2027, 6, 11),
    issuer="河南省教育厅",
)
