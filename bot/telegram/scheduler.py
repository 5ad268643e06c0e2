"""Sending with a priority, not only a rate: what a person is waiting for goes first.

Telegram allows about 30 messages a second per bot. When more are due than that (hundreds of
people holding at once), a first-in-first-out limiter makes a release wait behind countdown
edits. Here every send waits for a slot in the order of its priority: step messages and cues,
then reminders, then countdown edits. A countdown edit that has waited too long is dropped
(shed): the next one shows the newer number anyway. Each waits on its own clock, so a stream of
steps and reminders can never hold one up (and its hold's timer with it) past `shed_after`.

Telegram also limits each chat (about one message a second, with short bursts): a send first
waits for its chat's turn, so one person tapping fast never earns a 429, which would stop every
send of the bot while it lasts.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from enum import IntEnum


class Priority(IntEnum):
    STEP = 0  # what the person is waiting for: a step, a cue, an answer, a redrawn choice
    REMINDER = 1
    COUNTDOWN = 2  # cosmetic: shed first


# Below Telegram's ~30 a second, leaving room for answers to button presses.
RATE = 25.0
# A countdown edit not sent within this many seconds is dropped.
SHED_AFTER = 2.0
# Each chat: this many sends at once, then one a second.
CHAT_BURST = 3.0
CHAT_RATE = 1.0


class _Bucket:
    """One chat's tokens; its lock keeps two sends of the chat from taking the same one."""

    def __init__(self, tokens: float, at: float) -> None:
        self.tokens = tokens
        self.at = at
        self.lock = asyncio.Lock()


class SendScheduler:
    def __init__(
        self,
        rate: float = RATE,
        shed_after: float = SHED_AFTER,
        burst: float | None = None,
        chat_rate: float = CHAT_RATE,
    ) -> None:
        self.rate = rate
        self.chat_rate = chat_rate
        self._chats: dict[int, _Bucket] = {}
        self.shed_after = shed_after
        self.burst = rate if burst is None else burst  # sends at once (a second's worth)
        self.shed = 0  # countdown edits dropped so far
        self._waiting: list[tuple[int, int, float, asyncio.Future[bool]]] = []
        self._order = itertools.count()
        self._tokens = self.burst
        self._refilled = time.monotonic()
        self._pump: asyncio.Task[None] | None = None

    async def slot(self, priority: Priority, chat_id: int | None = None) -> bool:
        """Wait for a turn to send (the chat's, then the bot's); False when a countdown edit is
        shed instead."""
        since = time.monotonic()
        if chat_id is not None and not await self._chat_turn(chat_id, since, priority):
            return self._shed()
        future: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._waiting, (int(priority), next(self._order), since, future))
        if self._pump is None or self._pump.done():
            self._pump = asyncio.create_task(self._run(), name="stretchbot-send-scheduler")
        if priority != Priority.COUNTDOWN:
            return await future
        left = self.shed_after - (time.monotonic() - since)
        try:
            return await asyncio.wait_for(asyncio.shield(future), max(left, 0.0))
        except TimeoutError:  # shed on its own clock, whatever is queued ahead of it
            if future.done():
                return future.result()
            future.set_result(False)
            return self._shed()

    def _shed(self) -> bool:
        self.shed += 1
        return False

    async def _chat_turn(self, chat_id: int, since: float, priority: Priority) -> bool:
        """Wait for a token of the chat's own bucket; False when a countdown edit would wait
        past `shed_after` for it."""
        bucket = self._chats.get(chat_id)
        if bucket is None:
            if len(self._chats) > 10_000:  # forget chats whose buckets are full again
                self._prune(since)
            bucket = self._chats[chat_id] = _Bucket(CHAT_BURST, since)
        async with bucket.lock:
            now = time.monotonic()
            bucket.tokens = min(CHAT_BURST, bucket.tokens + (now - bucket.at) * self.chat_rate)
            bucket.at = now
            if bucket.tokens < 1:
                wait = (1 - bucket.tokens) / self.chat_rate
                if priority == Priority.COUNTDOWN and now + wait - since > self.shed_after:
                    return False
                await asyncio.sleep(wait)
                bucket.tokens, bucket.at = 1.0, time.monotonic()
            bucket.tokens -= 1
        return True

    def _prune(self, now: float) -> None:
        full = [
            chat
            for chat, b in self._chats.items()
            if not b.lock.locked() and b.tokens + (now - b.at) * self.chat_rate >= CHAT_BURST
        ]
        for chat in full:
            del self._chats[chat]

    async def _run(self) -> None:
        while self._waiting:
            now = time.monotonic()
            self._tokens = min(self.burst, self._tokens + (now - self._refilled) * self.rate)
            self._refilled = now
            if self._tokens < 1:
                await asyncio.sleep((1 - self._tokens) / self.rate)
                continue
            priority, _, since, future = heapq.heappop(self._waiting)
            if future.done():  # its sender gave up (shutdown)
                continue
            if priority == Priority.COUNTDOWN and now - since > self.shed_after:
                future.set_result(self._shed())
                continue
            self._tokens -= 1
            future.set_result(True)
