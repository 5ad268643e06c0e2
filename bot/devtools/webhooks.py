"""Webhook delivery, as Telegram does it: each update POSTed to the webhook, one at a time.

Once `setWebhook` is called, the emulated server stops answering getUpdates (409) and pushes
every update, in order, as JSON to the webhook URL with `X-Telegram-Bot-Api-Secret-Token`.
A 2xx answer confirms the update; anything else, a refused connection or a timeout leaves it
at the head of the queue, and it is sent again (the same update, the same update_id) after a
back-off, up to `max_attempts`, then dropped and listed in `dropped`. `getWebhookInfo` shows the
last error as Telegram words it. Knows nothing of the bot it pushes to.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field

import httpx

from bot.devtools.botapi import JSONDict

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"


@dataclass(frozen=True)
class Push:
    """One attempt to deliver an update: its HTTP status, or the error when none came."""

    update_id: int
    attempt: int
    status: int | None
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


@dataclass
class WebhookSettings:
    """How the emulated Telegram pushes. `retry_delay` is the first back-off (doubled on each
    failure, up to `max_delay`); `transport`: an httpx transport of a test's own (an ASGI app
    in the process) instead of the network."""

    retry_delay: float = 1.0
    max_delay: float = 60.0
    max_attempts: int = 10
    timeout: float = 10.0
    transport: httpx.AsyncBaseTransport | None = None


@dataclass
class WebhookState:
    """What the server knows of its webhook, and what it did."""

    url: str = ""
    secret: str | None = None
    settings: WebhookSettings = field(default_factory=WebhookSettings)
    pushes: list[Push] = field(default_factory=list)
    dropped: list[int] = field(default_factory=list)
    last_error_date: int | None = None
    last_error_message: str | None = None
    in_flight: int | None = None  # the update_id being pushed


def wording(status: int | None, error: BaseException | None, reason: str = "") -> str:
    """The last error's text, as getWebhookInfo words it."""
    if status is not None:
        return f"Wrong response from the webhook: {status} {reason}".rstrip()
    if isinstance(error, httpx.TimeoutException):
        return "Read timeout expired"
    if isinstance(error, httpx.ConnectError):
        return "Connection refused"
    return f"Connection error: {type(error).__name__}"


async def post(
    client: httpx.AsyncClient, url: str, secret: str | None, update: JSONDict
) -> tuple[int | None, str | None]:
    """POST one update; (status, None) on any answer, (None, error text) without one."""
    headers = {"Content-Type": "application/json"}
    if secret:
        headers[SECRET_HEADER] = secret
    try:
        response = await client.post(url, content=json.dumps(update).encode(), headers=headers)
    except httpx.HTTPError as exc:
        return None, wording(None, exc)
    if 200 <= response.status_code < 300:
        return response.status_code, None
    return response.status_code, wording(response.status_code, None, response.reason_phrase)
