"""The one ``Subscriptions`` of the check-in service; handler modules register on it."""

from __future__ import annotations

from services.checkin.models import StudentView
from shared.bus.consumer import Subscriptions
from shared.readmodels import keep_student_view

subscriptions = Subscriptions()
keep_student_view(subscriptions, StudentView)
