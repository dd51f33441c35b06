"""Real-name activation of a student's account (issue 4, item 2; DOMAIN.md "Registration rounds":
"A student activates the app account (real-name check, confirm record, face capture, ID photo)";
"Many students may share one phone (different phone numbers)").
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

MAX_CODE_ATTEMPTS = 5
_MOBILE = re.compile(r"^1[3-9][0-9]{9}$")  # mainland mobile numbers (MIIT numbering plan)


@dataclass(frozen=True)
class RecordIdentity:
    """What identity holds of the student's record (from enrollment's events)."""

    name: str
    id_number_masked: str
    id_number_digest: str | None  # keyed hash of the full number, when enrollment sends it


@dataclass(frozen=True)
class ClaimedIdentity:
    name: str
    id_number_masked: str
    id_number_digest: str | None  # None when this province has no digest key


def _name(value: str) -> str:
    # Full-width and compatibility forms are folded; the middle dot of minority names has
    # several code points in the wild (·, •, ‧, ・).
    folded = unicodedata.normalize("NFKC", value).strip()
    return re.sub(r"[·•‧・.]", "·", folded)


def claim_matches_record(record: RecordIdentity, claim: ClaimedIdentity) -> bool:
    """The student's claim names this record: same name and same masked ID number, and — when
    the record carries a digest — the same full number. The masked number alone shows only 8
    of 18 characters, so without a digest a classmate knowing one's name could still guess:
    enrollment must fill the digest (reported on issue 4)."""
    if _name(record.name) != _name(claim.name) or record.id_number_masked != claim.id_number_masked:
        return False
    if record.id_number_digest is None:
        return True
    return claim.id_number_digest == record.id_number_digest


def is_mobile_number(phone: str) -> bool:
    return bool(_MOBILE.fullmatch(phone))


def phone_is_free_for(phone_owner_account: str | None, account: str) -> bool:
    """One phone number, one student (a shared device is fine; a shared number is not)."""
    return phone_owner_account is None or phone_owner_account == account


def code_may_be_tried(attempts_so_far: int) -> bool:
    """Six digits give a 1 in 10^6 guess; five tries per code keep that at 5 in 10^6."""
    return attempts_so_far < MAX_CODE_ATTEMPTS
