"""The runner: every conversation's events go through it, one chat at a time.

For one event of one chat it takes the chat's lock, loads the conversation's state and asks the
pure machine for the new state and effects. Then, in this order:

1. Save. The new state, any safety records, and the effects still to show (the chat's outbox)
   go into one transaction. If the save fails, nothing is shown.
2. Show. The effects are sent one by one, and each is struck from the outbox as it goes out.
   A retry resumes at the first effect not yet shown. A message is marked tried before it is
   sent: one whose answer was lost (a timeout) is never sent again. Edits may repeat.

A conversation may ask for another to hear an event afterwards (a finished routine offers a
daily reminder); that runs after the lock is released. This module knows nothing of
python-telegram-bot: the Outbox is the only way out.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from typing import Any, Generic, Protocol, TypeVar

from bot.core.callbacks import Button, decode
from bot.core.events import Edit, Effect, History, Keep, Record, Send, Toast, Unhandled
from bot.runtime.clock import Clock
from bot.storage import AlreadySeen, Pending, Store

log = logging.getLogger(__name__)

S = TypeVar("S")
E = TypeVar("E", contravariant=True)


class ChatUnreachable(Exception):
    """The user blocked the bot or the chat is gone: stop sending to it."""


class OutboxUnavailable(Exception):
    """Telegram could not be reached, timed out or failed on its side: try again later.

    `maybe_delivered`: the request may have reached Telegram (a timeout), so a message must not
    be sent again; otherwise Telegram surely did not take it (refused, 5xx, 429)."""

    def __init__(self, message: str, *, maybe_delivered: bool = False) -> None:
        super().__init__(message)
        self.maybe_delivered = maybe_delivered


# Real seconds before effects that could not be shown are tried again.
RETRY_PENDING = 15.0
# The longest caption a picture can carry (Telegram's limit); a longer text follows it.
CAPTION_LIMIT = 1024


class Outbox(Protocol):
    async def send(
        self,
        chat_id: int,
        text: str,
        buttons: tuple[Button, ...],
        *,
        reminder: bool = False,
        picture: str | None = None,
    ) -> int:
        """Show a message; return its id. Raise ChatUnreachable when the chat is gone.

        `reminder`: it may wait behind what people are waiting for (steps, cues).
        `picture` ("<id>/<language>"): a photo with `text` as its caption (CAPTION_LIMIT)."""
        ...

    async def edit(
        self,
        chat_id: int,
        message_id: int,
        text: str,
        buttons: tuple[Button, ...] = (),
        *,
        countdown: bool = False,
    ) -> None:
        """Change a message's text and buttons; an unchanged or vanished message is no error.

        `countdown`: a cosmetic tick, which may be dropped when Telegram's limit is reached."""
        ...


@dataclass(frozen=True)
class Shown:
    """What answers a button press: its toast, whether its message keeps its buttons, and
    whether the conversation took the event at all (typed text may be for another)."""

    toast: str | None = None
    keep_buttons: bool = False
    handled: bool = True


@dataclass
class UpdateMark:
    """The Telegram update being handled, set by the Telegram layer for its task. Its first step
    notes it as seen in the same transaction as the step, so a copy delivered again (a webhook
    answered late, a restarted poller, another replica) changes nothing."""

    chat_id: int
    update_id: int
    task: asyncio.Task[Any] | None = field(default_factory=asyncio.current_task)
    noted: bool = False  # a step stored it
    duplicate: bool = False  # it was seen before: its steps do nothing
    failed: bool = False  # a step of it failed: it must not be noted, so a copy runs again

    @property
    def current(self) -> UpdateMark | None:
        """This mark, when the running task is the update's (not a timer's)."""
        return self if self.task is asyncio.current_task() else None


CURRENT_UPDATE: ContextVar[UpdateMark | None] = ContextVar("stretchbot_update", default=None)


def current_update(chat_id: int) -> UpdateMark | None:
    """The mark of the update this task handles, when it is of `chat_id`."""
    mark = CURRENT_UPDATE.get()
    mark = mark.current if mark is not None else None
    return mark if mark is not None and mark.chat_id == chat_id else None


@dataclass(frozen=True)
class FollowUp:
    """An event for another conversation of the same chat, run after this one is saved."""

    conversation: Conversation[Any, Any]
    event: object


