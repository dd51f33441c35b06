"""Enrollment's student events keep the graduand read model current."""

from __future__ import annotations

from services.certificates.models import StudentView
from shared.bus.consumer import Subscriptions
from shared.readmodels import keep_student_view

subscriptions = Subscriptions()
keep_student_view(subscriptions, StudentView)
