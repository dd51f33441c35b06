"""Rules of registering a new student (DOMAIN.md "Student record", "Enrollment")."""

from __future__ import annotations

from typing import Literal

IdType = Literal["resident_id", "hk_macao_taiwan", "passport", "none"]

FORMAL_NUMBER_PREFIX = "G"  # 正式学籍号
TEMPORARY_NUMBER_PREFIX = "L"  # 临时学籍号 (issue 3: failed identity check, problem records)

# Single entry for students without a resident ID needs guardian evidence and a review chain up
# to the province; foreign/HK/Macao/Taiwan IDs get a national dedupe only. Neither is built yet.
SELF_SERVICE_ID_TYPES: frozenset[str] = frozenset({"resident_id"})


def is_registrable_id_type(id_type: IdType) -> bool:
    return id_type in SELF_SERVICE_ID_TYPES


def formal_student_number(resident_id: str) -> str:
    """The formal number is "G" + the 18-character ID number. Until the population-registry
    identity check exists (issue 3) every valid resident ID gets a formal number."""
    return FORMAL_NUMBER_PREFIX + resident_id


def resident_id_in_number(student_number: str) -> str | None:
    """The resident ID a formal number is built from (None for temporary numbers)."""
    if student_number.startswith(FORMAL_NUMBER_PREFIX) and len(student_number) == 19:
        return student_number[1:]
    return None


def names_match(on_record: str, given: str) -> bool:
    """Names as people type them: ignore surrounding and inner spaces and the width of the
    middle dot in minority names (张三 = 张 三, 阿依古丽·买买提 = 阿依古丽•买买提)."""
    return _name_key(on_record) == _name_key(given)


_DOTS = str.maketrans({"•": "·", "．": "·", "・": "·", "‧": "·", "∙": "·"})


def _name_key(name: str) -> str:
    return "".join(name.split()).translate(_DOTS).casefold()
