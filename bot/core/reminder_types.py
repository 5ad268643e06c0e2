"""What reminders are made of: a reminder, a set-up in progress, a chat's reminders, and the
events of the reminder conversation. Plain data; the machine is bot.core.reminders."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import time

from bot.core.events import Press
from bot.core.times import Days


@dataclass(frozen=True)
class Reminder:
    """One daily reminder: a local time on some weekdays, and when it next wants attention."""

    id: int | None  # None until stored
    local_time: time
    days: Days
    next_due: float  # the next day's time, UTC epoch seconds
    snooze_at: float | None = None  # the user asked to be reminded again then
    retry_at: float | None = None  # delivery failed; it tries again then (bot.runtime.delivery)
    retry_of: float | None = None  # the due time that retry answers

    @property
    def due_at(self) -> float:
        """When this reminder next wants attention: its time, a snooze, or a retry."""
        return min(t for t in (self.next_due, self.snooze_at, self.retry_at) if t is not None)

    @property
    def hhmm(self) -> str:
        return self.local_time.strftime("%H:%M")


@dataclass(frozen=True)
class Draft:
    """A reminder being set up with buttons, or a typed answer the bot waits for."""

    waiting_for: str | None = None  # "time" | "timezone" | None
    time: str | None = None  # "HH:MM"
    days: tuple[int, ...] = ()
    since: float = 0.0  # when the bot began to wait for a typed answer


@dataclass(frozen=True)
class ReminderChat:
    """What reminders need of a chat."""

    locale: str | None = None
    timezone: str | None = None  # chosen by the user; None: the default is assumed
    draft: Draft = field(default_factory=Draft)
    reminders: tuple[Reminder, ...] = ()
    paused: bool = False  # after a warning sign or a stopped routine (bot.core.safety)
    routine_running: bool = False  # a timed step runs: a hold, a rest, the guided warm-up


# --------------------------------------------------------------------------- events


@dataclass(frozen=True)
class Remind:
    """/remind, with what was typed after it."""

    args: tuple[str, ...] = ()


@dataclass(frozen=True)
class ListReminders:
    """/reminders"""


@dataclass(frozen=True)
class AskTimezone:
    """/timezone, with what was typed after it."""

    args: tuple[str, ...] = ()


@dataclass(frozen=True)
class Typed:
    """Text the user typed: an answer if the bot is waiting for one."""

    text: str


@dataclass(frozen=True)
class Interrupt:
    """Another command came: stop waiting for a typed answer."""


@dataclass(frozen=True)
class OfferDaily:
    """The routine was finished: offer a daily reminder to a user who has none."""


@dataclass(frozen=True)
class Resume:
    """The user is back (unblocked the bot, or started a routine after a pause): reminders go
    on from now, none replayed."""


ReminderEvent = (
    Remind | ListReminders | AskTimezone | Typed | Interrupt | OfferDaily | Resume | Press
)
