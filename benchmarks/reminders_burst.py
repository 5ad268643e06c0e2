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
from datetime import UTC, datetime
from pathlib import Path

from telegram import Update

from bot.config import Settings
from bot.core.content import load_content
from bot.devtools.emulator import Event, FakeTelegram
from bot.storage import SqliteStore
from bot.telegram.app import StretchBot

TOKEN = "424242:BENCH-token-abcdefghijklmnopqrstuvwxyz"


async def seed(database: Path, users: int, due: float) -> None:
    store = SqliteStore(database)
    await store.open()
    hhmm = datetime.fromtimestamp(due, UTC).strftime("%H:%M")
    for chat_id in range(1, users + 1):
        await store.add_reminder(chat_id, hhmm, "every_day", due, time.time())
    await store.close()


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
        settings = Settings(stretchbot_database=database, _env_file=None)  # type: ignore[call-arg]
        bot = StretchBot(
            settings,
            content,
            token=TOKEN,
            request=server.request(),
            get_updates_request=server.request(),
            rate_limit=rate_limit,
        )
        t0 = time.perf_counter()
        await bot.app.initialize()
        await bot.startup()  # opens the database and starts the timer loop: the re-arm
        next_due = await bot.timers.next_at()
        rearm = time.perf_counter() - t0
        assert next_due is not None and abs(next_due - due) < 1e-3

        # Meanwhile one user holds a stretch that ends 5 s into the burst.
        holder = users + 1
        en = content.texts("en")
        await bot.app.process_update(
            Update.de_json(server.user_sends(holder, "/start"), bot.app.bot)
        )
        no_signs = [en.safety.buttons.no] * len(content.routine.safety.questions)
        for label in (
            en.buttons.accept,
            *no_signs,
            en.safety.buttons.none_of_these,
            en.buttons.warm,
        ):
            update = server.user_taps(holder, label)
            await bot.app.process_update(Update.de_json(update, bot.app.bot))
        await asyncio.sleep(max(0.0, due - time.time() - 25))  # a 30 s hold ending at due + 5
        press = server.user_presses(
            holder,
            server.last(holder).message_id,
            server.last(holder).buttons[0][0].callback_data or "",
        )
        hold_started = time.time()
        await bot.app.process_update(Update.de_json(press, bot.app.bot))
        released: list[float] = []
        server.add_listener(
            lambda e: (
                released.append(time.time())
                if e.kind == "sent"
                and e.chat_id == holder
                and e.message
                and "Time's up" in e.message.text
                else None
            )
        )

        await server.wait_until(lambda: len(sent_at) >= users, within=lead + users / 10 + 60)
        await server.wait_until(lambda: bool(released), within=60)
        await bot.shutdown()
        await bot.app.shutdown()

    late = sorted(t - due for t in sent_at)
    assert released
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
        f"a 30 s hold running through the burst ended {released[0] - hold_started - 30:.2f} s late"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--no-rate-limit", action="store_true")
    parser.add_argument("--lead", type=float, default=26.0, help="seconds from start to due time")
    args = parser.parse_args()
    asyncio.run(main(args.users, not args.no_rate_limit, args.lead))
