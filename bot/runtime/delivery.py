"""Reminder delivery: claim each due reminder, send it, retry when Telegram is away.

A reminder is claimed (moved on with a conditional update) before it is sent, so it goes at
most once, even with several processes on one database. A send that fails because Telegram is
away is tried again every minute (its own `retry_at`) while it is within the grace period; one
cut off by a shutdown gives its claim back, so the restart sends it.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from bot.core.recurrence import late_policy, next_due
from bot.core.reminder_types import Reminder, ReminderChat
from bot.core.reminders import ReminderSetup, latest_due
from bot.metrics import Metrics
from bot.runtime.clock import Clock
from bot.runtime.runner import ChatUnreachable, OutboxUnavailable, Runner
from bot.storage import StoreUnavailable

log = logging.getLogger(__name__)

# How many reminders are sent at once; the rate limiter keeps the pace within Telegram's limits.
# Few, so a hold's messages wait behind at most a handful of reminders.
SEND_CONCURRENCY = 8
# A send that failed (Telegram away) is tried again this often (real seconds), within the grace.
RETRY_SECONDS = 60.0


def _at(epoch: float) -> datetime:
    return datetime.fromtimestamp(epoch, UTC)


class Delivery:
    """The timer source of reminders (see bot.runtime.timers), on wall time (`clock`)."""

    def __init__(
        self,
        runner: Runner,
        setup: ReminderSetup,
        clock: Clock,
        *,
        grace_minutes: float,
        metrics: Metrics | None = None,
    ) -> None:
        self.runner = runner
        self.metrics = metrics or Metrics()
        self.setup = setup
        self.clock = clock
        self.store = runner.store
        self.grace = timedelta(minutes=grace_minutes)

    async def next_at(self) -> float | None:
        return await self.store.reminders.next_due_at()

    async def run_due(self) -> int:
        """Send every reminder that is due, earliest first; schedule each one's next time."""
        due = await self.store.reminders.due(self.clock.now())
        gate = asyncio.Semaphore(SEND_CONCURRENCY)

        async def one(chat_id: int, reminder: Reminder) -> None:
            async with gate:
                try:
                    await self._fire(chat_id, reminder)
                except Exception:
                    log.exception("reminder %s of chat %s failed", reminder.id, chat_id)

        await asyncio.gather(*(one(chat_id, reminder) for chat_id, reminder in due))
        return len(due)

    async def _fire(self, chat_id: int, reminder: Reminder) -> None:
        now = self.clock.now()
        settings = await self.store.chats.settings(chat_id)
        chat = ReminderChat(locale=settings.locale, timezone=settings.timezone)
        zone = self.setup.zone(chat)
        send_for: datetime | None = None  # the due time this send answers
        after = reminder
        if reminder.retry_at is not None and reminder.retry_at <= now:
            send_for = _at(reminder.retry_of or reminder.retry_at)
            after = replace(after, retry_at=None, retry_of=None)
        if reminder.snooze_at is not None and reminder.snooze_at <= now:
            send_for = _at(reminder.snooze_at)
            after = replace(after, snooze_at=None)
        if reminder.next_due <= now:
            # After a long downtime judge the latest missed time, not the oldest.
            missed = latest_due(reminder, zone, _at(now))
            send_for = max(send_for, missed) if send_for else missed
            after = replace(
                after,
                next_due=next_due(reminder.local_time, reminder.days, zone, _at(now)).timestamp(),
            )
        if send_for is not None and late_policy(send_for, _at(now), self.grace) == "skip":
            log.info("reminder %s is %s late; skipped", reminder.id, _at(now) - send_for)
            send_for = None
        if send_for is not None and settings.routine_running:
            log.info("reminder %s: chat %s is stretching already; skipped", reminder.id, chat_id)
            send_for = None
        # Claim it before sending: a reminder is never sent twice, even by two processes.
        if not await self.store.reminders.update(reminder, after):
            return
        if send_for is None:
            return
        self.metrics.late("reminder", now - send_for.timestamp())
        message = self.setup.message(chat, reminder, now)
        try:
            async with self.runner.locked(chat_id):
                await self.runner.outbox.send(chat_id, message.text, message.buttons, reminder=True)
        except asyncio.CancelledError:
            # Stopped before it went out: give the claim back, so the restart sends it.
            await self.store.reminders.update(after, reminder)
            raise
        except ChatUnreachable:
            log.info("chat %s is unreachable; its reminders pause", chat_id)
            await self.store.chats.set_active(chat_id, False, now)
        except (OutboxUnavailable, StoreUnavailable) as exc:
            # Telegram away, or the chat could not be had (the database away, the chat held
            # by another replica for too long): not sent, so tried again within the grace.
            retry_at = now + RETRY_SECONDS
            if late_policy(send_for, _at(retry_at), self.grace) == "send":
                log.warning("reminder %s not sent (%s); trying again", reminder.id, exc)
                retry = replace(after, retry_at=retry_at, retry_of=send_for.timestamp())
                await self.store.reminders.update(after, retry)
                self.runner.timers_changed()
            else:
                log.warning("reminder %s not sent past its grace (%s); dropped", reminder.id, exc)
