"""A harness that runs the real bot on the emulated Bot API with a fake clock: one user chatting
with the bot, taps, time passing, and what the chat shows."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import Iterator
from contextlib import AsyncExitStack, contextmanager
from pathlib import Path
from typing import Any

import psycopg
from telegram import Update

from bot.config import Settings
from bot.core.content import Content
from bot.devtools.emulator import FakeTelegram, Limits, SentMessage
from bot.devtools.factory import emulated_bot
from bot.runtime.clock import FakeClock, MonotonicClock, SystemClock
from bot.storage import SqliteStore, Store
from bot.storage.postgres import PostgresStore
from bot.telegram.app import StretchBot

CHAT = 4242


class Harness:
    """One user chatting with the bot: say things, tap buttons, let time pass, look at the chat."""

    def __init__(
        self,
        tmp_path: Path,
        content: Content,
        speed: float = 1.0,
        *,
        real_time: bool = False,
        rate_limit: bool = False,
        monotonic: bool = False,
        busy_timeout: float = 0.05,
        limits: Limits | None = None,
        rate_scale: float = 1.0,
        postgres: str | None = None,
    ) -> None:
        """`limits`: the emulated Telegram enforces its flood limits (on the real clock unless
        they say otherwise); `rate_scale` multiplies the rates the bot keeps to. `postgres`: a
        PostgreSQL database's URL to run on instead of a SQLite file."""
        self.database = tmp_path / "stretchbot.sqlite3"
        self.postgres = postgres
        self.content = content
        self.clock: FakeClock | SystemClock = SystemClock() if real_time else FakeClock()
        # `monotonic`: the routine's durations run on a MonotonicClock over the fake wall clock
        # and a fake monotonic count (`ticks`), so a test can set the wall clock alone. Otherwise
        # the one FakeClock serves as both.
        self.ticks: FakeClock | None = FakeClock(start=1000.0) if monotonic else None
        self.real_time = real_time
        self.rate_limit = rate_limit
        self.rate_scale = rate_scale
        self.server = FakeTelegram(now=self.clock.now, limits=limits)
        self.settings = Settings(database=self.database, speed=speed, _env_file=None)
        self.busy_timeout = busy_timeout  # how long a write waits for a locked database
        self.bot: StretchBot | None = None
        self._running = AsyncExitStack()

    async def start(self) -> StretchBot:
        """Start (or restart) the bot process on the same database and server."""
        self.bot = await self._running.enter_async_context(
            emulated_bot(
                self.settings,
                self.content,
                self.server,
                clock=self.clock,
                # A new process anchors its steady clock to the wall clock again.
                steady_clock=None
                if self.ticks is None
                else MonotonicClock(self.clock, self.ticks.now),
                store=self.new_store(),
                # With the fake clock the test moves time and runs due timers itself.
                run_timers=self.real_time,
                rate_limit=self.rate_limit,
                rate_scale=self.rate_scale,
            )
        )
        return self.bot

    def new_store(self) -> Store:
        if self.postgres is not None:
            return PostgresStore(self.postgres)
        return SqliteStore(self.database, busy_timeout=self.busy_timeout)

    async def stop(self) -> None:
        """Stop the bot as SIGTERM would: timers finish, the store closes."""
        await self._running.aclose()
        self.bot = None

    async def process(self, update: dict[str, Any]) -> None:
        """Handle one update in a task of its own, as python-telegram-bot does."""
        assert self.bot is not None
        parsed = Update.de_json(update, self.bot.app.bot)
        await asyncio.create_task(self.bot.app.process_update(parsed))

    async def send(self, text: str, chat_id: int = CHAT, **kwargs: Any) -> None:
        await self.process(self.server.user_sends(chat_id, text, **kwargs))

    async def tap(self, label: str, chat_id: int = CHAT, message_id: int | None = None) -> None:
        await self.process(self.server.user_taps(chat_id, label, message_id=message_id))

    def _pass(self, seconds: float) -> None:
        """Real time passes: the wall clock and the monotonic count move together."""
        assert isinstance(self.clock, FakeClock)
        self.clock.advance(seconds)
        if self.ticks is not None:
            self.ticks.advance(seconds)

    def jump(self, seconds: float) -> None:
        """Time passes at once, as while the bot is stopped: no timer runs on the way."""
        self._pass(seconds)

    def set_wall_clock(self, seconds: float) -> None:
        """The wall clock alone is set forward (back, when negative), as an operator or NTP
        would; no time passes, so a monotonic count does not move."""
        assert isinstance(self.clock, FakeClock)
        self.clock.advance(seconds)

    async def advance(self, seconds: float) -> None:
        """Let time pass, running each timer at its own moment as the timer loop would."""
        assert self.bot is not None
        left = seconds
        while (wait := await self.bot.timers.next_in()) is not None and wait <= left:
            step = max(wait, 0.0)
            self._pass(step)
            left -= step
            await self.bot.timers.run_due()
            if await self.bot.timers.next_in() == wait - step:
                # The timer failed and could not even be re-armed (the database is away): the
                # real loop looks again a second later.
                if left < 1.0:
                    break
                self._pass(1.0)
                left -= 1.0
        self._pass(left)

    async def to_first_card(self, chat_id: int = CHAT) -> None:
        """/start, accept, a clear safety check, warm: the first stretch's card is shown."""
        await self.send("/start", chat_id)
        await self.tap(self.content.texts("en").buttons.accept, chat_id)
        await self.pass_safety_check(chat_id)
        skip = self.content.texts("en").progress.skip
        if skip in self.last(chat_id).button_texts:  # the pain question, when it is asked
            await self.tap(skip, chat_id)
        await self.tap(self.content.texts("en").buttons.warm, chat_id)

    async def pass_safety_check(self, chat_id: int = CHAT) -> None:
        """Answer No to every warning sign and tick none of the conditions."""
        buttons = self.content.texts("en").safety.buttons
        for _ in self.content.routine.safety.questions:
            await self.tap(buttons.no, chat_id)
        await self.tap(buttons.none_of_these, chat_id)

    @contextmanager
    def database_locked(self) -> Iterator[None]:
        """Another program (a backup, an operator's sqlite3 shell) holds the database's write
        lock: the bot's writes fail after `busy_timeout`."""
        other = sqlite3.connect(self.database, isolation_level=None)
        other.execute("BEGIN EXCLUSIVE")
        try:
            yield
        finally:
            other.execute("ROLLBACK")
            other.close()

    def sql(self, query: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        """Rows of a query on the bot's database, SQLite's or PostgreSQL's (`?` parameters)."""
        if self.postgres is not None:
            with psycopg.connect(self.postgres) as pg:
                return pg.execute(query.replace("?", "%s").encode(), params).fetchall()
        with contextlib.closing(sqlite3.connect(self.database)) as db:
            return db.execute(query, params).fetchall()

    def messages(self, chat_id: int = CHAT) -> list[SentMessage]:
        return self.server.messages(chat_id)

    def texts(self, chat_id: int = CHAT) -> list[str]:
        return self.server.texts(chat_id)

    def last(self, chat_id: int = CHAT) -> SentMessage:
        return self.server.last(chat_id)
