"""Which new passwords are refused (issue 4, item 1: a one-time password must be replaced).

Length over composition rules, as NIST SP 800-63B §3.1.1.2 advises; the user name and the old
password are refused outright.
"""

from __future__ import annotations

MIN_LENGTH = 8


def password_weakness(new: str, *, username: str, old_password: str | None = None) -> tuple[str, str] | None:
    """(reason, reason_zh) when ``new`` may not be used, else None."""
    if len(new) < MIN_LENGTH:
        return f"at least {MIN_LENGTH} characters", f"至少 {MIN_LENGTH} 个字符"
    if new.strip().lower() == username.strip().lower():
        return "must differ from the username", "不能与用户名相同"
    if old_password is not None and new == old_password:
        return "must differ from the current password", "不能与当前密码相同"
    if len(set(new)) < 3:
        return "too repetitive", "字符过于单一"
    return None
