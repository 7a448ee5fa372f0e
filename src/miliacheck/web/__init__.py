"""The web app: server-rendered pages over the same service as the API."""

from miliacheck.web.pages import mount_pages

__all__ = ["mount_pages"]
