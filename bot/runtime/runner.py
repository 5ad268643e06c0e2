"""The runner: every conversation's events go through it, one chat at a time.

For one event of one chat it takes the chat's lock, loads the conversation's state, asks the
pure machine for the new state and effects, shows the effects through the `Outbox`, and saves,
all in that order. A conversation may ask for another to hear an event afterwards (a finished
routine offers a daily reminder); that runs after the lock is released. Knows nothing of
python-telegram-bot: the Outbox is the only way out.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from bot.core.callbacks import Button
from bot.core.events import Edit, Effect, Keep, Record, Send, Toast, Unhandled
from bot.runtime.clock import Clock
from bot.storage import Store

log = logging.getLogger(__name__)

S = TypeVar("S")
E = TypeVar("E", contravariant=True)


class ChatUnreachable(Exception):
    """The user blocked the bot or the chat is gone: stop sending to it."""


class OutboxUnavailable(Exception):
    """Telegram could not be reached, timed out or failed on its side: try again later."""


class Outbox(Protocol):
    async def send(self, chat_id: int, text: str, buttons: tuple[Button, ...]) -> int:
        """Show a message; return its id. Raise ChatUnreachable when the chat is gone."""
        ...

    async def edit(
        self, chat_id: int, message_id: int, text: str, buttons: tuple[Button, ...] = ()
    ) -> None:
        """Change a message's text and buttons; an unchanged or vanished message is no error."""
        ...


@dataclass(frozen=True)
class Shown:
    """What answers a button press: its toast, whether its message keeps its buttons, and
    whether the conversation took the event at all (typed text may be for another)."""

    toast: str | None = None
    keep_buttons: bool = False
    handled: bool = True


@dataclass(frozen=True)
class FollowUp:
    """An event for another conversation of the same chat, run after this one is saved."""

    conversation: Conversation[Any, Any]
    event: object


class Conversation(Protocol, Generic[S, E]):
    """A pure machine and how its state is loaded and saved."""

    async def load(self, chat_id: int, locale: str | None) -> S: ...

    def advance(self, state: S, event: E, now: float) -> tuple[S, list[Effect]]: ...

    def message_shown(self, state: S, message_id: int) -> S:
        """A `Send(countdown=True)` went out as this message: remember it for later edits."""
        ...

    def unreachable(self, state: S) -> S:
        """The chat is gone: the state to keep."""
        ...

    async def save(self, chat_id: int, before: S, after: S, now: float) -> bool:
        """Store the new state; return whether a timer moved."""
        ...

    def follow_ups(self, before: S, after: S, effects: Sequence[Effect]) -> list[FollowUp]: ...


class Runner:
    def __init__(self, store: Store, clock: Clock, outbox: Outbox) -> None:
        self.store = store
        self.clock = clock
        self.outbox = outbox
        self._locks: dict[int, asyncio.Lock] = {}
        self._users: dict[int, int] = {}
        # Called when a timer moved, so the timer loops can sleep less.
        self.timers_changed: Callable[[], None] = lambda: None

    @asynccontextmanager
    async def locked(self, chat_id: int) -> AsyncIterator[None]:
        """The chat's lock: a command, a timer and a reminder of one chat never interleave."""
        lock = self._locks.setdefault(chat_id, asyncio.Lock())
        self._users[chat_id] = self._users.get(chat_id, 0) + 1
        try:
            async with lock:
                yield
        finally:
            self._users[chat_id] -= 1
            if not self._users[chat_id]:
                del self._users[chat_id], self._locks[chat_id]

    async def handle(
        self,
        conversation: Conversation[S, E],
        chat_id: int,
        event: E,
        *,
        locale: str | None = None,
    ) -> Shown:
        """Apply an event to one conversation of a chat; return what the press should show."""
        async with self.locked(chat_id):
            shown, follow_ups = await self._handle(conversation, chat_id, event, locale)
        for follow_up in follow_ups:
            await self.handle(follow_up.conversation, chat_id, follow_up.event)
        return shown

    async def _handle(
        self, conversation: Conversation[S, E], chat_id: int, event: E, locale: str | None
    ) -> tuple[Shown, list[FollowUp]]:
        before = await conversation.load(chat_id, locale)
        now = self.clock.now()
        state, effects = conversation.advance(before, event, now)
        toasts: list[str] = []
        keep = False
        try:
            for effect in effects:
                match effect:
                    case Send(text=text, buttons=buttons, countdown=countdown):
                        message_id = await self.outbox.send(chat_id, text, buttons)
                        if countdown:
                            state = conversation.message_shown(state, message_id)
                    case Edit(message_id=message_id, text=text, buttons=buttons):
                        try:
                            await self.outbox.edit(chat_id, message_id, text, buttons)
                        except OutboxUnavailable:  # a missed edit is only cosmetic
                            log.warning("an edit in chat %s failed", chat_id)
                    case Toast(text=text):
                        toasts.append(text)
                    case Keep():
                        keep = True
                    case Record():
                        await self.store.safety_log.record(chat_id, now, effect)
        except ChatUnreachable:
            log.info("chat %s is unreachable; its timers stop", chat_id)
            state = conversation.unreachable(state)
            await self.store.chats.set_active(chat_id, False, now)
        if await conversation.save(chat_id, before, state, now):
            self.timers_changed()
        handled = not any(isinstance(e, Unhandled) for e in effects)
        shown = Shown(toasts[0] if toasts else None, keep, handled)
        return shown, conversation.follow_ups(before, state, effects)
