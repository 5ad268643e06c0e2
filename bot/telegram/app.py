"""Wiring: build the python-telegram-bot Application and the layers behind it, in one place."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from telegram import Update
from telegram.ext import Application, ApplicationBuilder
from telegram.request import BaseRequest, HTTPXRequest

from bot.config import Settings
from bot.core.content import Content
from bot.core.plan import compile_plan
from bot.core.reminders import ReminderSetup
from bot.core.routine import Routine
from bot.metrics import Metrics
from bot.runtime.clock import Clock, SystemClock, steady
from bot.runtime.conversations import ReminderConversation, RoutineConversation
from bot.runtime.delivery import Delivery
from bot.runtime.holds import RoutineTimers
from bot.runtime.housekeeping import Housekeeping
from bot.runtime.runner import Runner
from bot.runtime.timers import TimerLoop, TimerSource
from bot.storage import Store, is_postgres, open_store
from bot.telegram import outcome
from bot.telegram.handlers import Handlers
from bot.telegram.outbox import CountingRateLimiter, TelegramOutbox
from bot.telegram.photos import Photos
from bot.telegram.polling import READ_TIMEOUT, WatchedPolling
from bot.telegram.scheduler import CHAT_RATE, RATE, SHED_AFTER, SendScheduler
from bot.telegram.your_data import YourData

log = logging.getLogger(__name__)

# Updates handled at once (python-telegram-bot's default is one at a time).
CONCURRENT_UPDATES = 64


def _store_options(settings: Settings) -> dict[str, object]:
    return {"lease_seconds": settings.lease_seconds} if is_postgres(settings.database) else {}


class CountedApplication(Application):  # type: ignore[type-arg]
    """python-telegram-bot's Application, counting how each update ended (bot.metrics).

    The outcome lives in a context variable for the length of `process_update`; webhook mode
    sets its own first, to read it afterwards (bot.telegram.outcome)."""

    def __init__(self, *, metrics: Metrics, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.metrics = metrics

    async def process_update(self, update: object) -> None:
        result = outcome.active()
        token = None
        if result is None:
            result = outcome.UpdateOutcome()
            token = outcome.begin(result)
        try:
            await super().process_update(update)
        finally:
            if token is not None:
                outcome.end(token)
            self.metrics.update(result.label)


class StretchBot:
    """The running bot: Application, store, runner and timer loops, started and stopped together."""

    def __init__(
        self,
        settings: Settings,
        content: Content,
        *,
        token: str,
        clock: Clock | None = None,
        steady_clock: Clock | None = None,
        store: Store | None = None,
        request: BaseRequest | None = None,
        get_updates_request: BaseRequest | None = None,
        run_timers: bool = True,
        rate_limit: bool = True,
        draw_pictures_after: float = 5.0,
        rate_scale: float = 1.0,
        webhook: bool = False,
        metrics: Metrics | None = None,
    ) -> None:
        """`rate_scale` multiplies the rates the bot keeps to (for an emulated Telegram whose
        limits are scaled the same, to keep a benchmark short); 1 on Telegram. `webhook`:
        updates come from Telegram's posts (bot.telegram.webhook), so the Application has no
        Updater and never polls. `metrics`: what the bot counts (its own registry by default).
        """
        self.settings = settings
        self.webhook = webhook
        self.metrics = metrics or Metrics()
        self.webhook_set_to: str | None = None  # polling refused: the webhook Telegram has
        self.content = content
        # Wall time for reminders; steady time (monotonic within this process) for the
        # routine's durations, so a wall clock set mid-hold neither freezes nor skips it. A
        # FakeClock serves as both unless a test passes a steady clock of its own.
        self.clock = clock or SystemClock()
        self.steady_clock = steady_clock or steady(self.clock)
        self.store = store or open_store(settings.database, **_store_options(settings))
        # Telegram's ~30 messages a second are the bot's, not each replica's: N replicas each
        # keep to 1/N of it (STRETCHBOT_REPLICAS).
        rate_scale /= settings.replicas
        self.run_timers = run_timers
        self.draw_pictures_after = draw_pictures_after  # seconds after start-up
        self.killed = False  # a test's or benchmark's replica that died (bot.devtools.replicas)

        builder = (
            ApplicationBuilder()
            .token(token)
            .base_url(settings.base_url)
            .base_file_url(settings.base_file_url)
            .post_init(self._post_init)
            # post_stop runs before the Application shuts its HTTP client down, so timers
            # still being run can finish their sends.
            .post_stop(self._post_stop)
            # Updates of different chats are handled side by side, so one chat waiting for
            # Telegram (a 429's wait, a slow send) does not hold up everyone else. One chat's
            # updates keep their order: the runner's per-chat lock is first come, first served,
            # and nothing before it waits.
            .concurrent_updates(CONCURRENT_UPDATES)
            .application_class(CountedApplication, {"metrics": self.metrics})
        )
        if rate_limit:
            # Keeps bursts under Telegram's limits and retries a 429 after its retry_after.
            limiter = CountingRateLimiter(
                self.metrics,
                overall_time_period=1 / rate_scale,
                group_time_period=60 / rate_scale,
                max_retries=3,
            )
            builder = builder.rate_limiter(limiter)  # type: ignore[arg-type]
        if request is not None:
            builder = builder.request(request)
        # getUpdates with a read timeout and an overall deadline: a stalled poller is named in
        # one warning and polls again (bot.telegram.polling).
        self.polling = WatchedPolling(
            get_updates_request or HTTPXRequest(connection_pool_size=1, read_timeout=READ_TIMEOUT)
        )
        # Webhook mode has no Updater: updates arrive by `process_update` (bot.telegram.webhook).
        builder = builder.updater(None) if webhook else builder.get_updates_request(self.polling)
        self.app: Application = builder.build()  # type: ignore[type-arg]

        self.routine = Routine(content, compile_plan(content, settings.speed))
        setup = ReminderSetup(
            content,
            default_timezone=settings.default_timezone,
            speed=settings.speed,
        )
        # With Telegram's limits in force, what people wait for is sent first (see scheduler).
        self.scheduler = (
            SendScheduler(
                RATE * rate_scale,
                SHED_AFTER / rate_scale,
                burst=RATE,
                chat_rate=CHAT_RATE * rate_scale,
            )
            if rate_limit
            else None
        )
        self.photos = Photos(content, self.store.media, self.clock)
        self._drawing: asyncio.Task[None] | None = None
        # With the rate limiter, it counts the 429s (it waits them out before the outbox sees one).
        outbox = TelegramOutbox(
            self.app, self.scheduler, self.photos, self.metrics, count_429=not rate_limit
        )
        self.runner = Runner(self.store, self.steady_clock, outbox)
        self.reminders = ReminderConversation(setup, self.store, self.clock)
        self.conversation = RoutineConversation(
            self.routine, self.store, self.reminders, self.steady_clock
        )
        data = YourData(
            self.runner,
            content,
            self.routine.plan,
            clock=self.clock,
            default_timezone=settings.default_timezone,
            inactive_days=settings.inactive_days,
        )
        self.handlers = Handlers(
            self.runner, self.conversation, self.reminders, content, data, outbox
        )
        self.handlers.register(self.app)
        # Timers live in the database: the routine's (holds, rests) and the reminders, each
        # with a loop of its own so a burst of reminders never delays a hold.
        holds = RoutineTimers(self.runner, self.conversation, self.metrics)
        delivery = Delivery(
            self.runner,
            setup,
            self.clock,
            grace_minutes=settings.reminder_grace_minutes,
            metrics=self.metrics,
        )
        housekeeping = Housekeeping(self.store, self.clock, settings.inactive_days)
        self.timers = TimerLoop(
            self.steady_clock,
            [
                TimerSource(holds.next_at, holds.run_due),
                TimerSource(delivery.next_at, delivery.run_due, self.clock),
                TimerSource(housekeeping.next_at, housekeeping.run_due, self.clock),
            ],
        )
        self.runner.timers_changed = self._timers_changed
        self.store.on_claims(self.metrics.claimed)
        self.runner.countdown_shown = self.conversation.countdown_shown
        self.runner.chat_gone = self.conversation.chat_gone

    def _timers_changed(self) -> None:
        """A timer moved: this process's loops look again, and so do the other replicas'."""
        self.timers.poke()
        self.store.timers_moved()

    async def _post_init(self, app: Application) -> None:  # type: ignore[type-arg]
        # python-telegram-bot's polling would delete a webhook without a word, and with it
        # the webhook deployment's updates: polling stops here instead (`stretchbot run`).
        info = await app.bot.get_webhook_info()
        if info.url:
            self.webhook_set_to = info.url
            app.stop_running()
            return
        await self.startup()

    async def _post_stop(self, app: Application) -> None:  # type: ignore[type-arg]
        await self.shutdown()

    async def startup(self) -> None:
        """Open the database, set the command menu, and re-arm every stored timer."""
        await self.store.open()
        await self.handlers.set_commands(self.app)
        if self.run_timers:
            self.store.on_timers_moved(self.timers.poke)
            self.timers.start()
            # The pictures are drawn off the loop before the first card needs one, once
            # start-up is over (drawing takes a second of CPU and some memory).
            self._drawing = asyncio.create_task(self._draw_pictures(), name="draw-pictures")
        log.info("Stretch Coach is ready (speed x%g)", self.settings.speed)

    async def _draw_pictures(self) -> None:
        await asyncio.sleep(self.draw_pictures_after)
        await self.photos.draw_all()

    async def shutdown(self) -> None:
        """Let running timers finish, then close the database."""
        await self.timers.stop()
        if self._drawing is not None:
            self._drawing.cancel()  # a picture being drawn finishes on its thread regardless
            with contextlib.suppress(asyncio.CancelledError):
                await self._drawing
            self._drawing = None
        await self.store.close()

    def run_polling(self) -> None:
        """Poll until SIGINT or SIGTERM, then stop gracefully."""
        # bootstrap_retries: a Bot API that is briefly unreachable at start-up is tried again.
        self.app.run_polling(allowed_updates=Update.ALL_TYPES, bootstrap_retries=3)
