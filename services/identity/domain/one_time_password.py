"""One-time passwords a registrar hands out on a reset (issue 4, item 1), and the phone codes of
activation (item 2). Randomness is an argument so the rule stays testable."""

from __future__ import annotations

import secrets
from collections.abc import Callable

# No 0/O, 1/l/I: the password is read aloud or copied from paper.
ALPHABET = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def one_time_password(length: int = 12, choice: Callable[[str], str] = secrets.choice) -> str:
    return "".join(choice(ALPHABET) for _ in range(length))


def phone_code(choice: Callable[[str], str] = secrets.choice) -> str:
    return "".join(choice("0123456789") for _ in range(6))
