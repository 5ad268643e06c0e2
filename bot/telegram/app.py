"""Wiring: build the python-telegram-bot Application and the layers behind it, in one place."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.ext import AIORateLimiter, Application, ApplicationBuilder
from telegram.request import BaseRequest

from bot.config import Settings
from bot.core.content import Content
from bot.core.plan import compile_plan
from bot.core.reminders import ReminderSetup
from bot.core.routine import Routine
from bot.runtime.clock import Clock, SystemClock
from bot.runtime.conversations import ReminderConversation, RoutineConversation
from bot.runtime.delivery import Delivery
from bot.runtime.holds import RoutineTimers
from bot.runtime.runner import Runner
from bot.runtime.timers import TimerLoop, TimerSource
from bot.storage import SqliteStore, Store
from bot.telegram.handlers import Handlers
from bot.telegram.outbox import TelegramOutbox
from bot.telegram.scheduler import RATE, SHED_AFTER, SendScheduler

log = logging.getLogger(__name__)


class StretchBot:
    """The running bot: Application, store, runner and timer loops, started and stopped together."""

    def __init__(
        self,
        settings: Settings,
        content: Content,
        *,
        token: str,
        clock: Clock | None = None,
        store: Store | None = None,
        request: BaseRequest | None = None,
        get_updates_request: BaseRequest | None = None,
        run_timers: bool = True,
        rate_limit: bool = True,
        rate_scale: float = 1.0,
    ) -> None:
        """`rate_scale` multiplies the rates the bot keeps to (for an emulated Telegram whose
        limits are scaled the same, to keep a benchmark short); 1 on Telegram."""
        self.settings = settings
        self.content = content
        self.clock = clock or SystemClock()
        self.store = store or SqliteStore(settings.database)
        self.run_timers = run_timers

        builder = (
            ApplicationBuilder()
            .token(token)
            .base_url(settings.base_url)
            .base_file_url(settings.base_file_url)
            .post_init(self._post_init)
            # post_stop runs before the Application shuts its HTTP client down, so timers
            # still being run can finish their sends.
            .post_stop(self._post_stop)
        )
        if rate_limit:
            # Keeps bursts under Telegram's limits and retries a 429 after its retry_after.
            limiter = AIORateLimiter(
                overall_time_period=1 / rate_scale, group_time_period=60 / rate_scale, max_retries=3
            )
            builder = builder.rate_limiter(limiter)  # type: ignore[arg-type]
        if request is not None:
            builder = builder.request(request)
        if get_updates_request is not None:
            builder = builder.get_updates_request(get_updates_request)
        self.app: Application = builder.build()  # type: ignore[type-arg]

        self.routine = Routine(content, compile_plan(content, settings.speed))
        setup = ReminderSetup(
            content,
            default_timezone=settings.default_timezone,
            speed=settings.speed,
        )
        # With Telegram's limits in force, what people wait for is sent first (see scheduler).
        self.scheduler = (
            SendScheduler(RATE * rate_scale, SHED_AFTER / rate_scale, burst=RATE)
            if rate_limit
            else None
        )
        self.runner = Runner(self.store, self.clock, TelegramOutbox(self.app, self.scheduler))
        self.reminders = ReminderConversation(setup, self.store)
        self.conversation = RoutineConversation(self.routine, self.store, self.reminders)
        self.handlers = Handlers(self.runner, self.conversation, self.reminders, content)
        self.handlers.register(self.app)
        # Timers live in the database: the routine's (holds, rests) and the reminders, each
        # with a loop of its own so a burst of reminders never delays a hold.
        holds = RoutineTimers(self.runner, self.conversation)
        delivery = Delivery(self.runner, setup, grace_minutes=settings.reminder_grace_minutes)
        self.timers = TimerLoop(
            self.clock,
            [
                TimerSource(holds.next_at, holds.run_due),
                TimerSource(delivery.next_at, delivery.run_due),
            ],
        )
        self.runner.timers_changed = self.timers.poke
        self.runner.countdown_shown = self.conversation.countdown_shown
        self.runner.chat_gone = self.conversation.chat_gone

    async def _post_init(self, app: Application) -> None:  # type: ignore[type-arg]
        await self.startup()

    async def _post_stop(self, app: Application) -> None:  # type: ignore[type-arg]
        await self.shutdown()

    async def startup(self) -> None:
        """Open the database, set the command menu, and re-arm every stored timer."""
        await self.store.open()
        await self.handlers.set_commands(self.app)
        if self.run_timers:
            self.timers.start()
        log.info("Stretch Coach is ready (speed x%g)", self.settings.speed)

    async def shutdown(self) -> None:
        """Let running timers finish, then close the database."""
        await self.timers.stop()
        await self.store.close()

    def run_polling(self) -> None:
        """Poll until SIGINT or SIGTERM, then stop gracefully."""
        # bootstrap_retries: a Bot API that is briefly unreachable at start-up is tried again.
        self.app.run_polling(allowed_updates=Update.ALL_TYPES, bootstrap_retries=3)
