"""The bot's conversations as the runner sees them: a pure machine, and its state's storage.

- The routine (consent, the safety check, warm-up, holds, Stop) keeps a `ChatState` row. Its
  steps read the steady clock: durations must not jump with the wall clock.
- Reminders (setting up, listing, time zones, snooze) keep the chat's zone and pending question,
  and its reminder rows; the runner stores what changed. Their steps read wall time: "7:00 in
  Madrid" is a wall-clock notion.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from bot.core.events import Effect, Event, Finished
from bot.core.reminder_types import OfferDaily, ReminderChat, ReminderEvent, Resume
from bot.core.reminders import ReminderSetup
from bot.core.routine import Routine
from bot.core.state import ChatState
from bot.runtime.clock import Clock
from bot.runtime.runner import FollowUp
from bot.storage import Store


class RoutineConversation:
    def __init__(
        self, routine: Routine, store: Store, reminders: ReminderConversation, clock: Clock
    ) -> None:
        self.routine = routine
        self.store = store
        self.reminders = reminders
        self.clock = clock  # steady: holds, rests and the warm-up are durations

    async def load(self, chat_id: int, locale: str | None) -> ChatState:
        state = await self.store.chats.load(chat_id)
        return replace(state, locale=locale) if locale and locale != state.locale else state

    def advance(self, state: ChatState, event: Event, now: float) -> tuple[ChatState, list[Effect]]:
        return self.routine.advance(state, event, now)

    async def countdown_shown(self, chat_id: int, message_id: int, now: float) -> bool:
        """The countdown message went out: later edits count down in it, and a hold held back
        by Telegram starts when it is seen (caller holds the lock). True when a timer moved."""
        state = await self.store.chats.load(chat_id)
        shown = self.routine.countdown_shown(state, message_id, now)
        if shown == state:
            return False
        await self.store.chats.save(chat_id, shown, now)
        return shown.wake_at != state.wake_at

    async def chat_gone(self, chat_id: int, now: float) -> None:
        """The user blocked the bot or the chat is gone: its routine and timers stop."""
        state = await self.store.chats.load(chat_id)
        if state.routine is not None:
            await self.store.chats.save(chat_id, replace(state, routine=None), now)

    async def save(self, chat_id: int, before: ChatState, after: ChatState, now: float) -> bool:
        await self.store.chats.save(chat_id, after, now)
        # A change of pause moves the reminders' timers too.
        return after.wake_at != before.wake_at or after.reminders_paused != before.reminders_paused

    def follow_ups(
        self, before: ChatState, after: ChatState, effects: Sequence[Effect]
    ) -> list[FollowUp]:
        follow: list[FollowUp] = []
        if before.reminders_paused and not after.reminders_paused:
            follow.append(FollowUp(self.reminders, Resume()))
        if any(isinstance(e, Finished) for e in effects):
            follow.append(FollowUp(self.reminders, OfferDaily()))
        return follow


class ReminderConversation:
    def __init__(self, setup: ReminderSetup, store: Store, clock: Clock) -> None:
        self.setup = setup
        self.store = store
        self.clock = clock  # wall time: a reminder is due at a time of day somewhere

    async def load(self, chat_id: int, locale: str | None) -> ReminderChat:
        settings = await self.store.chats.settings(chat_id)
        return ReminderChat(
            locale=locale or settings.locale,
            timezone=settings.timezone,
            draft=settings.draft,
            reminders=await self.store.reminders.of_chat(chat_id),
            paused=settings.reminders_paused,
            routine_running=settings.routine_running,
        )

    def advance(
        self, state: ReminderChat, event: ReminderEvent, now: float
    ) -> tuple[ReminderChat, list[Effect]]:
        return self.setup.advance(state, event, now)

    async def save(
        self, chat_id: int, before: ReminderChat, after: ReminderChat, now: float
    ) -> bool:
        """The chat's zone and pending question, then the reminders that came, went or moved."""
        # The language is kept too, so a reminder set before any routine step speaks it.
        if (before.timezone, before.draft) != (after.timezone, after.draft) or after.locale:
            await self.store.chats.save_settings(
                chat_id, after.timezone, after.draft, now, after.locale
            )
        reminders = self.store.reminders
        kept = {r.id for r in after.reminders}
        old = {r.id: r for r in before.reminders}
        moved = False
        for reminder in before.reminders:
            if reminder.id not in kept and reminder.id is not None:
                await reminders.delete(chat_id, reminder.id)
                moved = True
        for reminder in after.reminders:
            if reminder.id is None:
                await reminders.add(chat_id, reminder, now)
                moved = True
            elif old.get(reminder.id) not in (None, reminder):
                await reminders.update(old[reminder.id], reminder)
                moved = True
        return moved

    def follow_ups(
        self, before: ReminderChat, after: ReminderChat, effects: Sequence[Effect]
    ) -> list[FollowUp]:
        return []
