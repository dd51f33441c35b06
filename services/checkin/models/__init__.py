"""Check-in's tables, one module per concern."""

from services.checkin.models.absence import Internship, Leave
from services.checkin.models.base import Base
from services.checkin.models.check_ins import CheckIn, RoundAttendance, Selfie, SelfieSeen
from services.checkin.models.exports import AuditEntry, ExportRequest
from services.checkin.models.leave_limit import SuspensionProposal
from services.checkin.models.misses import Appeal, Miss, MissPrompt
from services.checkin.models.roster import CampusView, CounselorView, DeviceKeyView, StudentView
from services.checkin.models.rounds import Round

__all__ = [
    "Appeal",
    "AuditEntry",
    "Base",
    "CampusView",
    "CheckIn",
    "CounselorView",
    "DeviceKeyView",
    "ExportRequest",
    "Internship",
    "Leave",
    "Miss",
    "MissPrompt",
    "Round",
    "RoundAttendance",
    "Selfie",
    "SelfieSeen",
    "StudentView",
    "SuspensionProposal",
]
