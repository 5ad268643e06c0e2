"""The routine's timers: every chat whose hold, rest or warm-up step is due, run side by side.

A chat's next timer is its row's `wake_at`; the routine decides what a late one means. A step
that fails is armed again a little later, never dropped, so no chat waits for ever.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace

from bot.core.events import Wake
from bot.metrics import Metrics
from bot.runtime.conversations import RoutineConversation
from bot.runtime.runner import Runner
from bot.storage import Due, StoreUnavailable

log = logging.getLogger(__name__)

# Real seconds before a timer step that failed (the database locked, say) is tried again, so a
# chat is never left waiting for ever. Telegram being away is not a failure here: the step is
# saved, and its messages wait in the chat's outbox (bot.runtime.runner).
RETRY_ERROR = 10.0
# Timer steps of different chats run side by side, up to this many at once.
WAKE_CONCURRENCY = 32


class RoutineTimers:
    """The timer source of the routine (see bot.runtime.timers)."""

    def __init__(
        self, runner: Runner, routine: RoutineConversation, metrics: Metrics | None = None
    ) -> None:
        self.runner = runner
        self.routine = routine
        self.chats = runner.store.chats
        self.metrics = metrics or Metrics()

    async def next_at(self) -> float | None:
        return await self.chats.next_wake(self.runner.clock.now())

    async def run_due(self) -> int:
        """Run every timer that is due now, chats side by side; return how many ran."""
        due = await self.chats.wakes_due(self.runner.clock.now())
        gate = asyncio.Semaphore(WAKE_CONCURRENCY)

        async def wake(item: Due) -> None:
            async with gate:
                try:
                    if item.at is None:  # only effects of an earlier step wait to be shown
                        await self.runner.deliver(item.chat_id)
                        return
                    self.metrics.late("routine", self.runner.clock.now() - item.at)
                    await self.runner.handle(self.routine, item.chat_id, Wake(item.at))
                except StoreUnavailable as exc:  # one line, not a traceback a second
                    log.warning("timer of chat %s waits for the database: %s", item.chat_id, exc)
                    if item.at is not None:
                        await self._retry(item.chat_id, item.at, RETRY_ERROR)
                except Exception:
                    log.exception("timer of chat %s failed", item.chat_id)
                    if item.at is not None:
                        await self._retry(item.chat_id, item.at, RETRY_ERROR)

        await asyncio.gather(*(wake(item) for item in due))
        return len(due)

    async def _retry(self, chat_id: int, at: float, delay: float) -> None:
        """Arm the failed step again a little later; the routine carries on from there."""
        try:
            await self._arm_again(chat_id, at, delay)
        except Exception as exc:  # the database is still away: the loop looks again soon
            log.warning("could not re-arm the timer of chat %s: %s", chat_id, exc)

    async def _arm_again(self, chat_id: int, at: float, delay: float) -> None:
        async with self.runner.locked(chat_id):
            state = await self.chats.load(chat_id)
            if state.routine and state.wake_at == at:
                now = self.runner.clock.now()
                state = replace(state, routine=replace(state.routine, wake_at=now + delay))
                await self.chats.save(chat_id, state, now)
                self.runner.timers_changed()
