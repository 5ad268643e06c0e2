"""Webhook mode: Telegram posts each update to us, and we answer once it is handled and saved.

python-telegram-bot's own `run_webhook` answers 200 as soon as an update is queued, so an
update lost in a crash or a database that was away is never sent again. Here each post is
handled before the answer (`Application.process_update`, awaited), so the answer means:

- 200: handled and saved (or a handler failed and the user was told: a poison update must not
  hold up the bot's queue at Telegram for ever);
- 503: the database was unavailable, nothing of the step was stored: Telegram sends it again;
- 403: no or a wrong `X-Telegram-Bot-Api-Secret-Token`: nothing is read;
- 400: not an update; 413: larger than any update.

Beside it: `/healthz` (the process lives), `/readyz` (the database answers and no shutdown has
begun) and `/metrics` (Prometheus). `serve` runs it all under uvicorn and stops it in order on
SIGTERM or SIGINT: /readyz turns 503, a drain lets a load balancer notice, then uvicorn stops
taking connections and lets those in flight finish, then the bot's timers stop and the store
closes.
"""

from __future__ import annotations

import asyncio
import hmac
import json
import logging
import signal
import time
from types import FrameType

import uvicorn
from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from telegram import Update

from bot.metrics import CONTENT_TYPE
from bot.telegram import outcome
from bot.telegram.app import StretchBot

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
# No update comes near this (a message is at most 4,096 characters, with entities and a reply).
MAX_BODY = 1 << 20
# How long /readyz waits for the database's answer.
PING_TIMEOUT = 2.0
# How long uvicorn lets requests in flight finish once it stops taking connections.
GRACEFUL_SECONDS = 30


class Webhook:
    """The ASGI app (`.app`): Telegram's posts at `path`, health, readiness and metrics."""

    def __init__(self, bot: StretchBot, *, path: str, secret: str, max_body: int = MAX_BODY):
        self.bot = bot
        self.path = path
        self._secret = secret.encode("ascii")
        self.max_body = max_body
        self.shutting_down = False
        self.app = Starlette(
            routes=[
                Route(path, self.telegram, methods=["POST"]),
                Route("/healthz", self.healthz, methods=["GET"]),
                Route("/readyz", self.readyz, methods=["GET"]),
                Route("/metrics", self.metrics, methods=["GET"]),
            ]
        )

    def begin_shutdown(self) -> None:
        """From now on /readyz answers 503, so a load balancer sends elsewhere."""
        self.shutting_down = True

    async def telegram(self, request: Request) -> Response:
        """One update from Telegram: checked, handled, saved, then answered."""
        given = request.headers.get(SECRET_HEADER, "").encode("latin-1")
        if not hmac.compare_digest(given, self._secret):
            self.bot.metrics.update("forbidden")
            log.warning("a post to the webhook without the right secret token; refused")
            return PlainTextResponse("forbidden", status_code=403)
        body = await self._body(request)
        if body is None:
            return PlainTextResponse("payload too large", status_code=413)
        update = self._update(body)
        if update is None:
            return PlainTextResponse("not an update", status_code=400)
        result = outcome.UpdateOutcome(redelivered=True)
        token = outcome.begin(result)
        try:
            await self.bot.app.process_update(update)
        finally:
            outcome.end(token)
        if result.transient:
            # Nothing was stored; Telegram sends it again, and then it must not look a duplicate.
            self.bot.handlers.duplicates.forget(update.update_id)
            return PlainTextResponse("database unavailable; send it again", status_code=503)
        return Response(status_code=200)

    async def _body(self, request: Request) -> bytes | None:
        """The body, or None when it is larger than `max_body` (read no further than that)."""
        declared = request.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_body:
            return None
        chunks = bytearray()
        try:
            async for chunk in request.stream():
                chunks += chunk
                if len(chunks) > self.max_body:
                    return None
        except ClientDisconnect:
            return b""
        return bytes(chunks)

    def _update(self, body: bytes) -> Update | None:
        try:
            data = json.loads(body)
        except (ValueError, UnicodeDecodeError):
            return None
        if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
            return None
        try:
            return Update.de_json(data, self.bot.app.bot)
        except Exception as exc:  # a shape python-telegram-bot cannot read
            log.warning("a post to the webhook is not an update: %s", exc)
            return None

    async def healthz(self, request: Request) -> Response:
        """The process lives and answers."""
        return PlainTextResponse("ok")

    async def readyz(self, request: Request) -> Response:
        """Ready for updates: the database answers and no shutdown has begun."""
        if self.shutting_down:
            return PlainTextResponse("shutting down", status_code=503)
        try:
            await asyncio.wait_for(self.bot.store.ping(), PING_TIMEOUT)
        except Exception as exc:
            log.warning("not ready: the database does not answer (%s)", exc)
            return PlainTextResponse("database unavailable", status_code=503)
        return PlainTextResponse("ready")

    async def metrics(self, request: Request) -> Response:
        """Prometheus' text format."""
        return Response(self.bot.metrics.exposition(), media_type=CONTENT_TYPE)


class WebhookServer(uvicorn.Server):
    """uvicorn, stopping in the bot's order: on SIGTERM or SIGINT /readyz turns 503 at once,
    and only `drain_seconds` later does uvicorn stop taking connections (then it lets those in
    flight finish). A second SIGINT stops at once.

    uvicorn's own handler re-raises the signal after a graceful stop (so the process would die
    of it); this one does not, so a graceful stop exits with status 0."""

    def __init__(self, config: uvicorn.Config, webhook: Webhook, drain_seconds: float) -> None:
        super().__init__(config)
        self.webhook = webhook
        self.drain_seconds = drain_seconds
        self._exit_at: float | None = None

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        if self._exit_at is None:
            self.begin_drain()
        elif sig == signal.SIGINT:  # Ctrl-C twice: stop without waiting
            self.should_exit = self.force_exit = True

    def begin_drain(self) -> None:
        """Begin the stop: not ready at once; no new connections after the drain."""
        log.info("stopping: /readyz answers 503; draining for %g s", self.drain_seconds)
        self.webhook.begin_shutdown()
        self._exit_at = time.monotonic() + self.drain_seconds

    async def on_tick(self, counter: int) -> bool:
        if self._exit_at is not None and time.monotonic() >= self._exit_at:
            self.should_exit = True
        return await super().on_tick(counter)


async def serve(bot: StretchBot, *, host: str, port: int, path: str, secret: str) -> None:
    """Run the bot in webhook mode until SIGTERM or SIGINT, then stop it in order."""
    webhook = Webhook(bot, path=path, secret=secret)
    config = uvicorn.Config(
        webhook.app,
        host=host,
        port=port,
        lifespan="off",  # the bot starts and stops around the server, below
        log_config=None,  # our handlers: redacted, text or JSON
        access_log=False,  # /metrics counts the updates; a line per post is noise
        server_header=False,
        timeout_graceful_shutdown=GRACEFUL_SECONDS,
    )
    server = WebhookServer(config, webhook, bot.settings.drain_seconds)
    listening = True
    async with bot.app:  # initialize / shutdown: the HTTP client to the Bot API
        try:
            await bot.startup()
            await bot.app.start()
            try:
                await server.serve()
            except SystemExit:  # uvicorn's way of saying it could not bind (logged already)
                listening = False
            finally:
                await bot.app.stop()
        finally:
            await bot.shutdown()  # timers finish, then the store closes
    if not listening:
        raise OSError(f"could not listen on {host}:{port} (in use, or not an address here?)")
