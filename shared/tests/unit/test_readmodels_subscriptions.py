"""The student read model follows every enrollment event that changes what it shows (issue 3:
status and key-data changes as well as registrations and transfers)."""

from __future__ import annotations

from shared.bus.consumer import Subscriptions
from shared.readmodels import StudentViewMixin, keep_student_view


def test_keep_student_view__follows_status_and_key_data_changes() -> None:
    subscriptions = Subscriptions()
    keep_student_view(subscriptions, StudentViewMixin)
    assert set(subscriptions.local) == {
        "enrollment.student.registered",
        "enrollment.student.transferred_in",
        "enrollment.student.transferred_out",
        "enrollment.student.moved",
        "enrollment.student.status_changed",
        "enrollment.student.key_data_changed",
    }
