"""The coach: runs one event of one chat through the routine, shows the effects, saves.

It serialises the work of each chat (a command and a timer of the same chat never interleave),
turns effects into calls on an `Outbox`, and stores the new state with its next timer in one
write. Knows nothing of python-telegram-bot: the Outbox is the only way out.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Protocol

from bot.core.callbacks import Button
from bot.core.events import Edit, Event, Finished, Keep, Record, Send, Toast, Wake
from bot.core.routine import Routine
from bot.runtime.clock import Clock
from bot.storage import Due, Store

log = logging.getLogger(__name__)


class ChatUnreachable(Exception):
    """The user blocked the bot or the chat is gone: stop sending to it."""


class OutboxUnavailable(Exception):
    """Telegram could not be reached, timed out or failed on its side: try again later."""


# Real seconds before a timer step that failed is tried again: soon when Telegram was away,
# later for any other error (logged), so a chat is never left waiting for a timer for ever.
RETRY_UNAVAILABLE = 15.0
RETRY_ERROR = 60.0
# Timer steps of different chats run side by side, up to this many at once.
WAKE_CONCURRENCY = 32


@dataclass(frozen=True)
class Shown:
    """What answers a button press: its toast, and whether its message keeps its buttons."""

    toast: str | None = None
    keep_buttons: bool = False


class Outbox(Protocol):
    async def send(self, chat_id: int, text: str, buttons: tuple[Button, ...]) -> int:
        """Show a message; return its id. Raise ChatUnreachable when the chat is gone."""
        ...

    async def edit(
        self, chat_id: int, message_id: int, text: str, buttons: tuple[Button, ...] = ()
    ) -> None:
        """Change a message's text and buttons; an unchanged or vanished message is no error."""
        ...


class Coach:
    def __init__(self, routine: Routine, store: Store, clock: Clock, outbox: Outbox) -> None:
        self.routine = routine
        self.store = store
        self.clock = clock
        self.outbox = outbox
        self._locks: dict[int, asyncio.Lock] = {}
        self._users: dict[int, int] = {}
        # Called when a chat's next timer moved, so the timer loop can sleep less.
        self.timers_changed: Callable[[], None] = lambda: None
        # Called after a chat finished the whole routine.
        self.routine_finished: Callable[[int], Awaitable[None]] | None = None
        # Called when a chat's reminders resume (paused after a warning sign or a Stop).
        self.reminders_resumed: Callable[[int], Awaitable[None]] | None = None

    @contextmanager
    def _counted(self, chat_id: int) -> Iterator[asyncio.Lock]:
        lock = self._locks.setdefault(chat_id, asyncio.Lock())
        self._users[chat_id] = self._users.get(chat_id, 0) + 1
        try:
            yield lock
        finally:
            self._users[chat_id] -= 1
            if not self._users[chat_id]:
                del self._users[chat_id], self._locks[chat_id]

    async def handle(self, chat_id: int, event: Event, *, locale: str | None = None) -> Shown:
        """Apply an event for a chat; return what the button press should show."""
        with self._counted(chat_id) as lock:
            async with lock:
                return await self._handle(chat_id, event, locale)

    async def _handle(self, chat_id: int, event: Event, locale: str | None) -> Shown:
        state = await self.store.load(chat_id)
        if locale and locale != state.locale:
            state = replace(state, locale=locale)
        before, paused = state.wake_at, state.reminders_paused
        now = self.clock.now()
        state, effects = self.routine.advance(state, event, now)
        toasts: list[str] = []
        keep = finished = False
        try:
            for effect in effects:
                match effect:
                    case Send(text=text, buttons=buttons, countdown=countdown):
                        message_id = await self.outbox.send(chat_id, text, buttons)
                        if countdown and state.routine is not None:
                            routine = replace(state.routine, countdown_message_id=message_id)
                            state = replace(state, routine=routine)
                    case Edit(message_id=message_id, text=text, buttons=buttons):
                        try:
                            await self.outbox.edit(chat_id, message_id, text, buttons)
                        except OutboxUnavailable:  # a missed countdown edit is only cosmetic
                            log.warning("countdown edit in chat %s failed", chat_id)
                    case Toast(text=text):
                        toasts.append(text)
                    case Keep():
                        keep = True
                    case Record():
                        await self.store.record(chat_id, now, effect)
                    case Finished():
                        finished = True
        except ChatUnreachable:
            log.info("chat %s is unreachable; its routine stops", chat_id)
            state = replace(state, routine=None)
            await self.store.set_active(chat_id, False, now)
        await self.store.save(chat_id, state, now)
        if state.wake_at != before:
            self.timers_changed()
        if paused and not state.reminders_paused and self.reminders_resumed is not None:
            await self.reminders_resumed(chat_id)
        if finished and self.routine_finished is not None:
            await self.routine_finished(chat_id)
        return Shown(toasts[0] if toasts else None, keep)

    async def wake_due(self) -> int:
        """Run every timer that is due now, chats side by side; return how many ran."""
        due = await self.store.due(self.clock.now())
        gate = asyncio.Semaphore(WAKE_CONCURRENCY)

        async def wake(item: Due) -> None:
            async with gate:
                try:
                    await self.handle(item.chat_id, Wake(item.at))
                except OutboxUnavailable as exc:
                    log.warning("timer of chat %s: Telegram unavailable (%s)", item.chat_id, exc)
                    await self._retry_timer(item.chat_id, item.at, RETRY_UNAVAILABLE)
                except Exception:
                    log.exception("timer of chat %s failed", item.chat_id)
                    await self._retry_timer(item.chat_id, item.at, RETRY_ERROR)

        await asyncio.gather(*(wake(item) for item in due))
        return len(due)

    async def _retry_timer(self, chat_id: int, at: float, delay: float) -> None:
        """Arm the failed step again a little later; the routine carries on from there."""
        with self._counted(chat_id) as lock:
            async with lock:
                state = await self.store.load(chat_id)
                if state.routine and state.wake_at == at:
                    retry_at = self.clock.now() + delay
                    state = replace(state, routine=replace(state.routine, wake_at=retry_at))
                    await self.store.save(chat_id, state, self.clock.now())
                    self.timers_changed()