class Conversation(Protocol, Generic[S, E]):
    """A pure machine and how its state is loaded and saved."""

    @property
    def clock(self) -> Clock:
        """Where the `now` of its steps comes from: steady time for the routine's durations,
        wall time for reminders (bot.runtime.clock)."""
        ...

    async def load(self, chat_id: int, locale: str | None) -> S: ...

    def advance(self, state: S, event: E, now: float) -> tuple[S, list[Effect]]: ...

    async def save(self, chat_id: int, before: S, after: S, now: float) -> bool:
        """Store the new state; return whether a timer moved."""
        ...

    def follow_ups(self, before: S, after: S, effects: Sequence[Effect]) -> list[FollowUp]: ...


class Runner:
    """`clock`: the steady clock of the chats' rows (the routine's timers and the outbox's
    retries share a row, and one timer source)."""

    def __init__(self, store: Store, clock: Clock, outbox: Outbox) -> None:
        self.store = store
        self.clock = clock
        self.outbox = outbox
        self._locks: dict[int, asyncio.Lock] = {}
        self._users: dict[int, int] = {}
        # Called when a timer moved, so the timer loops can sleep less.
        self.timers_changed: Callable[[], None] = lambda: None
        # Called when a countdown message went out (its id), and when a chat is gone.
        self.countdown_shown: Callable[[int, int, float], Awaitable[bool]] = _countdown
        self.chat_gone: Callable[[int, float], Awaitable[None]] = _gone

    @asynccontextmanager
    async def locked(self, chat_id: int) -> AsyncIterator[None]:
        """The chat's lock: a command, a timer and a reminder of one chat never interleave, in
        this process (first come, first served) and across replicas (the store's lease)."""
        lock = self._locks.setdefault(chat_id, asyncio.Lock())
        self._users[chat_id] = self._users.get(chat_id, 0) + 1
        try:
            async with lock, self.store.lease(chat_id):
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
        mark = current_update(chat_id)
        if mark is not None and mark.duplicate:
            return Shown(keep_buttons=True)
        try:
            async with self.locked(chat_id):
                shown, follow_ups = await self._handle(conversation, chat_id, event, locale, mark)
        except BaseException:
            if mark is not None and not mark.noted:
                mark.failed = True
            raise
        for follow_up in follow_ups:
            await self.handle(follow_up.conversation, chat_id, follow_up.event)
        return shown

    async def deliver(self, chat_id: int) -> bool:
        """Show what earlier steps of a chat left to show; True when nothing is left."""
        async with self.locked(chat_id):
            return not await self._flush(chat_id)

    async def _handle(
        self,
        conversation: Conversation[S, E],
        chat_id: int,
        event: E,
        locale: str | None,
        mark: UpdateMark | None = None,
    ) -> tuple[Shown, list[FollowUp]]:
        # What earlier steps left goes first, in order; usually there is nothing.
        queued = await self._flush(chat_id)
        before = await conversation.load(chat_id, locale)
        now = conversation.clock.now()
        state, effects = conversation.advance(before, event, now)
        toasts = [e.text for e in effects if isinstance(e, Toast)]
        shown = Shown(
            toasts[0] if toasts else None,
            keep_buttons=any(isinstance(e, Keep) for e in effects),
            handled=not any(isinstance(e, Unhandled) for e in effects),
        )
        outbox = tuple(p for e in effects if isinstance(e, (Send, Edit)) for p in _pending(e))
        chats = self.store.chats
        try:
            async with self.store.write():  # durable before visible
                if mark is not None and not mark.noted:  # the update's first step notes it
                    await chats.see_update(chat_id, mark.update_id, self.clock.now())
                moved = await self._save(conversation, chat_id, before, state, effects, now)
                if outbox:
                    await chats.set_pending(chat_id, queued + outbox, now)
        except AlreadySeen:
            assert mark is not None
            log.info("update %s of chat %s was handled before; dropped", mark.update_id, chat_id)
            mark.duplicate = True
            return Shown(keep_buttons=True), []  # the first copy decided about the buttons
        if mark is not None:
            mark.noted = True
        if moved:
            self.timers_changed()
        if outbox or queued:
            await self._flush(chat_id, queued + outbox)
        return shown, conversation.follow_ups(before, state, effects)

    async def _save(
        self,
        conversation: Conversation[S, E],
        chat_id: int,
        before: S,
        state: S,
        effects: Sequence[Effect],
        now: float,
    ) -> bool:
        """The step's state and its records (inside the step's transaction)."""
        moved = await conversation.save(chat_id, before, state, now)
        for effect in effects:
            if isinstance(effect, Record):
                await self.store.safety_log.record(chat_id, now, effect)
            elif isinstance(effect, History):
                await self.store.history.record(chat_id, now, effect)
        return moved

    async def _flush(
        self, chat_id: int, queue: tuple[Pending, ...] | None = None
    ) -> tuple[Pending, ...]:
        """Send the chat's outbox in order, striking each effect as it goes out; return what
        is left (nothing, unless Telegram is away). `queue`: the outbox as just stored."""
        chats = self.store.chats
        if queue is None:
            queue, _ = await chats.pending(chat_id)
        if not queue:
            return ()
        left = list(queue)
        marked = False  # left[0] was marked tried by this flush (not by one that was cut off)
        while left:
            effect = left[0]
            if effect.kind == "send" and effect.attempted and not marked:
                left.pop(0)  # it may have gone: never twice
                continue
            if effect.kind == "send" and not effect.attempted:
                left[0] = replace(effect, attempted=True)
                await chats.set_pending(chat_id, tuple(left), self.clock.now())
            marked = False
            try:
                message_id = await self._show(chat_id, effect)
            except ChatUnreachable:
                log.info("chat %s is unreachable; its timers stop", chat_id)
                await chats.set_pending(chat_id, (), None)
                await chats.set_active(chat_id, False, self.clock.now())
                await self.chat_gone(chat_id, self.clock.now())
                return ()
            except OutboxUnavailable as exc:
                if effect.kind == "send" and exc.maybe_delivered:
                    log.warning("a message to chat %s may not have arrived: %s", chat_id, exc)
                    left.pop(0)
                    continue
                if effect.kind == "edit":  # cosmetic: a countdown goes on without it
                    log.warning("an edit in chat %s failed: %s", chat_id, exc)
                    left.pop(0)
                    continue
                left[0] = replace(effect, attempted=False)  # not sent: it goes again, first
                retry_at = self.clock.now() + RETRY_PENDING
                await chats.set_pending(chat_id, tuple(left), retry_at)
                log.warning("chat %s: Telegram unavailable (%s); trying again", chat_id, exc)
                self.timers_changed()
                return tuple(left)
            except Exception:  # a message Telegram refuses is dropped, never retried for ever
                log.exception("an effect for chat %s was refused; dropped", chat_id)
                left.pop(0)
                continue
            left.pop(0)
            if effect.countdown and message_id is not None:
                await chats.set_pending(chat_id, tuple(left), self.clock.now())
                if await self.countdown_shown(chat_id, message_id, self.clock.now()):
                    self.timers_changed()
            elif left and left[0].kind == "send" and not left[0].attempted:
                # One write strikes this effect and marks the next as tried.
                left[0] = replace(left[0], attempted=True)
                await chats.set_pending(chat_id, tuple(left), self.clock.now())
                marked = True
        await chats.set_pending(chat_id, (), None)
        return ()

    async def _show(self, chat_id: int, effect: Pending) -> int | None:
        buttons = tuple(_button(label, data, row) for label, data, row in effect.buttons)
        if effect.kind == "send":
            return await self.outbox.send(chat_id, effect.text, buttons, picture=effect.picture)
        assert effect.message_id is not None
        await self.outbox.edit(
            chat_id, effect.message_id, effect.text, buttons, countdown=effect.countdown
        )
        return None


def _pending(effect: Send | Edit) -> tuple[Pending, ...]:
    """The outbox entries of an effect: one, or a picture and then its text when the text is
    too long for a caption."""
    buttons = tuple((b.label, b.data, b.row) for b in effect.buttons)
    if isinstance(effect, Edit):
        edit = Pending(
            "edit", effect.text, buttons, message_id=effect.message_id, countdown=effect.countdown
        )
        return (edit,)
    picture = effect.picture.key if effect.picture else None
    if picture is not None and len(effect.text) > CAPTION_LIMIT:
        return (
            Pending("send", "", picture=picture),
            Pending("send", effect.text, buttons, countdown=effect.countdown),
        )
    return (Pending("send", effect.text, buttons, countdown=effect.countdown, picture=picture),)


def _button(label: str, data: str, row: int | None) -> Button:
    decoded = decode(data)
    assert decoded is not None, f"stored button data {data!r} no longer decodes"
    return Button(label, decoded[0], decoded[1], row)


async def _countdown(chat_id: int, message_id: int, now: float) -> bool:
    """No conversation tracks countdowns (the app wires the routine's in)."""
    return False


async def _gone(chat_id: int, now: float) -> None:
    """No conversation to tell that a chat is gone (the app wires the routine's in)."""
