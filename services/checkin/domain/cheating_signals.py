"""Signs that a check-in is not what it claims (DOMAIN.md 疑似作弊; issue 5 item 3).

Two kinds:

- **cheating signs** make the result suspected cheating by themselves: an emulator, a mock
  location, a selfie whose bytes were sent before (by anyone — a real camera never produces the
  same JPEG twice), and an impossible speed between two of the student's attempts;
- **suspicions** only ask for a face check, whatever the round's face policy: a rooted phone,
  and one device checking in many students of the same round within minutes. Many students
  sharing a phone is legitimate (DOMAIN: "the face must be the student's own"), so the face
  decides; a mismatch then says ``shared_device``.

Why rooted alone is not cheating: rooting is common among ordinary Android users in China and
proves nothing about the position; it does make a forged position easy to hide (mock-location
flags can be suppressed on a rooted phone), so the student's face is checked.

The speed rule ignores jumps shorter than ``MIN_JUMP_M`` after taking off both fixes' accuracy
radii: GPS jitter and a fix moving between two Wi-Fi positions are not travel.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from services.checkin.domain.geofence import distance_m
from services.checkin.domain.reasons import Reason

MAX_SPEED_KMH = 300.0  # faster than any car or bus; a high-speed train tops out around 350
MIN_JUMP_M = 1000.0
SHARED_DEVICE_STUDENTS = 3  # distinct students on one device in one round …
SHARED_DEVICE_WINDOW = timedelta(minutes=10)  # … within this long


@dataclass(frozen=True)
class Fix:
    """One attempt's position (WGS-84), how far off it may be, and when the server got it."""

    latitude: float
    longitude: float
    accuracy_m: float
    at: datetime


def impossible_speed(previous: Fix | None, current: Fix) -> bool:
    """The student would have had to travel faster than ``MAX_SPEED_KMH`` between the two
    attempts (server times: the phone's clock is the phone's to set)."""
    if previous is None:
        return False
    jump = distance_m(previous.latitude, previous.longitude, current.latitude, current.longitude)
    jump -= previous.accuracy_m + current.accuracy_m
    if jump < MIN_JUMP_M:
        return False
    seconds = max((current.at - previous.at).total_seconds(), 1.0)
    return jump / seconds * 3.6 > MAX_SPEED_KMH


def shared_device(other_students_on_device: int) -> bool:
    """With this attempt, ``SHARED_DEVICE_STUDENTS`` or more distinct students checked in to the
    round from one device within ``SHARED_DEVICE_WINDOW``."""
    return other_students_on_device + 1 >= SHARED_DEVICE_STUDENTS


@dataclass(frozen=True)
class Signals:
    cheating: tuple[Reason, ...] = ()
    shared_device: bool = False
    rooted: bool = False

    @property
    def suspicious(self) -> bool:
        """Any sign or suspicion: the face is checked whatever the round's policy."""
        return bool(self.cheating) or self.shared_device or self.rooted


def signals_of(
    *,
    emulator: bool,
    mock_location: bool,
    rooted: bool,
    selfie_seen_before: bool,
    previous: Fix | None,
    current: Fix,
    other_students_on_device: int,
) -> Signals:
    cheating: list[Reason] = []
    if emulator:
        cheating.append(Reason.EMULATOR)
    if mock_location:
        cheating.append(Reason.MOCK_LOCATION)
    if selfie_seen_before:
        cheating.append(Reason.SELFIE_REPLAYED)
    if impossible_speed(previous, current):
        cheating.append(Reason.IMPOSSIBLE_SPEED)
    return Signals(tuple(cheating), shared_device(other_students_on_device), rooted)
