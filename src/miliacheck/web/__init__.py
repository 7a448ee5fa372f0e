"""The web app: server-rendered pages over the same service as the API."""

from miliacheck.web.clinic import mount_clinic_pages
from miliacheck.web.pages import mount_pages

__all__ = ["mount_clinic_pages", "mount_pages"]
