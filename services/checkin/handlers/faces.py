"""Identity's face results and device keys reach check-in here (issue 5, item 3)."""

from __future__ import annotations

import base64
import binascii
import logging

from sqlalchemy.dialects.postgresql import insert

from services.checkin.deciding import record_face_result
from services.checkin.handlers.registry import subscriptions
from services.checkin.models import DeviceKeyView
from shared.bus.consumer import RejectedMessage
from shared.bus.unit_of_work import UnitOfWork
from shared.events import EventEnvelope
from shared.events.identity import DeviceRegistered, FaceVerified

log = logging.getLogger(__name__)


@subscriptions.on(FaceVerified)
async def when_face_verified_decide_check_in(
    event: FaceVerified, meta: EventEnvelope, uow: UnitOfWork
) -> None:
    await record_face_result(uow, event)


@subscriptions.on(DeviceRegistered)
async def when_device_registered_keep_key(
    event: DeviceRegistered, meta: EventEnvelope, uow: UnitOfWork
) -> None:
    """The student's live key: a newer registration (new phone) replaces the key, an older one
    arriving late does not."""
    try:
        raw = base64.b64decode(event.public_key, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise RejectedMessage("public_key is not base64") from exc
    if len(raw) != 32:
        raise RejectedMessage("public_key is not a raw 32-byte Ed25519 key")
    values = {"student_id": event.student_id, "public_key": raw, "registered_at": event.registered_at}
    statement = insert(DeviceKeyView).values(**values)
    await uow.session.execute(
        statement.on_conflict_do_update(
            index_elements=["student_id"],
            set_={"public_key": raw, "registered_at": event.registered_at},
            where=DeviceKeyView.registered_at <= event.registered_at,
        )
    )
