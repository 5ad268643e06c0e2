"""Housekeeping, once a day: the data of users who blocked the bot and never came back is
deleted after `inactive_days` (/privacy says so). A timer source (bot.runtime.timers)."""

from __future__ import annotations

import logging

from bot.runtime.clock import Clock
from bot.storage import Store

log = logging.getLogger(__name__)

DAY = 86400.0
# The first look comes this long after start-up, when the start-up's own work is done.
FIRST_LOOK = 60.0


class Housekeeping:
    def __init__(self, store: Store, clock: Clock, inactive_days: int) -> None:
        self.store = store
        self.clock = clock
        self.inactive_days = inactive_days
        self._next = clock.now() + FIRST_LOOK

    async def next_at(self) -> float:
        return self._next

    async def run_due(self) -> int:
        now = self.clock.now()
        if now < self._next:
            return 0
        self._next = now + DAY
        gone = await self.store.forget_inactive(now - self.inactive_days * DAY)
        if gone:
            log.info("deleted the data of %d users who blocked the bot over %d days ago",
                     gone, self.inactive_days)  # fmt: skip
        return gone
