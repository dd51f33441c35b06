"""What a certificate says on paper (seed 004 art. 17: 姓名 性别 出生日期 身份证号 学习起止年月
专业（专业技能方向） 学制 学习形式 照片 毕（结）业 学校名称 日期 编号), how it is laid out on the
province's security paper, and the Chinese wording of each field.

Every printed string is made here by pure functions, so the Typst template only places text: the
wording is tested as plain values and the template holds no rules.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal

from services.certificates.domain.certificate_number import InvalidCertificateNumber, format_grouped
from services.certificates.printing.coverage import describe_character, unprintable_characters
from shared.events.certificates import GraduationOutcome
from shared.events.common import STUDENT_STATUS_LABELS
from shared.idnumber import mask_id_number

CertificateKind = Literal["graduation", "education_certificate"]
StudyForm = Literal["full_time", "part_time"]
Sex = Literal["M", "F"]
PhotoMode = Literal["id_photo", "empty_frame"]

# The offset lines the print up with pre-printed paper; a printer's feed is off by a few
# millimetres, never by centimetres: a larger value is a typo that would print off the sheet.
MAX_OFFSET_MM = 20.0

_DIGITS = "零一二三四五六七八九"


@dataclass(frozen=True)
class CertificateFace:
    kind: CertificateKind
    number: str
    name: str
    sex: Sex | None
    birth_date: date | None
    id_number: str
    study_start: date
    study_end: date
    major_name: str
    skill_direction: str | None
    study_length: float
    study_form: StudyForm
    outcome: GraduationOutcome
    school_name: str
    issued_on: date
    issuer: str

    def __post_init__(self) -> None:
        if self.study_end < self.study_start:
            raise ValueError("study_end is before study_start")
        study_length_in_words(self.study_length)  # refuses a length that has no wording
        refuse_unprintable_text(self)


# The fields printed as given; every other printed string is this module's fixed wording, which
# the font coverage test checks once.
PRINTED_AS_GIVEN = ("name", "id_number", "major_name", "skill_direction", "school_name", "issuer", "number")


def refuse_unprintable_text(face: CertificateFace) -> None:
    """A face the certificate fonts cannot print is refused here, before a number is spent or a
    print chunk fails on it (coverage.py); the message names the field and the characters."""
    for field in PRINTED_AS_GIVEN:
        text = getattr(face, field)
        missing = unprintable_characters(text) if text else []
        if missing:
            characters = ", ".join(describe_character(c) for c in missing)
            raise ValueError(f"{field} has characters the certificate fonts cannot print: {characters}")


@dataclass(frozen=True)
class PrintLayout:
    """A province's print settings. ``draft`` stays true until the certificate is issued."""

    offset_x_mm: float = 0.0
    offset_y_mm: float = 0.0
    draft: bool = True
    photo_mode: PhotoMode = "id_photo"

    def __post_init__(self) -> None:
        if abs(self.offset_x_mm) > MAX_OFFSET_MM or abs(self.offset_y_mm) > MAX_OFFSET_MM:
            raise ValueError(f"print offsets are limited to ±{MAX_OFFSET_MM:g} mm")


@dataclass(frozen=True)
class RenderItem:
    face: CertificateFace
    qr_text: str
    photo: bytes | None = None


@dataclass(frozen=True)
class GraduateListRow:
    """One line of the school's graduate list (art. 18). The ID number is given in full and
    printed masked: the list is kept in a school archive, not handed to the graduate."""

    name: str
    sex: Sex | None
    id_number: str
    major_name: str
    skill_direction: str | None
    outcome: GraduationOutcome
    certificate_number: str


def chinese_year_month(d: date) -> str:
    """学习起止年月 prints year and month only: 2027年6月."""
    return f"{d.year}年{d.month}月"


