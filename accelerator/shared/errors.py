"""One error hierarchy for the whole product: a French message and the HTTP status it maps to.

The domain raises these; the API renders them with one handler; the CLI prints the message.
"""

from __future__ import annotations

from typing import ClassVar

from accelerator.shared.text import t


class AcceleratorError(Exception):
    """Base of every error a user may see; ``message`` is shown as is."""

    status_code: ClassVar[int] = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(AcceleratorError):
    """The object does not exist, or the caller may not know it exists."""

    status_code = 404


class Forbidden(AcceleratorError):
    """The caller may see the object but not do this to it."""

    status_code = 403


class NotAuthenticated(AcceleratorError):
    """No valid credentials."""

    status_code = 401


class InvalidInput(AcceleratorError):
    """Well-formed request, refused content."""

    status_code = 422


class InvalidTransition(AcceleratorError):
    """The object's current status does not allow this change."""

    status_code = 409


class Conflict(AcceleratorError):
    """Someone else changed the object meanwhile, or it already exists."""

    status_code = 409


class TooManyRequests(AcceleratorError):
    """Too many attempts in a short time; ``retry_after`` says when to try again (seconds)."""

    status_code = 429

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Unavailable(AcceleratorError):
    """A service the request needs does not answer; trying again later may work."""

    status_code = 503


def check_version(what: str, current: int, expected: int | None) -> None:
    """Refuse a stale edit: the object changed since the caller read version ``expected``."""
    if expected is not None and expected != current:
        raise Conflict(t("version.conflict", what=what, current=current, expected=expected))
