"""A province that is not in the partner registry is refused by name, and becomes a partner by
configuration alone: its entry in the registry, no code and no restart."""

from __future__ import annotations

from collections.abc import Callable
from uuid import UUID

import aio_pika
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from deploy.local.layout import Deployment
from shared.bus.consumer import DEAD_REASON_HEADER
from shared.signing import Signer, key_id_of
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


async def test_unconfigured_province__dead_lettered_with_the_reason_until_configured(
    make_deployment: MakeDeployment, make_receiver: Callable[[Deployment, str], Receiver]
) -> None:
    deployment = make_deployment(("41", "37"))
    await declare_province(deployment, "41")
    henan = make_receiver(deployment, "41")
    await henan.start()
    key_37 = deployment.keys_dir("37") / "signing.pem"
    shandong = Signer.from_key_file("37", key_37)
    stranger_key = Ed25519PrivateKey.generate()
    guangdong_unlisted = Signer("44", key_id_of("44", stranger_key), stranger_key)
    connection = await aio_pika.connect(amqp_url(deployment, "41"))
    async with connection:
        channel = await connection.channel()
        from_37 = signed_event(shandong, "41", 1)
        from_44 = signed_event(guangdong_unlisted, "41", 2)
        for envelope, body, headers in (from_44, from_37):
            await publish_signed(channel, envelope, body, headers, to="41", outgoing=False)

        dead = await dead_letter(channel, henan.queue_name, str(from_44[0].id))
        assert dead.headers is not None
        assert dead.headers[DEAD_REASON_HEADER] == (
            "untrusted inter-province event: province 44 is not a configured partner province"
        )
        applied = await eventually(henan.effects)
        assert [e.event_id for e in applied] == [from_37[0].id]

        # 44 joins: the operator adds it to the deployment and provisions. 41's running
        # consumer reads the changed registry; nothing restarts.
        deployment = make_deployment(("41", "37", "44"))
        guangdong = Signer.from_key_file("44", deployment.keys_dir("44") / "signing.pem")
        joined = signed_event(guangdong, "41", 3)
        await publish_signed(channel, *joined, to="41", outgoing=False)

        async def both_applied() -> list[UUID | None] | None:
            found = [e.event_id for e in await henan.effects()]
            return found if len(found) == 2 else None

        assert await eventually(both_applied) == [from_37[0].id, joined[0].id]
        assert await henan.inbox_count() == 2
