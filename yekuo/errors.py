"""Domain errors: each with a stable ``code`` and a message a person can act on.

Services raise them before changing anything; the API maps them to HTTP statuses and the
pages show their message next to the field or as a message.
"""

from __future__ import annotations


class DomainError(Exception):
    code = "error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = str(message)


class InvalidInput(DomainError):
    """Bad input, with per-field messages (``errors``: field → list of messages)."""

    code = "invalid"

    def __init__(self, errors: dict[str, list[str] | str], message: str | None = None) -> None:
        self.errors = {
            field: [str(m) for m in (msgs if isinstance(msgs, list | tuple) else [msgs])]
            for field, msgs in errors.items()
        }
        first = next(iter(self.errors.values()))[0] if self.errors else ""
        super().__init__(message or first)


class NotPermitted(DomainError):
    code = "forbidden"


class TransitionNotAllowed(DomainError):
    """The transition is not possible now; ``reasons`` says why, each in one sentence."""

    code = "transition_not_allowed"

    def __init__(self, reasons: list[str]) -> None:
        self.reasons = [str(r) for r in reasons]
        super().__init__(" ".join(self.reasons))


class StaleVersion(DomainError):
    """Someone else changed the application since it was read."""

    code = "stale_version"
