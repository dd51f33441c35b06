"""Which check-ins get a face check (issue 5): a round checks "every" face, or a "sampled"
fraction plus every suspicious attempt.

The sample is a hash of the check-in's id, not a random draw: the same attempt is always in or
out of the sample (a retried handler or an auditor recomputing it gets the same answer), and
the student cannot steer it — the id is the server's.
"""

from __future__ import annotations

import hashlib
from uuid import UUID

EVERY = "every"


def in_sample(check_in_id: UUID, rate: float) -> bool:
    """Whether an attempt falls in a ``rate`` (0–1) sample; uniform over ids."""
    if rate >= 1.0:
        return True
    if rate <= 0.0:
        return False
    draw = int.from_bytes(hashlib.sha256(check_in_id.bytes).digest()[:8], "big") / 2**64
    return draw < rate


def face_check_needed(policy: str, sample_rate: float, check_in_id: UUID, *, suspicious: bool) -> bool:
    if suspicious or policy == EVERY:
        return True
    return in_sample(check_in_id, sample_rate)
