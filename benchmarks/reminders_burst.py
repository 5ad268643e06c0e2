"""How late do reminders fire when many users are due in the same minute, and how long does a
restart take to re-arm them?

Runs the real bot (Application, AIORateLimiter, timer loop, SQLite) on the in-process emulated
Bot API with the real clock. N chats each have a reminder due at the same instant, a few
seconds after start-up. Reports start-up (re-arm) time and the lateness of every reminder.

    .venv/bin/python benchmarks/reminders_burst.py --users 1000
    .venv/bin/python benchmarks/reminders_burst.py --users 1000 --no-rate-limit
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from telegram import Update

from bot.config import Settings
from bot.core.content import Content, load_content
from bot.core.reminder_types import Reminder
from bot.core.times import EVERY_DAY
from bot.devtools.emulator import Event, FakeTelegram
from bot.devtools.factory import emulated_bot
from bot.storage import SqliteStore
from bot.telegram.app import StretchBot


async def seed(database: Path, users: int, due: float) -> None:
    store = SqliteStore(database)
    await store.open()
    local = datetime.fromtimestamp(due, UTC).time().replace(second=0, microsecond=0)
    for chat_id in range(1, users + 1):
        await store.reminders.add(chat_id, Reminder(None, local, EVERY_DAY, due), time.time())
    await store.close()


@dataclass
class Hold:
    started: float = 0.0
    released: list[float] = field(default_factory=list)


async def hold_through_the_burst(
    bot: StretchBot, server: FakeTelegram, content: Content, holder: int, due: float
) -> Hold:
    """One more user starts a 30 s hold that ends 5 s into the burst; its release is timed."""
    en = content.texts("en")

    async def process(update: dict[str, Any]) -> None:
        await bot.app.process_update(Update.de_json(update, bot.app.bot))

    await process(server.user_sends(holder, "/start"))
    no_signs = [en.safety.buttons.no] * len(content.routine.safety.questions)
    for label in (en.buttons.accept, *no_signs, en.safety.buttons.none_of_these, en.buttons.warm):
        await process(server.user_taps(holder, label))
    await asyncio.sleep(max(0.0, due - time.time() - 25))
    hold = Hold()
    server.add_listener(
        lambda e: (
            hold.released.append(time.time())
            if e.kind == "sent"
            and e.chat_id == holder
            and e.message
            and e.message.text.startswith(en.hold.finished)
            else None
        )
    )
    hold.started = time.time()
    await process(server.user_taps(holder, en.buttons.start_hold))
    return hold


async def main(users: int, rate_limit: bool, lead: float) -> None:
    content = load_content()
    variants = set(content.texts("en").reminders.messages)
    with tempfile.TemporaryDirectory() as tmp:
        database = Path(tmp) / "bench.sqlite3"
        due = time.time() + lead
        t0 = time.perf_counter()
        await seed(database, users, due)
        seeded = time.perf_counter() - t0

        server = FakeTelegram()
        for chat_id in range(1, users + 1):
            server.add_chat(chat_id)
        sent_at: list[float] = []
        server.add_listener(
            lambda e: (
                sent_at.append(time.time())
                if isinstance(e, Event)
                and e.kind == "sent"
                and e.message
                and e.message.text in variants
                else None
            )
        )
        settings = Settings(database=database, _env_file=None)
        t0 = time.perf_counter()
        # Starting opens the database and starts the timer loops: the re-arm.
        async with emulated_bot(settings, content, server, rate_limit=rate_limit) as bot:
            next_due = await bot.timers.next_at()
            rearm = time.perf_counter() - t0
            assert next_due is not None and abs(next_due - due) < 1e-3
            hold = await hold_through_the_burst(bot, server, content, users + 1, due)
            await server.wait_until(lambda: len(sent_at) >= users, within=lead + users / 10 + 60)
            await server.wait_until(lambda: bool(hold.released), within=60)

    late = sorted(t - due for t in sent_at)
    print(f"users: {users}, AIORateLimiter: {'on' if rate_limit else 'off'}")
    print(f"seeding {users} reminders: {seeded:.2f} s")
    print(
        f"start-up and re-arm (open db, set commands, first next-due query): {rearm * 1000:.0f} ms"
    )
    print(
        "lateness after the due time: "
        f"first {late[0]:.3f} s, median {statistics.median(late):.2f} s, "
        f"p95 {late[int(len(late) * 0.95) - 1]:.2f} s, last {late[-1]:.2f} s"
    )
    print(f"sent: {len(late)} reminders (each once: {len(late) == users})")
    print(
        "a 30 s hold running through the burst ended "
        f"{hold.released[0] - hold.started - 30:.2f} s late"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--no-rate-limit", action="store_true")
    parser.add_argument("--lead", type=float, default=26.0, help="seconds from start to due time")
    args = parser.parse_args()
    asyncio.run(main(args.users, not args.no_rate_limit, args.lead))
