"""The errors the services raise: failures the caller can act on, named for what went wrong.

How a failure is reported is its reader's business: the API gives each its status and the
Error body (clarion.api.errors), the command line prints the message. Nothing here knows HTTP.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol, TypeVar


class DomainError(Exception):
    """A failure the caller can act on; ``message`` says what went wrong, in the API's words."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidInput(DomainError):
    """A field or parameter has a value the API does not accept."""


class Unauthenticated(DomainError):
    """No API key, or one that is unknown or revoked."""


class Forbidden(DomainError):
    """The request's own credential (a web call's token) does not open what it names."""


class NotFound(DomainError):
    """Not there, or another organization's: the two are told apart nowhere."""


class Conflict(DomainError):
    """The request contradicts what the server already holds."""


class PreconditionFailed(DomainError):
    """The change was asked of a version (If-Match) that is no longer the current one."""


class TooManyRequests(DomainError):
    """Over a limit the server keeps (per organization, account or address); try again in
    ``retry_after_seconds`` when it is known."""

    retry_after_seconds: int | None = None


class Unavailable(DomainError):
    """The server cannot take this now (it is shutting down, say); try again in
    ``retry_after_seconds``."""

    def __init__(self, message: str, retry_after_seconds: int = 5) -> None:
        super().__init__(message)
        self.retry_after_seconds = retry_after_seconds


class PayloadTooLarge(DomainError):
    """What was sent, or what it would make of a stored resource, is over the size limit."""


class UnsupportedMediaType(DomainError):
    """The body is not in a media type the operation reads."""


T = TypeVar("T")


def found(value: T | None, message: str) -> T:
    """``value``, or NotFound with ``message`` when there is none."""
    if value is None:
        raise NotFound(message)
    return value


class Validation(Protocol):
    """A failed check of a document against its model: pydantic's ValidationError, or the
    framework's RequestValidationError. Each problem has its location, type and message."""

    def errors(self) -> Sequence[Mapping[str, Any]]:
        """The problems found, first the first one met."""
        ...


def describe_validation_error(error: Validation) -> str:
    """One sentence naming the first offending field, for InvalidInput's message."""
    first = error.errors()[0]
    location = [str(part) for part in first.get("loc", ())]
    # A request's check prefixes the source ("query", "path", "body"); users know the field.
    if location and location[0] in {"query", "path", "body", "header"}:
        source, location = location[0], location[1:]
    else:
        source = "body"
    field = _dotted(location)
    kind = first.get("type", "")
    if kind == "missing":
        return f"{field} is required" if field else "a request body is required"
    if kind == "extra_forbidden":
        return f"unknown field {field!r}"
    message = str(first.get("msg", "is invalid"))
    message = message.removeprefix("Value error, ")
    what = f"query parameter {field!r}" if source == "query" else (field or "the request body")
    return f"{what}: {message}"


def _dotted(location: list[str]) -> str:
    text = ""
    for part in location:
        text += f"[{part}]" if part.isdigit() else (f".{part}" if text else part)
    return text
