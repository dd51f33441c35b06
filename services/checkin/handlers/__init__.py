"""Check-in's event handlers, one module per concern, all on ``registry.subscriptions``."""

from services.checkin.handlers import faces, roster  # noqa: F401  (registers the handlers)
from services.checkin.handlers.registry import subscriptions

__all__ = ["subscriptions"]
