"""The JSON API: ``create_app(settings)`` builds it; nothing is created at import time."""

from miliacheck.api.app import create_app

__all__ = ["create_app"]
