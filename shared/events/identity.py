"""Events the identity service publishes, and the face-check request checkin publishes to it
(defined here because identity owns the contract; see docs/adr/0006-selfies-for-face-checks.md).

Photos never travel in events (DESIGN.md "Photos"): events carry references — the student, a
photo version and a content hash — and the bytes are fetched from the owner's internal endpoint.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import Field

from shared.events.envelope import EventPayload

FaceOutcomeName = Literal["match", "no_match", "no_face", "several_faces", "poor_image", "no_template"]


class FaceVerificationRequested(EventPayload):
    """checkin → identity: compare the selfie of a check-in with the student's template."""

    event_type = "checkin.face.verification_requested"

    check_in_id: str
    student_id: str
    selfie_url: str = Field(description="checkin's internal, service-authenticated URL of the selfie")
    selfie_sha256: str = Field(pattern=r"^[0-9a-f]{64}$", description="identity refuses other bytes")


class FaceVerified(EventPayload):
    """The result of one face check; a photo without a usable face is a result, not an error."""

    event_type = "identity.face.verified"

    check_in_id: str
    student_id: str
    outcome: FaceOutcomeName
    reason: str | None = Field(None, description="why a photo was unusable, e.g. face_too_small")
    reason_zh: str | None = None
    distance: float | None = Field(None, description="descriptor distance when a face was compared")


class FaceCaptured(EventPayload):
    """The student's face was enrolled; the accepted photo is the student's ID photo."""

    event_type = "identity.face.captured"

    student_id: str
    school_code: str
    photo_version: int
    content_hash: str = Field(description="SHA-256 of the photo bytes, hex")
    possible_proxy: bool = Field(False, description="the face matches another student of the school")


class StudentActivated(EventPayload):
    event_type = "identity.student.activated"

    student_id: str
    school_code: str


class CounselorAssigned(EventPayload):
    """Enrollment should fill ``student.counselor_id`` from this (issue 4, item 1)."""

    event_type = "identity.counselor.assigned"

    student_id: str
    school_code: str
    counselor_account_id: str


class DeviceRegistered(EventPayload):
    """The public key the student's app signs check-ins with (activation or a new phone).
    Public keys are not secret; checkin keeps the live one per student."""

    event_type = "identity.device.registered"

    student_id: str
    school_code: str
    public_key: str = Field(description="raw 32-byte Ed25519 public key, base64")
    registered_at: datetime
