"""The one way to run the real bot on the emulated Bot API: `async with emulated_bot(...)`.

Tests, the console and the benchmarks all start and stop the bot here, in the same order as
`run_polling` does on Telegram: initialise the Application, open the store and set the
command menu (`startup`), optionally poll; on the way out stop polling, let running timers
finish and close the store (`shutdown`), then shut the Application down.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import Application

from bot.config import Settings
from bot.core.content import Content
from bot.devtools.emulator import FakeTelegram
from bot.runtime.clock import Clock
from bot.storage import Store
from bot.telegram.app import StretchBot

# A token of the right shape that no real bot has: the emulator never checks it.
EMULATOR_TOKEN = "100001:EMULATOR-not-a-real-token-abcdefg"


@asynccontextmanager
async def emulated_bot(
    settings: Settings,
    content: Content,
    server: FakeTelegram,
    *,
    clock: Clock | None = None,
    steady_clock: Clock | None = None,
    store: Store | None = None,
    run_timers: bool = True,
    rate_limit: bool = False,
    rate_scale: float = 1.0,
    polling: bool = False,
    draw_pictures_after: float = 5.0,
    poll_timeout: int = 1,
    poll_read_timeout: float = 5.0,
    webhook: bool = False,
) -> AsyncIterator[StretchBot]:
    """The bot, started on `server`; stopped gracefully when the block ends.

    `clock` is wall time (reminders), `steady_clock` the routine's durations (by default
    `clock` itself when it is a FakeClock). `run_timers=False` leaves the timer loops off, for
    tests that move a fake clock and run due timers themselves. `polling=True` fetches updates
    with getUpdates as on Telegram (the console), long polls of `poll_timeout` seconds with
    `poll_read_timeout` on top; otherwise updates are handed to `bot.app.process_update`
    directly. `rate_scale`
    multiplies the rates the bot keeps to with `rate_limit` (see `StretchBot`). `webhook`: the
    Application has no Updater, as in `stretchbot serve` (bot.telegram.webhook), and runs
    (`Application.start`) for the length of the block.
    """
    assert not (polling and webhook), "a bot either polls or takes a webhook's posts"
    bot = StretchBot(
        settings,
        content,
        token=EMULATOR_TOKEN,
        clock=clock,
        steady_clock=steady_clock,
        store=store,
        request=server.request(),
        get_updates_request=server.request(read_timeout=poll_read_timeout),
        run_timers=run_timers,
        rate_limit=rate_limit,
        draw_pictures_after=draw_pictures_after,
        rate_scale=rate_scale,
        webhook=webhook,
    )
    app = bot.app
    await app.initialize()
    try:
        await bot.startup()
        try:
            if polling:
                assert app.updater is not None
                await app.updater.start_polling(
                    poll_interval=0,
                    timeout=poll_timeout,
                    allowed_updates=Update.ALL_TYPES,
                    # As run_polling does: a failed getUpdates goes to the error handler.
                    error_callback=lambda exc: _polling_failed(app, exc),
                )
                await app.start()
            if webhook:
                await app.start()
            try:
                yield bot
            finally:
                if polling and app.updater is not None:
                    await app.updater.stop()
                    await app.stop()
                if webhook:
                    await app.stop()
        finally:
            await bot.shutdown()
    finally:
        await app.shutdown()


def _polling_failed(app: Application, exc: TelegramError) -> None:  # type: ignore[type-arg]
    app.create_task(app.process_error(error=exc, update=None))
