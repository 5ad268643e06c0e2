"""Sending with a priority: steps before reminders before countdown edits, and stale countdown
edits dropped, so a release never waits behind cosmetic ticks."""

from __future__ import annotations

import asyncio

from bot.telegram.scheduler import Priority, SendScheduler


async def test_what_people_wait_for_goes_first_and_old_ticks_are_shed() -> None:
    """With the budget used up, a step queued last goes before earlier edits; stale edits go."""
    scheduler = SendScheduler(rate=20.0, shed_after=0.2)
    order: list[str] = []

    async def send(name: str, priority: Priority) -> None:
        if await scheduler.slot(priority):
            order.append(name)

    await asyncio.gather(*(send(f"warm-{i}", Priority.STEP) for i in range(20)))  # the budget
    queued = [asyncio.create_task(send(f"tick-{i}", Priority.COUNTDOWN)) for i in range(10)]
    queued.append(asyncio.create_task(send("reminder", Priority.REMINDER)))
    queued.append(asyncio.create_task(send("release", Priority.STEP)))
    await asyncio.gather(*queued)
    sent = order[20:]
    assert sent[:2] == ["release", "reminder"]
    assert scheduler.shed >= 1  # ticks that waited past 0.2 s were dropped, not sent late
    assert len(sent) + scheduler.shed == 12
