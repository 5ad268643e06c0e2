"""Housekeeping, once a day: the data of users who blocked the bot and never came back is
deleted after `inactive_days` (/privacy says so), and updates seen over two days ago are
forgotten. A timer source (bot.runtime.timers)."""

from __future__ import annotations

import logging

from bot.runtime.clock import Clock
from bot.storage import Store, StoreUnavailable

log = logging.getLogger(__name__)

DAY = 86400.0
# Updates noted as seen are kept this long (Telegram keeps an undelivered update for a day).
SEEN_UPDATES_KEPT = 2 * DAY
# The first look comes this long after start-up, when the start-up's own work is done.
FIRST_LOOK = 60.0
# After the database was locked or away, the next look.
RETRY = 600.0


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
        try:
            await self.store.forget_updates(now - SEEN_UPDATES_KEPT)
            gone = await self.store.forget_inactive(now - self.inactive_days * DAY)
        except StoreUnavailable as exc:  # locked or away: look again a little later
            log.warning("housekeeping waits for the database: %s", exc)
            self._next = now + RETRY
            return 0
        self._next = now + DAY
        if gone:
            log.info("deleted the data of %d users who blocked the bot over %d days ago",
                     gone, self.inactive_days)  # fmt: skip
        return gone
