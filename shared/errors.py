"""Domain errors: refusals a user can act on, rendered by each door its own way."""

from __future__ import annotations


class DomainError(Exception):
    """A business rule refused the request; the message is shown to the user.

    ``field`` names the input the refusal is about, when there is one (the
    amount of an overpayment): a form marks that field.
    """

    status = 400

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


class NotFound(DomainError):
    status = 404


class Conflict(DomainError):
    """The request is valid but the current state forbids it (HTTP 409)."""

    status = 409


class PermissionDenied(DomainError):
    status = 403


class ValidationFailed(DomainError):
    """Input broke a rule; ``errors`` maps field paths to messages (HTTP 422)."""

    status = 422

    def __init__(self, errors: dict[str, list[str]], message: str | None = None):
        self.errors = {field: list(messages) for field, messages in errors.items()}
        if message is None:
            first_field, first_messages = next(iter(self.errors.items()))
            message = f"{first_field}: {first_messages[0]}"
        super().__init__(message)

    @classmethod
    def one(cls, field: str, message: str) -> ValidationFailed:
        return cls({field: [message]})
