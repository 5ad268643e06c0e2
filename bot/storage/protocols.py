"""What the bot needs of storage, as protocols with the core's types in and out."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Literal, Protocol

from bot.core.events import History, Record
from bot.core.reminder_types import Draft, Reminder
from bot.core.state import ChatState


class StoreUnavailable(Exception):
    """The database could not take a write just now (locked by another program, full, read-only,
    unreachable): nothing of the step was stored, so nothing of it is shown; it is tried again."""


class LeaseLost(StoreUnavailable):
    """Another replica holds the chat now (this one's lease ran out): nothing of the step was
    stored, so a replica that fell behind never overwrites newer state."""


class AlreadySeen(Exception):
    """The update was handled before (Telegram delivered it again): nothing of it is stored."""


@dataclass(frozen=True)
class Due:
    """A chat with something due: its routine timer (the time it was armed for), or effects
    still to show."""

    chat_id: int
    at: float | None  # the routine's timer, when that is due
    pending: bool = False  # effects of an earlier step wait to be shown


@dataclass(frozen=True)
class Pending:
    """An effect a saved step still has to show, in order (the chat's outbox)."""

    kind: Literal["send", "edit"]
    text: str
    buttons: tuple[tuple[str, str, int | None], ...] = ()  # label, callback data, row
    message_id: int | None = None  # edit: the message to change
    countdown: bool = False  # send: the routine edits it later; edit: a countdown tick
    attempted: bool = False  # send: tried once already; a message is never sent twice
    picture: str | None = None  # send: a picture ("<id>/<language>"), the text its caption


@dataclass(frozen=True)
class ChatSettings:
    """What reminders need of a chat row."""

    locale: str | None = None
    timezone: str | None = None
    draft: Draft = field(default_factory=Draft)
    reminders_paused: bool = False
    routine_running: bool = False  # a timed step runs: a hold, a rest, the warm-up guide
    active: bool = True  # False once the user blocked the bot, until they come back
    language: str | None = None  # chosen in /settings, over Telegram's language_code


class ChatStore(Protocol):
    async def load(self, chat_id: int) -> ChatState: ...
    async def save(self, chat_id: int, state: ChatState, now: float) -> None:
        """The chat's state and its next routine timer, in one write."""
        ...

    async def set_active(self, chat_id: int, active: bool, now: float) -> None: ...
    async def settings(self, chat_id: int) -> ChatSettings: ...
    async def save_settings(
        self,
        chat_id: int,
        timezone: str | None,
        draft: Draft,
        now: float,
        locale: str | None = None,
    ) -> None:
        """The reminders' part of a chat row (and its language, when known)."""
        ...

    async def pending(self, chat_id: int) -> tuple[tuple[Pending, ...], float | None]:
        """The chat's effects still to show, and when to try them next."""
        ...

    async def set_pending(
        self, chat_id: int, effects: tuple[Pending, ...], at: float | None
    ) -> None: ...
    async def wakes_due(self, now: float, limit: int = 500) -> list[Due]:
        """Chats with a timer or effects due, claimed for this process: with several replicas
        on one database, a chat another replica holds is not returned."""
        ...

    async def next_wake(self, now: float | None = None) -> float | None:
        """When to look again (`now`: on the clock of `wake_at`, to place a chat another
        replica holds at the end of its lease)."""
        ...

    async def see_update(self, chat_id: int, update_id: int, at: float) -> None:
        """Note an update of the chat as handled (with the step it caused, inside `write()`);
        raise AlreadySeen when it was noted before."""
        ...

    async def seen(self, chat_id: int, update_id: int) -> bool: ...


class ReminderStore(Protocol):
    async def of_chat(self, chat_id: int) -> tuple[Reminder, ...]: ...
    async def add(self, chat_id: int, reminder: Reminder, now: float) -> int: ...
    async def delete(self, chat_id: int, reminder_id: int) -> None: ...
    async def update(self, before: Reminder, after: Reminder) -> bool:
        """Move a reminder on only if nobody else did since `before` was read (a claim)."""
        ...

    async def due(self, now: float, limit: int = 1000) -> list[tuple[int, Reminder]]:
        """(chat, reminder) of active, unpaused chats whose reminder wants attention now,
        claimed for this process until `update` moves it on (with several replicas, one claimed
        by another is not returned)."""
        ...

    async def next_due_at(self) -> float | None: ...


@dataclass(frozen=True)
class RoutineRecord:
    """One routine of a user's history (table `routines`)."""

    begun_at: float
    ended_at: float | None
    outcome: str | None  # finished | cancelled | stopped | ended; None: left unfinished
    holds: tuple[tuple[int, int], ...]  # (stretch index, seconds held)
    pain_before: int | None
    pain_after: int | None


class HistoryStore(Protocol):
    """Every routine a user began, and their declared rest days, for /progress and /export."""

    async def record(self, chat_id: int, at: float, history: History) -> None: ...
    async def routines(self, chat_id: int, since: float = 0.0) -> list[RoutineRecord]: ...
    async def add_rest_day(self, chat_id: int, day: str) -> None:
        """`day`: the user's local date, ISO (2026-11-26)."""
        ...

    async def rest_days(self, chat_id: int) -> list[str]: ...


class MediaStore(Protocol):
    """The file_id Telegram gave for each picture uploaded, so it is uploaded once."""

    async def file_id(self, key: str) -> str | None: ...
    async def remember(self, key: str, file_id: str, now: float) -> None: ...
    async def forget(self, key: str) -> None:
        """Telegram refused the file_id: the picture is uploaded again next time."""
        ...


class SafetyLog(Protocol):
    async def record(self, chat_id: int, at: float, record: Record) -> None:
        """Keep a safety event (a check's answers, a Stop and what followed)."""
        ...

    async def of_chat(self, chat_id: int) -> list[tuple[float, Record]]:
        """A chat's safety events, oldest first, with their times."""
        ...


class Store(Protocol):
    @property
    def chats(self) -> ChatStore: ...
    @property
    def reminders(self) -> ReminderStore: ...
    @property
    def safety_log(self) -> SafetyLog: ...
    @property
    def media(self) -> MediaStore: ...
    @property
    def history(self) -> HistoryStore: ...

    async def forget(self, chat_id: int) -> None:
        """Delete everything stored about a chat, in every table."""
        ...

    async def forget_inactive(self, before: float) -> int:
        """Delete the chats that blocked the bot and were last seen before `before`; return
        how many."""
        ...

    async def forget_updates(self, before: float) -> int:
        """Forget the updates seen before `before` (Telegram redelivers within a day)."""
        ...

    def lease(self, chat_id: int) -> AbstractAsyncContextManager[None]:
        """Hold the chat against every other process on the database while a step of it is
        loaded, saved and shown (a no-op for a database only one process uses). A write to the
        chat under a lease that ran out raises LeaseLost."""
        ...

    def on_timers_moved(self, callback: Callable[[], None]) -> None:
        """Call `callback` when another process moved a timer (PostgreSQL's LISTEN/NOTIFY)."""
        ...

    def on_claims(self, callback: Callable[[int, int], None]) -> None:
        """Call `callback(claimed, taken_over)` after each claim of due work: how many chats or
        reminders were claimed, and how many of them another replica had let go (metrics)."""
        ...

    def timers_moved(self) -> None:
        """Tell the other processes that a timer moved (coalesced; never waits)."""
        ...

    def write(self) -> AbstractAsyncContextManager[None]:
        """One transaction: every write inside it is stored together, or none is."""
        ...

    async def open(self) -> None: ...
    async def close(self) -> None: ...
    async def ping(self) -> None:
        """A trivial query (readiness): returns when the database answers, raises otherwise."""
        ...
