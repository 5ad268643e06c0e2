"""The runner's way out through python-telegram-bot: effects become Bot API calls.

Telegram errors are classified here, once: a passing failure is retried, then reported as
`OutboxUnavailable` (the timer tries the step again later); a blocked user or a vanished chat
is `ChatUnreachable`; an unchanged or deleted message on an edit is no error.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

from telegram.error import (
    BadRequest,
    Forbidden,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)
from telegram.ext import AIORateLimiter, Application

from bot.core.callbacks import Button
from bot.metrics import Metrics
from bot.runtime.runner import ChatUnreachable, OutboxUnavailable
from bot.telegram.keyboards import keyboard
from bot.telegram.photos import Photos
from bot.telegram.scheduler import Priority, SendScheduler

log = logging.getLogger(__name__)
T = TypeVar("T")


# A call that failed on the way (no connection, a server error) is tried again after these
# pauses (seconds); a 429 is already waited out and retried by AIORateLimiter.
RETRY_PAUSES = (0.5, 2.0)


async def _patiently(
    call: Callable[..., Awaitable[T]],
    *args: Any,
    once: bool = False,
    metrics: Metrics | None = None,
    **kwargs: Any,
) -> T:
    """Call the Bot API, retrying passing failures; classify what is left for the runner.

    A timeout may mean Telegram took the request and the answer was lost. With `once` (a new
    message) it is not tried again: it is reported as maybe delivered, and never sent twice.
    """
    for pause in (*RETRY_PAUSES, None):
        try:
            return await call(*args, **kwargs)
        except (Forbidden, BadRequest):
            raise
        except TimedOut as exc:
            if once or pause is None:
                raise OutboxUnavailable(exc.message, maybe_delivered=True) from exc
            await asyncio.sleep(pause)
        except (NetworkError, RetryAfter) as exc:
            if isinstance(exc, RetryAfter) and metrics is not None:
                metrics.too_many_requests.inc()
            if pause is None:
                raise OutboxUnavailable(exc.message) from exc
            await asyncio.sleep(pause)
    raise AssertionError("unreachable")


class CountingRateLimiter(AIORateLimiter):
    """python-telegram-bot's AIORateLimiter, counting every 429 it waits out (`metrics`)."""

    def __init__(self, metrics: Metrics, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.metrics = metrics

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, Any]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> Any:
        async def counted(*a: Any, **k: Any) -> Any:
            try:
                return await callback(*a, **k)
            except RetryAfter:
                self.metrics.too_many_requests.inc()
                raise

        return await super().process_request(counted, args, kwargs, endpoint, data, rate_limit_args)


class TelegramOutbox:
    """The runner's way out, through python-telegram-bot's Bot."""

    def __init__(
        self,
        app: Application,  # type: ignore[type-arg]
        scheduler: SendScheduler | None = None,
        photos: Photos | None = None,
        metrics: Metrics | None = None,
        *,
        count_429: bool = True,
    ) -> None:
        """`count_429`: count the 429s seen here; False when a CountingRateLimiter counts them
        (it retries them before they reach the outbox)."""
        self.app = app
        self.photos = photos
        self.metrics = metrics or Metrics()
        self._429_metrics = self.metrics if count_429 else None
        # With Telegram's limits in force, sends take turns by priority (None: no limit).
        self.scheduler = scheduler

    async def _turn(self, priority: Priority, chat_id: int) -> bool:
        if self.scheduler is None:
            return True
        return await self.scheduler.slot(priority, chat_id)

    async def send(
        self,
        chat_id: int,
        text: str,
        buttons: tuple[Button, ...],
        *,
        reminder: bool = False,
        picture: str | None = None,
    ) -> int:
        await self._turn(Priority.REMINDER if reminder else Priority.STEP, chat_id)
        markup = keyboard(buttons)
        try:
            if picture is not None and self.photos is not None:
                message = await _patiently(
                    self.photos.send,
                    self.app,
                    chat_id,
                    picture,
                    text,
                    reply_markup=markup,
                    once=True,
                    metrics=self._429_metrics,
                )
            else:
                message = await _patiently(
                    self.app.bot.send_message,
                    chat_id,
                    text,
                    reply_markup=markup,
                    once=True,
                    metrics=self._429_metrics,
                )
        except Forbidden as exc:
            raise ChatUnreachable(str(exc)) from exc
        except BadRequest as exc:
            if "chat not found" in exc.message.lower():
                raise ChatUnreachable(str(exc)) from exc
            raise
        self.metrics.messages_sent.inc()
        return int(message.message_id)

    async def edit(
        self,
        chat_id: int,
        message_id: int,
        text: str,
        buttons: tuple[Button, ...] = (),
        *,
        countdown: bool = False,
    ) -> None:
        if not await self._turn(Priority.COUNTDOWN if countdown else Priority.STEP, chat_id):
            log.debug("countdown edit in chat %s shed under load", chat_id)
            return
        try:
            await _patiently(
                self.app.bot.edit_message_text,
                text,
                chat_id=chat_id,
                message_id=message_id,
                reply_markup=keyboard(buttons),
                metrics=self._429_metrics,
            )
        except Forbidden as exc:
            raise ChatUnreachable(str(exc)) from exc
        except BadRequest as exc:
            # An unchanged text, or a message the user deleted: the countdown goes on without it.
            message = exc.message.lower()
            if "not modified" in message or "not found" in message or "can't be edited" in message:
                log.debug("countdown edit skipped in chat %s: %s", chat_id, exc.message)
                return
            raise

    async def remove_buttons(self, chat_id: int, message_id: int) -> None:
        """Take the buttons off a message whose choice is made. Cosmetic, like a countdown
        edit: it waits its turn behind what people wait for, and may be shed under load (an
        old button pressed later gets a notice)."""
        if not await self._turn(Priority.COUNTDOWN, chat_id):
            return
        try:
            await self.app.bot.edit_message_reply_markup(chat_id, message_id, reply_markup=None)
        except TelegramError as exc:
            log.debug("could not remove old buttons in chat %s: %s", chat_id, exc.message)
