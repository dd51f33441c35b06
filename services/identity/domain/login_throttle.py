"""Sign-in throttling (issue 4, item 1: "login rate-limited per account and per address, with
lockout"). Failures are counted in Redis over a window; this decides from the counts.

One address may legitimately carry many users (a school's computer room behind one NAT), so
its limit is a multiple of the per-account one.
"""

from __future__ import annotations

ADDRESS_FACTOR = 4


def is_locked_out(account_failures: int, address_failures: int, max_failures: int) -> bool:
    """Locked once the account, or the address, has failed ``max_failures`` (×4 for an
    address) times within the window; a successful sign-in clears only the account's count."""
    return account_failures >= max_failures or address_failures >= max_failures * ADDRESS_FACTOR
