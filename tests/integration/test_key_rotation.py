"""A province rotates its signing key with an overlap: events signed with the old key are
accepted until the overlap ends, the new key from the moment it is published, and the old one
is refused by name afterwards. The sender's signer and the partner's trust store both pick the
change up from their files; nothing restarts."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from uuid import UUID

import aio_pika
import pytest

from deploy.local.layout import Deployment
from deploy.local.rotate_key import rotate_signing_key
from shared.bus.consumer import DEAD_REASON_HEADER
from shared.partner_registry import read_registry
from shared.signing import Signer, load_private_key
from shared.testing import eventually
from tests.integration.conftest import MakeDeployment
from tests.integration.provinces import (
    Receiver,
    amqp_url,
    dead_letter,
    declare_province,
    publish_signed,
    signed_event,
)

pytestmark = pytest.mark.integration

# Long enough that events published right after the rotation are verified inside it on a
# loaded machine; the test waits it out once.
OVERLAP = timedelta(seconds=8)


async def test_key_rotation__old_key_accepted_during_overlap_then_dead_lettered(
    make_deployment: MakeDeployment, make_receiver: Callable[[Deployment, str], Receiver]
) -> None:
    deployment = make_deployment(("41", "37", "44"))
    await declare_province(deployment, "37")
    shandong = make_receiver(deployment, "37")
    await shandong.start()
    signing_file = deployment.keys_dir("41") / "signing.pem"
    henan = Signer.from_key_file("41", signing_file)
    henan.check_every = 0  # the service default looks every few seconds; the test need not wait
    old = Signer("41", henan.key_id, load_private_key(signing_file))
    in_flight = signed_event(henan, "37", 1)  # signed before the rotation, delivered after it

    rotation = rotate_signing_key(deployment, "41", overlap=OVERLAP)

    assert rotation.old_key_id == old.key_id != rotation.new_key_id
    for partner in ("37", "44"):
        entry = read_registry(deployment.partners_file(partner)).partner("41")
        assert entry is not None
        windows = {k.key_id: (k.not_before, k.not_after) for k in entry.keys}
        assert windows[old.key_id][1] == rotation.old_key_valid_until
        assert windows[rotation.new_key_id] == (rotation.old_key_valid_until - OVERLAP, None)
    during = [in_flight, signed_event(henan, "37", 2), signed_event(old, "37", 3)]
    assert during[1][2]["x-xueji-key-id"] == rotation.new_key_id, "the signer reads the new key file"
    connection = await aio_pika.connect(amqp_url(deployment, "37"))
    async with connection:
        channel = await connection.channel()
        for event in during:
            await publish_signed(channel, *event, to="37", outgoing=False)

        async def all_applied() -> set[UUID | None] | None:
            found = {e.event_id for e in await shandong.effects()}
            return found if len(found) == len(during) else None

        assert await eventually(all_applied) == {event[0].id for event in during}

        # Past the overlap (the clock decides, not a fixed sleep).
        overlap_left = rotation.old_key_valid_until - datetime.now(UTC)
        await asyncio.sleep(max(0.0, overlap_left.total_seconds()) + 0.1)
        assert datetime.now(UTC) > rotation.old_key_valid_until
        late_old = signed_event(old, "37", 4)
        late_new = signed_event(henan, "37", 5)
        for event in (late_old, late_new):
            await publish_signed(channel, *event, to="37", outgoing=False)

        dead = await dead_letter(channel, shandong.queue_name, str(late_old[0].id))
        reason = str((dead.headers or {})[DEAD_REASON_HEADER])
        assert f"key {old.key_id!r} of province 41 expired at" in reason, reason

        async def new_key_still_applied() -> bool:
            return late_new[0].id in {e.event_id for e in await shandong.effects()}

        await eventually(new_key_still_applied)
        assert len(await shandong.effects()) == len(during) + 1
