"""How the update being handled ended, for the metrics and the webhook's answer.

python-telegram-bot awaits blocking handlers and error handlers inside `process_update`, in
the task that called it, so an object put in a context variable before the call is the one
they mark. Webhook mode reads it afterwards to answer Telegram: 503 (send it again) when the
database was away, 200 otherwise.
"""

from __future__ import annotations

from contextvars import ContextVar, Token
from dataclasses import dataclass


@dataclass
class UpdateOutcome:
    """Marked by the guards and the error handler while one update is processed.

    `redelivered`: Telegram sends the update again when it is not acknowledged (webhook mode),
    so a step that failed for a passing reason need not be answered to the user."""

    redelivered: bool = False
    duplicate: bool = False
    failed: bool = False
    transient: bool = False  # the database was unavailable: nothing of the step was stored

    @property
    def label(self) -> str:
        """The metrics' outcome: ok, failed or duplicate."""
        if self.duplicate:
            return "duplicate"
        return "failed" if self.failed else "ok"


_CURRENT: ContextVar[UpdateOutcome | None] = ContextVar("stretchbot_update_outcome", default=None)


def current() -> UpdateOutcome:
    """The outcome of the update this task handles (a throwaway one outside any update)."""
    return _CURRENT.get() or UpdateOutcome()


def begin(outcome: UpdateOutcome) -> Token[UpdateOutcome | None]:
    """Make `outcome` the current one; returns a token for `end`."""
    return _CURRENT.set(outcome)


def end(token: Token[UpdateOutcome | None]) -> None:
    _CURRENT.reset(token)


def active() -> UpdateOutcome | None:
    """The outcome already set by a caller (the webhook), if any."""
    return _CURRENT.get()
