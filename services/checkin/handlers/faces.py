"""Identity's face results and device keys reach check-in here (issue 5, item 3)."""

from __future__ import annotations
