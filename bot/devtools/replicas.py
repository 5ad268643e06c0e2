"""A replica's death, for tests and benchmarks of several replicas on one PostgreSQL database."""

from __future__ import annotations

import asyncio

from bot.storage.postgres import PostgresStore
from bot.telegram.app import StretchBot


async def kill(bot: StretchBot, holding: list[int] | None = None) -> None:
    """The replica's process dies: its timer loops stop mid-step, its leases are not given
    back, its connections drop. `holding`: chats whose lease it held at that moment, in the
    middle of a step of each (the worst case: the others wait for those leases to run out)."""
    bot.killed = True
    bot.timers._stopping = True  # a loop that lived through its cancellation ends anyway
    tasks = list(bot.timers._tasks)
    for task in tasks:
        task.cancel()
    await asyncio.wait(tasks, timeout=10)
    bot.timers._tasks = []
    store = bot.store
    assert isinstance(store, PostgresStore)
    for chat in holding or []:
        await store._take(chat)
    await store.abandon()
