"""Short-lived phone-code challenges in Redis (``<prefix>phone-code:<ticket>``): the account,
the phone, a hash of the code and the attempts so far. Redis is right here: a lost challenge
only means asking for a new code."""

from __future__ import annotations

import hashlib
import json
import secrets
from dataclasses import dataclass

import redis.asyncio as aioredis

from services.identity.domain.activation import code_may_be_tried

CODE_SECONDS = 600


@dataclass(frozen=True)
class Challenge:
    account_id: str
    phone: str
    purpose: str  # "activation" | "new_device"


def _digest(ticket: str, code: str) -> str:
    return hashlib.sha256(f"{ticket}:{code}".encode()).hexdigest()


class PhoneCodes:
    def __init__(self, redis: aioredis.Redis, prefix: str) -> None:
        self._redis = redis
        self._prefix = f"{prefix}phone-code:"

    async def open(self, challenge: Challenge, code: str) -> str:
        ticket = secrets.token_urlsafe(24)
        value = {**challenge.__dict__, "code": _digest(ticket, code), "attempts": 0}
        await self._redis.set(self._prefix + ticket, json.dumps(value), ex=CODE_SECONDS)
        return ticket

    async def redeem(self, ticket: str, code: str, purpose: str) -> Challenge | None:
        """The challenge when the code is right (it is then used up); None otherwise, counting
        the attempt and forgetting the challenge after too many."""
        key = self._prefix + ticket
        raw = await self._redis.get(key)
        if raw is None:
            return None
        value = json.loads(raw)
        if value["purpose"] != purpose or not code_may_be_tried(int(value["attempts"])):
            await self._redis.delete(key)
            return None
        if not secrets.compare_digest(value["code"], _digest(ticket, code)):
            value["attempts"] = int(value["attempts"]) + 1
            await self._redis.set(key, json.dumps(value), keepttl=True)
            return None
        if not await self._redis.delete(key):
            return None  # redeemed concurrently
        return Challenge(value["account_id"], value["phone"], value["purpose"])
