"""Load, measured side by side with a bare python-telegram-bot bot on the same emulated Bot API.

    .venv/bin/python -m benchmarks            # the full run (a few minutes)
    .venv/bin/python -m benchmarks --quick    # a smoke run (about a minute), as CI runs it

Scenarios:

- `updates`: users going through consent, the safety check, the warm-up and every hold, by taps
  and typed text. It reports the CPU time per update, as a ratio to a bare bot that answers
  each update with one sendMessage. Telegram's limits are off; timers run on a fake clock.
- `holds`: many users holding stretches at once, on the real clock, with AIORateLimiter. It
  reports how late each hold's release and its cues come against their schedule, and the 429s.
- `startup`: a database with many users and routines in progress. It reports the time from
  process start to the first getUpdates over HTTP, and the peak RSS of that process.

It prints a table and, as its last line, one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import resource
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from telegram import Update
from telegram.ext import ApplicationBuilder, ContextTypes, MessageHandler, filters

from bot.config import Settings
from bot.core.content import Content, load_content
from bot.devtools.emulator import Event, FakeTelegram
from bot.devtools.factory import EMULATOR_TOKEN, emulated_bot
from bot.devtools.http import HttpFront
from bot.runtime.clock import FakeClock
from bot.storage import SqliteStore
from bot.telegram.app import StretchBot

Figures = dict[str, float]


# --------------------------------------------------------------------------- updates


async def bare_bot_cpu(updates: int) -> float:
    """CPU seconds a bare bot spends on `updates` texts, each answered with one sendMessage."""
    server = FakeTelegram()

    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_chat is not None
        await context.bot.send_message(update.effective_chat.id, "ok")

    app = (
        ApplicationBuilder()
        .token(EMULATOR_TOKEN)
        .request(server.request())
        .get_updates_request(server.request())
        .build()
    )
    app.add_handler(MessageHandler(filters.ALL, echo))
    await app.initialize()
    batch = [server.user_sends(1000 + i % 50, f"hello {i}") for i in range(updates)]
    start = time.process_time()
    for raw in batch:
        await app.process_update(Update.de_json(raw, app.bot))
    spent = time.process_time() - start
    await app.shutdown()
    return spent


async def routine_updates(
    bot: StretchBot, server: FakeTelegram, content: Content, users: int
) -> int:
    """Every user through the routine; return how many updates the bot processed."""
    en = content.texts("en")
    clock = bot.clock
    assert isinstance(clock, FakeClock)
    count = 0

    async def process(raw: dict[str, Any]) -> None:
        nonlocal count
        count += 1
        await bot.app.process_update(Update.de_json(raw, bot.app.bot))

    async def advance(seconds: float) -> None:
        target = clock.now() + seconds
        while (due := await bot.timers.next_at()) is not None and due <= target:
            clock.set(max(due, clock.now()))
            await bot.timers.run_due()
        clock.set(target)

    chats = [50_000 + i for i in range(users)]
    for chat in chats:
        await process(server.user_sends(chat, "/start"))
        await process(server.user_sends(chat, "hello?"))  # typed where a button is expected
        await process(server.user_taps(chat, en.buttons.accept))
        for _ in content.routine.safety.questions:
            await process(server.user_taps(chat, en.safety.buttons.no))
        await process(server.user_taps(chat, en.safety.buttons.none_of_these))
        await process(server.user_taps(chat, en.buttons.warm))
    for _ in range(4):  # all users hold side by side
        for chat in chats:
            await process(server.user_taps(chat, en.buttons.start_hold))
        await process(server.user_sends(chats[0], "how long?"))
        await advance(46)
    return count


async def updates_scenario(content: Content, users: int) -> Figures:
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(database=Path(tmp) / "b.sqlite3", _env_file=None)
        server = FakeTelegram()
        clock = FakeClock()
        async with emulated_bot(settings, content, server, clock=clock, run_timers=False) as bot:
            timers = 0.0
            run_due = bot.timers.run_due

            async def timed() -> int:  # the holds' timers are counted apart from the updates
                nonlocal timers
                begun = time.process_time()
                ran = await run_due()
                timers += time.process_time() - begun
                return ran

            bot.timers.run_due = timed  # type: ignore[method-assign]
            start = time.process_time()
            updates = await routine_updates(bot, server, content, users)
            ours = time.process_time() - start - timers
    bare = await bare_bot_cpu(updates)
    return {
        "updates": updates,
        "cpu_ms_per_update": 1000 * ours / updates,
        "bare_cpu_ms_per_update": 1000 * bare / updates,
        "cpu_ratio_to_bare": ours / bare,
        "timer_cpu_ms_per_hold": 1000 * timers / (4 * users),
    }


# --------------------------------------------------------------------------- holds


async def holds_scenario(content: Content, users: int, speed: float) -> Figures:
    """`users` start a hold within a second; lateness of cues and releases on the real clock."""
    en = content.texts("en")
    hold = content.routine.exercises[0].hold.seconds
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(database=Path(tmp) / "h.sqlite3", speed=speed, _env_file=None)
        server = FakeTelegram()
        started: dict[int, float] = {}
        released: dict[int, float] = {}
        halfway: dict[int, float] = {}

        def listen(event: Event) -> None:
            if event.kind != "sent" or event.message is None or event.chat_id is None:
                return
            # The release opens the rest's message; one handled late says it is late.
            late = en.hold.ended_late.split("{", 1)[0]
            text = event.message.text
            if text.startswith(en.hold.finished) or text.startswith(late):
                released.setdefault(event.chat_id, time.time())
            elif event.message.text == en.hold.cues["halfway"]:
                halfway.setdefault(event.chat_id, time.time())

        server.add_listener(listen)
        chats = [60_000 + i for i in range(users)]
        async with emulated_bot(settings, content, server, rate_limit=True) as bot:

            async def process(raw: dict[str, Any]) -> None:
                await bot.app.process_update(Update.de_json(raw, bot.app.bot))

            for chat in chats:
                await process(server.user_sends(chat, "/start"))
                await process(server.user_taps(chat, en.buttons.accept))
                for _ in content.routine.safety.questions:
                    await process(server.user_taps(chat, en.safety.buttons.no))
                await process(server.user_taps(chat, en.safety.buttons.none_of_these))
                await process(server.user_taps(chat, en.buttons.warm))
            for chat in chats:
                started[chat] = time.time()
                await process(server.user_taps(chat, en.buttons.start_hold))
            waited = hold / speed + 120
            with contextlib.suppress(TimeoutError):  # what did not come in time is counted
                await server.wait_until(lambda: len(released) == users, within=waited)
        rejected = sum(1 for r in server.rejections if "Too Many Requests" in r)
    # A release that never came within the wait counts as that late (a lower bound).
    late_release = sorted(
        released.get(c, started[c] + waited) - started[c] - hold / speed for c in chats
    )
    late_cue = sorted(halfway[c] - started[c] - hold / 2 / speed for c in chats if c in halfway)
    return {
        "users": users,
        "released_in_time": len(released),
        "release_late_p50_s": statistics.median(late_release),
        "release_late_p99_s": late_release[max(0, int(len(late_release) * 0.99) - 1)],
        "cue_late_p50_s": statistics.median(late_cue) if late_cue else float("nan"),
        "cue_late_p99_s": late_cue[max(0, int(len(late_cue) * 0.99) - 1)] if late_cue else 0.0,
        "http_429": rejected,
    }


# --------------------------------------------------------------------------- start-up


async def seed(database: Path, users: int, routines: int) -> None:
    """`users` chats with consent, `routines` of them in the middle of a hold."""
    store = SqliteStore(database)
    await store.open()  # the schema
    await store.close()
    now = time.time()
    hold = '{"v":1,"phase":"hold","stretch":1,"started_at":%f,"ends_at":%f,"wake_at":%f}'
    with sqlite3.connect(database) as db:
        db.executemany(
            "INSERT INTO chats (chat_id, consent_version, consent_at, routine, wake_at, "
            "updated_at) VALUES (?, 'v', ?, ?, ?, ?)",
            (
                (
                    i,
                    now,
                    hold % (now, now + 3600, now + 3600) if i < routines else None,
                    now + 3600 if i < routines else None,
                    now,
                )
                for i in range(1, users + 1)
            ),
        )


async def startup_scenario(users: int, routines: int) -> Figures:
    with tempfile.TemporaryDirectory() as tmp:
        database = Path(tmp) / "s.sqlite3"
        await seed(database, users, routines)
        front = await HttpFront(FakeTelegram()).start()
        env = {k: v for k, v in os.environ.items() if not k.startswith(("TELEGRAM", "STRETCH"))}
        env.update(
            TELEGRAM_BOT_TOKEN=EMULATOR_TOKEN,
            TELEGRAM_BASE_URL=front.base_url,
            STRETCHBOT_DATABASE=str(database),
        )
        started = time.perf_counter()
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "bot", "run", env=env, cwd=tmp,
            stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
        )  # fmt: skip

        server = front.server
        await server.wait_until(
            lambda: any(name == "getUpdates" for name, _ in server.calls), within=60
        )
        polled = time.perf_counter() - started
        await asyncio.sleep(2.0)  # the timers of the routines in progress are armed meanwhile
        process.terminate()
        await process.wait()
        await front.stop()
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return {
        "users": users,
        "routines": routines,
        "seconds_to_first_poll": polled,
        "peak_rss_mb": peak_kb / 1024,
    }


# --------------------------------------------------------------------------- the run


def table(results: dict[str, Figures]) -> str:
    lines = ["| scenario | figure | value |", "| --- | --- | --- |"]
    for scenario, figures in results.items():
        for name, value in figures.items():
            shown = f"{value:.3f}" if isinstance(value, float) else str(value)
            lines.append(f"| {scenario} | {name} | {shown} |")
    return "\n".join(lines)


async def main(quick: bool) -> None:
    content = load_content()
    runs: list[tuple[str, Callable[[], Awaitable[Figures]]]] = [
        ("updates", lambda: updates_scenario(content, 10 if quick else 100)),
        ("holds", lambda: holds_scenario(content, 50 if quick else 200, 10.0 if quick else 1.0)),
        ("startup", lambda: startup_scenario(10_000 if quick else 100_000, 1_000)),
    ]
    results: dict[str, Figures] = {}
    for name, run in runs:
        results[name] = await run()
    print(
        f"{time.strftime('%Y-%m-%d')}, {os.cpu_count()} cores, {'quick' if quick else 'full'} run"
    )
    print(table(results))
    print(json.dumps(results))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="a smoke run of about a minute")
    asyncio.run(main(parser.parse_args().quick))
