"""The errors Accolade raises; every edge maps them once (CLI: red line, exit 2). Each carries
the HTTP status the API and the pages answer it with (``status``), so both HTTP edges map an
error the same way without importing each other."""

from __future__ import annotations

from dataclasses import dataclass


class AccoladeError(Exception):
    """Base error: carries the field path it concerns and a message a person can act on."""

    code = "error"
    status = 422  # what a person sent cannot be done as it is; subclasses say otherwise

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field

    def __str__(self) -> str:
        return f"{self.field}: {self.message}" if self.field else self.message


@dataclass(frozen=True)
class FieldError:
    """One problem at one path, e.g. ``actions[2].points: must be >= 0``."""

    field: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message}" if self.field else self.message


class InvalidProgram(AccoladeError):
    """A program file that does not validate; lists every problem at once."""

    code = "invalid_program"

    def __init__(self, errors: list[FieldError]) -> None:
        self.errors = errors
        first = errors[0] if errors else FieldError("", "invalid program")
        super().__init__(first.message, first.field)

    def __str__(self) -> str:
        return "\n".join(str(e) for e in self.errors)


class InvalidEvent(AccoladeError):
    code = "invalid_event"


class InvalidInput(AccoladeError):
    """Bad input to a command or service that is not an event or a program."""

    code = "invalid_input"


class NotFound(AccoladeError):
    code = "not_found"
    status = 404


class Conflict(AccoladeError):
    code = "conflict"
    status = 409


class InsufficientBalance(AccoladeError):
    code = "insufficient_balance"
    status = 409


class NotRedeemable(AccoladeError):
    """A reward the member may not have now: not eligible, out of stock, limit reached."""

    code = "not_redeemable"
    status = 409


class Forbidden(AccoladeError):
    code = "forbidden"
    status = 403


class Unauthenticated(AccoladeError):
    """No credentials, or credentials that are not (or no longer) valid."""

    code = "unauthenticated"
    status = 401


class Unavailable(AccoladeError):
    """The database connection was lost (say, the database restarted); the pool has been
    renewed, so the same request may simply be tried again."""

    code = "unavailable"
    status = 503
