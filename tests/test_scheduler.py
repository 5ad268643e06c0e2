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


async def test_a_countdown_edit_is_shed_on_its_own_clock_behind_a_stream_of_reminders() -> None:
    """200 reminders queued ahead: the edit is not left waiting for its turn in the queue (its
    hold's timer waits on it); it is dropped once it has waited `shed_after`."""
    scheduler = SendScheduler(rate=20.0, shed_after=0.2)
    reminders = [asyncio.create_task(scheduler.slot(Priority.REMINDER)) for _ in range(200)]
    loop = asyncio.get_running_loop()
    began = loop.time()
    sent = await scheduler.slot(Priority.COUNTDOWN)
    waited = loop.time() - began
    assert not sent and scheduler.shed == 1
    assert waited < 0.5  # not the 10 s the reminders take
    for task in reminders:
        task.cancel()


async def test_each_chat_keeps_to_its_own_pace_and_others_are_not_held_up() -> None:
    """Three at once, then one a second per chat (Telegram's per-chat limit, scaled by 20 here),
    while another chat sends at once."""
    scheduler = SendScheduler(rate=1000.0, chat_rate=20.0)
    loop = asyncio.get_running_loop()
    began = loop.time()
    times: list[float] = []

    async def send(chat: int) -> None:
        await scheduler.slot(Priority.STEP, chat)
        if chat == 1:
            times.append(loop.time() - began)

    await asyncio.gather(*(send(1) for _ in range(6)))
    other = loop.time()
    await send(2)
    assert loop.time() - other < 0.02  # a chat with tokens left goes at once
    assert max(times[:3]) < 0.02  # the burst
    assert times[5] >= 3 / 20 - 0.01  # then one every 1/20 s
