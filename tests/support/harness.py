"""A harness that runs the real bot on the emulated Bot API with a fake clock: one user chatting
with the bot, taps, time passing, and what the chat shows."""

from __future__ import annotations

from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

from telegram import Update

from bot.config import Settings
from bot.core.content import Content
from bot.devtools.emulator import FakeTelegram, Limits, SentMessage
from bot.devtools.factory import emulated_bot
from bot.runtime.clock import FakeClock, SystemClock
from bot.storage import SqliteStore
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
        limits: Limits | None = None,
        rate_scale: float = 1.0,
    ) -> None:
        """`limits`: the emulated Telegram enforces its flood limits (on the real clock unless
        they say otherwise); `rate_scale` multiplies the rates the bot keeps to."""
        self.database = tmp_path / "stretchbot.sqlite3"
        self.content = content
        self.clock: FakeClock | SystemClock = SystemClock() if real_time else FakeClock()
        self.real_time = real_time
        self.rate_limit = rate_limit
        self.rate_scale = rate_scale
        self.server = FakeTelegram(now=self.clock.now, limits=limits)
        self.settings = Settings(database=self.database, speed=speed, _env_file=None)
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
                store=SqliteStore(self.database, busy_timeout=0.05),
                # With the fake clock the test moves time and runs due timers itself.
                run_timers=self.real_time,
                rate_limit=self.rate_limit,
                rate_scale=self.rate_scale,
            )
        )
        return self.bot

    async def stop(self) -> None:
        """Stop the bot as SIGTERM would: timers finish, the store closes."""
        await self._running.aclose()
        self.bot = None

    async def process(self, update: dict[str, Any]) -> None:
        assert self.bot is not None
        await self.bot.app.process_update(Update.de_json(update, self.bot.app.bot))

    async def send(self, text: str, chat_id: int = CHAT, **kwargs: Any) -> None:
        await self.process(self.server.user_sends(chat_id, text, **kwargs))

    async def tap(self, label: str, chat_id: int = CHAT, message_id: int | None = None) -> None:
        await self.process(self.server.user_taps(chat_id, label, message_id=message_id))

    def jump(self, seconds: float) -> None:
        """Time passes at once, as while the bot is stopped: no timer runs on the way."""
        assert isinstance(self.clock, FakeClock)
        self.clock.advance(seconds)

    async def advance(self, seconds: float) -> None:
        """Let time pass, running each timer at its own moment as the timer loop would."""
        assert self.bot is not None and isinstance(self.clock, FakeClock)
        target = self.clock.now() + seconds
        while (due := await self.bot.timers.next_at()) is not None and due <= target:
            now = max(due, self.clock.now())
            if now > target:
                break
            self.clock.set(now)
            await self.bot.timers.run_due()
            if await self.bot.timers.next_at() == due:
                # The timer failed and could not even be re-armed (the database is away): the
                # real loop looks again a second later.
                self.clock.advance(1.0)
        self.clock.set(target)

    async def to_first_card(self, chat_id: int = CHAT) -> None:
        """/start, accept, a clear safety check, warm: the first stretch's card is shown."""
        await self.send("/start", chat_id)
        await self.tap(self.content.texts("en").buttons.accept, chat_id)
        await self.pass_safety_check(chat_id)
        await self.tap(self.content.texts("en").buttons.warm, chat_id)

    async def pass_safety_check(self, chat_id: int = CHAT) -> None:
        """Answer No to every warning sign and tick none of the conditions."""
        buttons = self.content.texts("en").safety.buttons
        for _ in self.content.routine.safety.questions:
            await self.tap(buttons.no, chat_id)
        await self.tap(buttons.none_of_these, chat_id)

    def messages(self, chat_id: int = CHAT) -> list[SentMessage]:
        return self.server.messages(chat_id)

    def texts(self, chat_id: int = CHAT) -> list[str]:
        return self.server.texts(chat_id)

    def last(self, chat_id: int = CHAT) -> SentMessage:
        return self.server.last(chat_id)
