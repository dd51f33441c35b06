"""When a student's face template is deleted (issue 4, item 6: "templates are deleted when a
student's record ends (withdrawal, graduation + retention period)"; PIPL art. 47: personal
information is deleted once the purpose is achieved).

A record that ends without completion (withdrawal, dropout, deregistration, death, leaving
without completing) or leaves the province (transfer out) ends face checks at once. Graduation
and completion keep the template for a retention period, for disputes over the last round's
check-ins and for certificate collection in person.
"""

from __future__ import annotations

from datetime import date, timedelta

DEFAULT_RETENTION = timedelta(days=180)  # DESIGN.md: audit evidence is kept at least 6 months

ENDS_AT_ONCE = frozenset(
    {"withdrawn", "transferred_out", "left_without_completing", "deregistered", "dead", "dropout"}
)
ENDS_AFTER_RETENTION = frozenset({"graduated", "completed"})


def template_delete_on(
    status: str, changed_on: date, retention: timedelta = DEFAULT_RETENTION
) -> date | None:
    """The day from which the template must be gone, or None while the record is live (in
    school, on leave, suspended, suspected dropout: the student may come back)."""
    if status in ENDS_AT_ONCE:
        return changed_on
    if status in ENDS_AFTER_RETENTION:
        return changed_on + retention
    return None


def is_due(delete_on: date | None, today: date) -> bool:
    return delete_on is not None and delete_on <= today
