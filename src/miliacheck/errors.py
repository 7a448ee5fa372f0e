"""One exception tree for miliacheck.

::

    MiliacheckError                      exit 1
    ├── CaseError          HTTP 422      exit 2   a case (or answer) that does not fit case/v1
    ├── NotFoundError      HTTP 404      exit 2   an unknown resource (condition, interview...)
    ├── ConflictError      HTTP 409      exit 2   an answer to a question that was never asked
    └── KnowledgeError                   exit 3   the knowledge base is invalid: nothing is served

Every error carries ``errors``: a list of ``{"field": path | None, "message": str}`` with
``field`` in the case's path form (``findings.itchy``, ``locations[2]``).
"""

from __future__ import annotations

from typing import TypedDict


class FieldError(TypedDict):
    field: str | None
    message: str


class MiliacheckError(Exception):
    """Base of every error the product raises on purpose."""

    title = "Error"
    status = 500
    exit_code = 1

    def __init__(self, errors: list[FieldError], title: str | None = None) -> None:
        self.errors = errors
        if title is not None:
            self.title = title
        super().__init__(self.title + ": " + "; ".join(_fmt(e) for e in errors))

    def problem(self) -> dict[str, object]:
        """The ``application/problem+json`` body of the case format."""
        return {"title": self.title, "status": self.status, "errors": list(self.errors)}


class CaseError(MiliacheckError):
    title = "The case does not fit the format"
    status = 422
    exit_code = 2


class NotFoundError(MiliacheckError):
    title = "Not found"
    status = 404
    exit_code = 2


class ConflictError(MiliacheckError):
    title = "Conflict"
    status = 409
    exit_code = 2


class KnowledgeError(MiliacheckError):
    title = "The knowledge base is invalid"
    status = 500
    exit_code = 3


def _fmt(e: FieldError) -> str:
    return f"{e['field']}: {e['message']}" if e["field"] else e["message"]
