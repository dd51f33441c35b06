"""The one ``Subscriptions`` of the check-in service; handler modules register on it."""

from __future__ import annotations

from services.checkin.models import StudentView
from services.checkin.moving import start_anew_after_transfer
from services.checkin.verification_summary import send_summary_on_departure
from shared.bus.consumer import Subscriptions
from shared.readmodels import keep_student_view

subscriptions = Subscriptions()
keep_student_view(
    subscriptions, StudentView, on_arrival=start_anew_after_transfer, on_departure=send_summary_on_departure
)
