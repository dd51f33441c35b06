"""The result of a check-in (DOMAIN.md "Registration rounds and routine verification"; seed 000
签到结果): 正常 normal, 正在实习 on internship, 不在校区 off campus, 疑似作弊 suspected cheating —
each with reason codes a registrar and a student can read in Chinese.

Two steps, because the face check answers later than the position: ``position_verdict`` at
accept time (what the position alone gives), ``decide`` once every signal is known (at once when
no face check is needed, else when identity's result arrives).

Why a fix whose accuracy circle straddles the boundary counts as inside: the phone itself says
it cannot tell which side the student is on, and campus buildings stand next to the fence —
indoor fixes of 20–100 m are normal there. Calling such a student off campus would punish the
honest student for the phone's error; a cheater gains nothing from it, since a forged position
can as well be forged well inside. The benefit of the doubt ends where the fix stops saying
anything: with an accuracy worse than ``MAX_TRUSTED_ACCURACY_M`` the centre of the fix decides
(an app could otherwise claim a 50 km circle and straddle every campus in the province).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from services.checkin.domain.cheating_signals import Signals
from services.checkin.domain.geofence import Placement, Where
from services.checkin.domain.reasons import MAX_TRUSTED_ACCURACY_M, Reason


class CheckInResult(StrEnum):
    NORMAL = "normal"
    INTERNSHIP = "internship"
    OFF_CAMPUS = "off_campus"
    SUSPECTED_CHEATING = "suspected_cheating"

    @property
    def text(self) -> str:
        return _RESULT_TEXT[self]

    @property
    def final(self) -> bool:
        """Normal and on-internship stand; the others are replaced by a new attempt."""
        return self in (CheckInResult.NORMAL, CheckInResult.INTERNSHIP)


_RESULT_TEXT = {
    CheckInResult.NORMAL: "正常",
    CheckInResult.INTERNSHIP: "正在实习",
    CheckInResult.OFF_CAMPUS: "不在校区",
    CheckInResult.SUSPECTED_CHEATING: "疑似作弊",
}


@dataclass(frozen=True)
class PositionVerdict:
    """What the position alone gives: normal, internship or off campus."""

    result: CheckInResult
    reasons: tuple[Reason, ...] = ()


def position_verdict(placement: Placement, accuracy_m: float, on_internship: bool) -> PositionVerdict:
    """Inside (or straddling with a trustworthy accuracy) is normal; outside is internship when
    a filed internship covers the day, else off campus."""
    notes: tuple[Reason, ...] = ()
    inside = placement.where is Where.INSIDE
    if placement.where is Where.STRADDLES:
        if accuracy_m <= MAX_TRUSTED_ACCURACY_M or placement.centre_inside:
            inside = True
            notes = (Reason.BOUNDARY_UNCERTAIN,)
        else:
            notes = (Reason.ACCURACY_TOO_COARSE,)
    if inside:
        return PositionVerdict(CheckInResult.NORMAL, notes)
    if on_internship:
        return PositionVerdict(CheckInResult.INTERNSHIP, (Reason.ON_INTERNSHIP, *notes))
    return PositionVerdict(CheckInResult.OFF_CAMPUS, (Reason.OUTSIDE_CAMPUS, *notes))


_FACE_FAILURES = {
    "no_match": Reason.FACE_NO_MATCH,
    "no_face": Reason.FACE_NO_FACE,
    "several_faces": Reason.FACE_SEVERAL_FACES,
    "poor_image": Reason.FACE_POOR_IMAGE,
}


@dataclass(frozen=True)
class Decision:
    result: CheckInResult
    reasons: tuple[Reason, ...]

    @property
    def final(self) -> bool:
        return self.result.final


def decide(position: PositionVerdict, signals: Signals, face_outcome: str | None) -> Decision:
    """The result once every signal is in. ``face_outcome`` is identity's outcome (match,
    no_match, no_face, several_faces, poor_image, no_template) or None when no face was checked.

    - Any cheating sign (emulator, mock location, replayed selfie, impossible speed) or a face
      that is not the student's makes it suspected cheating, whatever the position says.
    - A photo without a usable face counts like a mismatch: a normal result needs the face
      that was asked for, and the student can simply retake it (the result is replaceable).
    - One device checking in many students is legitimate when each face is its owner's (DOMAIN:
      many students may share one phone); with a face that is not, the reason says so.
    - No enrolled template is not the student's doing at check-in: the position and device
      decide, and the reason notes that the face was not compared.
    """
    cheating: list[Reason] = list(signals.cheating)
    notes: list[Reason] = list(position.reasons)
    failure = _FACE_FAILURES.get(face_outcome or "")
    if failure is not None:
        cheating.append(failure)
        if signals.shared_device:
            cheating.append(Reason.SHARED_DEVICE)
    elif face_outcome == "no_template":
        notes.append(Reason.FACE_NOT_ENROLLED)
    if cheating:
        return Decision(CheckInResult.SUSPECTED_CHEATING, (*cheating, *notes))
    return Decision(position.result, tuple(notes))