def chinese_date(d: date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


def study_period(start: date, end: date) -> str:
    return f"{chinese_year_month(start)}至{chinese_year_month(end)}"


def study_length_in_words(years: float) -> str:
    """学制 in words: 3 → 三年, 2.5 → 两年半, 0.5 → 半年. A count of years reads 两, not 二
    (两年, 两年半). Only whole and half years exist in a 中职 plan; anything else is refused."""
    halves = years * 2
    if halves != int(halves) or not 1 <= halves <= 19:
        raise ValueError(f"study length {years!r} is not a whole or half number of years from 0.5 to 9.5")
    whole, half = divmod(int(halves), 2)
    if whole == 0:
        return "半年"
    words = "两" if whole == 2 else _DIGITS[whole]
    return f"{words}年半" if half else f"{words}年"


def sex_in_chinese(sex: Sex | None) -> str:
    # A record without a sex (rare: documents being corrected) prints a dash, never a guess.
    return {"M": "男", "F": "女", None: "—"}[sex]


def study_form_in_chinese(form: StudyForm) -> str:
    return {"full_time": "全日制", "part_time": "非全日制"}[form]


def outcome_in_chinese(outcome: GraduationOutcome) -> str:
    # The outcomes are enrollment's status names, so the registrars' words for them are the printed ones.
    return STUDENT_STATUS_LABELS[outcome]


def major_with_direction(major_name: str, skill_direction: str | None) -> str:
    """专业（专业技能方向）: the direction in full-width brackets when there is one."""
    return f"{major_name}（{skill_direction}）" if skill_direction else major_name


def certificate_title(kind: CertificateKind, outcome: GraduationOutcome) -> str:
    """The heading: a lost certificate is replaced by a 学历证明书 (art. 19), which states the
    same outcome; otherwise the paper is named after the outcome (毕业/结业/肄业证书)."""
    if kind == "education_certificate":
        return "学历证明书"
    return f"{outcome_in_chinese(outcome)}证书"


def certificate_statement(kind: CertificateKind, outcome: GraduationOutcome) -> str:
    """The sentence under the fields, worded per outcome; a 学历证明书 adds that it has the same
    effect as the lost certificate (art. 19)."""
    body = {
        "graduated": "修完中等职业学校教学计划规定的全部课程，成绩合格，准予毕业。",
        "completed": "学完中等职业学校教学计划规定的全部课程，部分课程成绩不合格，准予结业。",
        "left_without_completing": "未修完中等职业学校教学计划规定的全部课程，准予肄业。",
    }[outcome]
    if kind == "education_certificate":
        return f"兹证明该生在本校{body}原证书遗失，特发此证明书，与原证书具有同等效力。"
    return f"该生在本校{body}"


def certificate_fields(face: CertificateFace) -> dict[str, str]:
    """Every printed string of one certificate, keyed as the template reads them."""
    return {
        "title": certificate_title(face.kind, face.outcome),
        "name": face.name,
        "sex": sex_in_chinese(face.sex),
        "birth_date": chinese_date(face.birth_date) if face.birth_date else "—",
        "id_number": face.id_number,
        "study_period": study_period(face.study_start, face.study_end),
        "major": major_with_direction(face.major_name, face.skill_direction),
        "study_length": study_length_in_words(face.study_length),
        "study_form": study_form_in_chinese(face.study_form),
        "outcome": outcome_in_chinese(face.outcome),
        "statement": certificate_statement(face.kind, face.outcome),
        "school_name": face.school_name,
        "issuer": face.issuer,
        "issued_on": chinese_date(face.issued_on),
        "number": printed_number(face.number),
    }


GRADUATE_LIST_HEADER = ("序号", "姓名", "性别", "身份证号", "专业（专业技能方向）", "毕（结）业", "证书编号")


def graduate_list_title(school_name: str, year: int) -> str:
    return f"{school_name}{year}年中等职业学校毕业生名单"


def printed_number(number: str) -> str:
    """A certificate number as a person reads it off paper and types it back: in the groups of
    its parts (verification accepts it grouped or not); anything else, such as a draft's 未编号,
    as given."""
    try:
        return format_grouped(number)
    except InvalidCertificateNumber:
        return number


def graduate_list_cells(position: int, row: GraduateListRow) -> list[str]:
    """One row of the graduate list as printed and exported, in GRADUATE_LIST_HEADER order."""
    return [
        str(position),
        row.name,
        sex_in_chinese(row.sex),
        mask_id_number(row.id_number),
        major_with_direction(row.major_name, row.skill_direction),
        outcome_in_chinese(row.outcome),
        printed_number(row.certificate_number),
    ]
