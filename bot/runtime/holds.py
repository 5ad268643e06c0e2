"""The routine's timers: every chat whose hold, rest or warm-up step is due, run side by side.

A chat's next timer is its row's `wake_at`; the routine decides what a late one means. A step
that fails is armed again a little later, never dropped, so no chat waits for ever.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace

from bot.core.events import Wake
from bot.runtime.conversations import RoutineConversation
from bot.runtime.runner import OutboxUnavailable, Runner
from bot.storage import Due

log = logging.getLogger(__name__)

# Real seconds before a timer step that failed is tried again: soon when Telegram was away,
# later for any other error (logged), so a chat is never left waiting for a timer for ever.
RETRY_UNAVAILABLE = 15.0
RETRY_ERROR = 60.0
# Timer steps of different chats run side by side, up to this many at once.
WAKE_CONCURRENCY = 32


class RoutineTimers:
    """The timer source of the routine (see bot.runtime.timers)."""

    def __init__(self, runner: Runner, routine: RoutineConversation) -> None:
        self.runner = runner
        self.routine = routine
        self.chats = runner.store.chats

    async def next_at(self) -> float | None:
        return await self.chats.next_wake()

    async def run_due(self) -> int:
        """Run every timer that is due now, chats side by side; return how many ran."""
        due = await self.chats.wakes_due(self.runner.clock.now())
        gate = asyncio.Semaphore(WAKE_CONCURRENCY)

        async def wake(item: Due) -> None:
            async with gate:
                try:
                    await self.runner.handle(self.routine, item.chat_id, Wake(item.at))
                except OutboxUnavailable as exc:
                    log.warning("timer of chat %s: Telegram unavailable (%s)", item.chat_id, exc)
                    await self._retry(item.chat_id, item.at, RETRY_UNAVAILABLE)
                except Exception:
                    log.exception("timer of chat %s failed", item.chat_id)
                    await self._retry(item.chat_id, item.at, RETRY_ERROR)

        await asyncio.gather(*(wake(item) for item in due))
        return len(due)

    async def _retry(self, chat_id: int, at: float, delay: float) -> None:
        """Arm the failed step again a little later; the routine carries on from there."""
        async with self.runner.locked(chat_id):
            state = await self.chats.load(chat_id)
            if state.routine and state.wake_at == at:
                now = self.runner.clock.now()
                state = replace(state, routine=replace(state.routine, wake_at=now + delay))
                await self.chats.save(chat_id, state, now)
                self.runner.timers_changed()
