"""What the bot needs of storage, as protocols with the core's types in and out."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from bot.core.events import Record
from bot.core.reminder_types import Draft, Reminder
from bot.core.state import ChatState


@dataclass(frozen=True)
class Due:
    """A chat whose routine timer is due, and the time it was armed for."""

    chat_id: int
    at: float


@dataclass(frozen=True)
class ChatSettings:
    """What reminders need of a chat row."""

    locale: str | None = None
    timezone: str | None = None
    draft: Draft = field(default_factory=Draft)
    reminders_paused: bool = False


class ChatStore(Protocol):
    async def load(self, chat_id: int) -> ChatState: ...
    async def save(self, chat_id: int, state: ChatState, now: float) -> None:
        """The chat's state and its next routine timer, in one write."""
        ...

    async def set_active(self, chat_id: int, active: bool, now: float) -> None: ...
    async def is_active(self, chat_id: int) -> bool: ...
    async def settings(self, chat_id: int) -> ChatSettings: ...
    async def save_settings(
        self, chat_id: int, timezone: str | None, draft: Draft, now: float
    ) -> None: ...
    async def wakes_due(self, now: float, limit: int = 500) -> list[Due]: ...
    async def next_wake(self) -> float | None: ...


class ReminderStore(Protocol):
    async def of_chat(self, chat_id: int) -> tuple[Reminder, ...]: ...
    async def add(self, chat_id: int, reminder: Reminder, now: float) -> int: ...
    async def delete(self, chat_id: int, reminder_id: int) -> None: ...
    async def update(self, before: Reminder, after: Reminder) -> bool:
        """Move a reminder on only if nobody else did since `before` was read (a claim)."""
        ...

    async def due(self, now: float, limit: int = 1000) -> list[tuple[int, Reminder]]:
        """(chat, reminder) of active, unpaused chats whose reminder wants attention now."""
        ...

    async def next_due_at(self) -> float | None: ...


class SafetyLog(Protocol):
    async def record(self, chat_id: int, at: float, record: Record) -> None:
        """Keep a safety event (a check's answers, a Stop and what followed) for good."""
        ...


class Store(Protocol):
    @property
    def chats(self) -> ChatStore: ...
    @property
    def reminders(self) -> ReminderStore: ...
    @property
    def safety_log(self) -> SafetyLog: ...

    async def open(self) -> None: ...
    async def close(self) -> None: ...
