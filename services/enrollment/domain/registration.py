"""Rules of registering a new student (DOMAIN.md "Student record", "Enrollment"), the same for
single entry and for an Excel import: a candidate either becomes a ``Registration`` or a list of
``RuleViolation``s naming the field and the reason."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date
from typing import Literal

from services.enrollment.domain.study_length import EntryRoute, StudyForm, entry_age_and_study_length_problem
from shared.idnumber import InvalidIdNumber, parse_resident_id

IdType = Literal["resident_id", "hk_macao_taiwan", "passport", "none"]
Sex = Literal["M", "F"]

FORMAL_NUMBER_PREFIX = "G"  # 正式学籍号
TEMPORARY_NUMBER_PREFIX = "L"  # 临时学籍号

# Students without any ID ("none") are registered by single entry with guardian evidence and a
# review chain up to the province (built beside this, not by this rule set).
SELF_SERVICE_ID_TYPES: frozenset[str] = frozenset({"resident_id", "hk_macao_taiwan", "passport"})

# 国籍 as ISO 3166-1 alpha-3. A resident ID, an HK/Macao/Taiwan permit and "no ID" (a Chinese
# child without a hukou yet, seed 003 "无身份证号的中国籍学生") all mean Chinese nationality; a
# passport holder's nationality is whatever the passport says.
CHINESE_NATIONALITY = "CHN"
_NATIONALITY = re.compile(r"[A-Z]{3}")
# 民族 as the GB/T 3304 code: 01–56 the 56 ethnic groups, 97 其他, 98 外国血统中国籍人士.
ETHNICITY_CODES: frozenset[str] = frozenset({f"{n:02d}" for n in range(1, 57)} | {"97", "98"})

# HK/Macao/Taiwan permits and passports: letters and digits, as printed.
_FOREIGN_ID = re.compile(r"[A-Z0-9]{5,20}")


def is_registrable_id_type(id_type: IdType) -> bool:
    return id_type in SELF_SERVICE_ID_TYPES


def needs_identity_check(id_type: IdType) -> bool:
    """DOMAIN.md "Enrollment": foreign/HK/Macao/Taiwan IDs get the ID-number dedupe only; the
    population registry (人口信息库) knows resident IDs."""
    return id_type == "resident_id"


def formal_student_number(resident_id: str) -> str:
    """正式学籍号: "G" + the 18-character resident ID, for a passed identity check."""
    return FORMAL_NUMBER_PREFIX + resident_id


def temporary_student_number(student_id: str) -> str:
    """临时学籍号: "L" + the record's UUID in 32 hex digits.

    Unique because the UUID is, and stable because the record keeps its id for life (also across
    provinces), so the number never has to be re-issued; it says nothing about the person. A
    per-school counter would read nicer but needs a contended sequence row per school.
    """
    return TEMPORARY_NUMBER_PREFIX + student_id.replace("-", "").lower()


def resident_id_in_number(student_number: str) -> str | None:
    """The resident ID a formal number is built from (None for temporary numbers)."""
    if student_number.startswith(FORMAL_NUMBER_PREFIX) and len(student_number) == 19:
        return student_number[1:]
    return None


def normalise_foreign_id(raw: str) -> str:
    """A permit or passport number as compared for dedupe: NFKC (full-width → ASCII), upper
    case, without spaces and hyphens people type in."""
    text = unicodedata.normalize("NFKC", raw).upper()
    return re.sub(r"[\s\-]", "", text)


def normalised_id_number(id_type: IdType, raw: str) -> str | None:
    """The number as the records hold it, or None when it is not even well formed (the full
    rules then say why). Lets the duplicate check run before anything else."""
    if id_type == "resident_id":
        try:
            return parse_resident_id(raw).number
        except InvalidIdNumber:
            return None
    if id_type in ("hk_macao_taiwan", "passport"):
        number = normalise_foreign_id(raw)
        return number if _FOREIGN_ID.fullmatch(number) else None
    return None


def names_match(on_record: str, given: str) -> bool:
    """Names as people type them: ignore surrounding and inner spaces and the width of the
    middle dot in minority names (张三 = 张 三, 阿依古丽·买买提 = 阿依古丽•买买提)."""
    return _name_key(on_record) == _name_key(given)


_DOTS = str.maketrans({"•": "·", "．": "·", "・": "·", "‧": "·", "∙": "·"})


def _name_key(name: str) -> str:
    return "".join(name.split()).translate(_DOTS).casefold()


@dataclass(frozen=True)
class RuleViolation:
    """One reason a candidate cannot be registered; ``field`` is the API field name."""

    field: str
    reason_zh: str
    reason_en: str


@dataclass(frozen=True)
class Candidate:
    """What a registrar typed or a template row held, before any rule ran."""

    name: str
    id_type: IdType
    id_number: str
    study_length: float
    study_form: StudyForm
    entry_route: EntryRoute = "junior_high_graduate"
    sex: Sex | None = None
    birth_date: date | None = None
    major_code: str | None = None
    nationality: str | None = None
    ethnicity: str | None = None


@dataclass(frozen=True)
class Registration:
    """A candidate every rule accepted: key data as the record will hold it."""

    name: str
    id_type: IdType
    id_number: str  # normalised: the 18-character resident ID, or the foreign number
    sex: Sex
    birth_date: date
    major_code: str
    study_length: float
    study_form: StudyForm
    nationality: str | None = None
    ethnicity: str | None = None


@dataclass(frozen=True)
class SchoolOffer:
    """What the class and the school offer: entry year, the class's major, the majors of the
    catalogue and those the school filed for that intake year (招生资质, school_major)."""

    entry_year: int
    class_major: str
    known_majors: Collection[str]
    qualified_majors: Collection[str]


_NAME = re.compile(r"^[^\x00-\x1f\x7f0-9]{1,50}$")


def validate_registration(
    candidate: Candidate, offer: SchoolOffer, *, today: date
) -> Registration | list[RuleViolation]:
    """All registration rules at once, so a row report lists every problem of the row."""
    problems: list[RuleViolation] = []
    name = " ".join(candidate.name.split())
    if not _NAME.fullmatch(name):
        problems.append(
            RuleViolation(
                "name", "姓名格式不正确（1–50个字符，不含数字）", "name must be 1–50 characters, no digits"
            )
        )
    sex, birth = candidate.sex, candidate.birth_date
    id_number = candidate.id_number
    if candidate.id_type == "resident_id":
        try:
            resident = parse_resident_id(candidate.id_number, today=today)
        except InvalidIdNumber as exc:
            problems.append(RuleViolation("id_number", exc.message_zh, exc.message_en))
        else:
            id_number = resident.number
            problems += _declared_matches_id(resident.birth_date, resident.sex, birth, sex)
            # Sex and birth date come from the ID, never from the form (DOMAIN.md).
            sex, birth = resident.sex, resident.birth_date
    elif candidate.id_type in ("hk_macao_taiwan", "passport"):
        id_number = normalise_foreign_id(candidate.id_number)
        if not _FOREIGN_ID.fullmatch(id_number):
            problems.append(
                RuleViolation(
                    "id_number",
                    "证件号码格式不正确（5–20位字母或数字）",
                    "ID number must be 5–20 letters or digits",
                )
            )
        if birth is None:
            problems.append(
                RuleViolation(
                    "birth_date", "非居民身份证学生须填写出生日期", "birth_date is required for this ID type"
                )
            )
        elif not date(1900, 1, 1) <= birth <= today:
            problems.append(
                RuleViolation("birth_date", "出生日期不在合理范围内", "birth_date is not a plausible date")
            )
        if sex is None:
            problems.append(
                RuleViolation("sex", "非居民身份证学生须填写性别", "sex is required for this ID type")
            )
    else:
        problems.append(
            RuleViolation(
                "id_type",
                "无证件学生须单个录入并上传监护人身份证件和佐证材料",
                "students without an ID are registered one by one with guardian evidence",
            )
        )
    major = candidate.major_code or offer.class_major
    birth_known = not any(p.field in ("birth_date", "id_number") for p in problems)
    problems += course_violations(
        major_code=major,
        offer=offer,
        birth=birth if birth_known else None,
        route=candidate.entry_route,
        study_length=candidate.study_length,
        study_form=candidate.study_form,
    )
    nationality = nationality_of(candidate.id_type, candidate.nationality)
    problems += nationality_violations(candidate.id_type, nationality, candidate.ethnicity)
    if problems or sex is None or birth is None:
        return problems
    return Registration(
        name=name,
        id_type=candidate.id_type,
        id_number=id_number,
        sex=sex,
        birth_date=birth,
        major_code=major,
        study_length=candidate.study_length,
        study_form=candidate.study_form,
        nationality=nationality,
        ethnicity=candidate.ethnicity,
    )


def nationality_of(id_type: IdType, given: str | None) -> str | None:
    """The nationality the record holds: as given (upper case), else Chinese for every ID type
    but a passport (unknown until given)."""
    if given:
        return given.strip().upper()
    return None if id_type == "passport" else CHINESE_NATIONALITY


def nationality_violations(
    id_type: IdType, nationality: str | None, ethnicity: str | None
) -> list[RuleViolation]:
    problems = []
    if nationality is not None and not _NATIONALITY.fullmatch(nationality):
        problems.append(
            RuleViolation(
                "nationality",
                "国籍应为三位字母代码（如 CHN）",
                "nationality must be an ISO 3166 alpha-3 code",
            )
        )
    elif nationality is not None and id_type != "passport" and nationality != CHINESE_NATIONALITY:
        problems.append(
            RuleViolation(
                "nationality",
                "持居民身份证、港澳台居民证件或无证件的学生国籍应为中国（CHN）",
                "a resident ID, an HK/Macao/Taiwan permit or no ID means a Chinese national (CHN)",
            )
        )
    if ethnicity is not None and ethnicity not in ETHNICITY_CODES:
        problems.append(
            RuleViolation(
                "ethnicity", "民族代码不正确（GB/T 3304 两位代码）", "ethnicity must be a GB/T 3304 code"
            )
        )
    return problems


def course_violations(
    *,
    major_code: str,
    offer: SchoolOffer,
    birth: date | None,
    route: EntryRoute,
    study_length: float,
    study_form: StudyForm,
) -> list[RuleViolation]:
    """The school-data rules of a new student, whatever the ID type (a student without ID too):
    the major is in the catalogue and qualified for the intake year, and the entry age fits the
    route and the study length (``study_length``). ``birth`` None skips the age rule (the birth
    date itself is wrong, and that is reported on its own)."""
    problems: list[RuleViolation] = []
    if major_code not in offer.known_majors:
        problems.append(
            RuleViolation(
                "major_code", f"专业代码 {major_code} 不在中职专业目录中", f"unknown major {major_code}"
            )
        )
    elif major_code not in offer.qualified_majors:
        problems.append(
            RuleViolation(
                "major_code",
                f"本校未备案{offer.entry_year}年招收专业 {major_code}（无招生资质）",
                f"the school has no enrolment qualification for major {major_code} in {offer.entry_year}",
            )
        )
    if birth is not None:
        age_problem = entry_age_and_study_length_problem(
            birth=birth,
            entry_year=offer.entry_year,
            route=route,
            study_length=study_length,
            study_form=study_form,
        )
        if age_problem is not None:
            problems.append(RuleViolation("study_length", age_problem.reason_zh, age_problem.reason_en))
    return problems


def _declared_matches_id(
    on_id_birth: date, on_id_sex: Sex, declared_birth: date | None, declared_sex: Sex | None
) -> list[RuleViolation]:
    """A birth date or sex typed beside a resident ID must agree with the ID (GB 11643)."""
    problems = []
    if declared_birth is not None and declared_birth != on_id_birth:
        problems.append(
            RuleViolation(
                "birth_date",
                f"出生日期与身份证号码不符（身份证号码中为{on_id_birth:%Y-%m-%d}）",
                "birth_date differs from the birth date in the ID number",
            )
        )
    if declared_sex is not None and declared_sex != on_id_sex:
        problems.append(
            RuleViolation(
                "sex", "性别与身份证号码不符（第17位奇数为男、偶数为女）", "sex differs from the ID number"
            )
        )
    return problems
