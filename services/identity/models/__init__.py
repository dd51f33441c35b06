"""Identity's tables; one module per area."""

from services.identity.models.account import Account, account_org_columns
from services.identity.models.audit import AuditEntry
from services.identity.models.base import Base
from services.identity.models.device import DeviceKey
from services.identity.models.face import FaceConsent, FaceTemplate, IdPhoto
from services.identity.models.session import RefreshToken

__all__ = [
    "Account",
    "AuditEntry",
    "Base",
    "DeviceKey",
    "FaceConsent",
    "FaceTemplate",
    "IdPhoto",
    "RefreshToken",
    "account_org_columns",
]
