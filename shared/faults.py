"""Named crash points, so tests can kill a real process at the most dangerous moment.

``crash_point("relay.after_publish")`` ends the process at once (like ``kill -9``: no cleanup,
no commit) when ``XUEJI_CRASH_AT`` names that point; otherwise it does nothing.
"""

from __future__ import annotations

import os

CRASH_EXIT_CODE = 137


def crash_point(name: str) -> None:
    if os.environ.get("XUEJI_CRASH_AT") == name:
        os._exit(CRASH_EXIT_CODE)
