"""Telegram's flood limits, enforced by the emulated server when it is given ``Limits``.

Telegram allows a bot about 30 messages a second in all, about one a second in one chat (short
bursts pass) and 20 a minute in one group. Past that it answers
``429 {"ok": false, "error_code": 429, "description": "Too Many Requests: retry after N",
"parameters": {"retry_after": N}}``, and a call made before those N seconds are over is refused
the same way. Each limit is a token bucket: ``burst`` calls at once, then ``rate`` a second.

What counts is a message put into or changed in a chat: every ``send*`` (not
``sendChatAction``), ``copyMessage(s)``, ``forwardMessage(s)``, every ``editMessage*``,
``stopPoll``, ``stopMessageLiveLocation``. ``answerCallbackQuery``, ``getUpdates``,
``setMyCommands``, ``deleteMessage`` and the like do not.

``scale`` multiplies every rate (not the bursts), as if time ran that much faster: a benchmark
running the bot at speed 10 gives ``scale=10`` (300 messages a second for the bot, 10 a second
per chat). ``retry_after`` stays a whole number of seconds as in Telegram (at least 1), so at a
scale above 1 a 429 costs relatively more than it would at speed 1. ``clock`` is the time source
(seconds; ``time.monotonic`` by default; a test on a fake clock may pass its ``now``).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from bot.devtools.records import _ApiError

# The limit that was hit; "injected": a 429 injected by a test, kept for its retry_after.
Scope = Literal["bot", "chat", "group", "injected"]

# Calls that put or change a message, by prefix; minus these, which do not.
_COUNTED_PREFIXES = (
    "send",
    "copyMessage",
    "forwardMessage",
    "editMessage",
    "stopPoll",
    "stopMessageLiveLocation",
)
_NOT_COUNTED = frozenset(
    {
        "sendChatAction",
        "sendChatJoinRequestWebApp",
        "sendGift",
        "sendMessageDraft",
        "sendRichMessageDraft",
    }
)


def counts_as_message(method: str) -> bool:
    """Whether a call of ``method`` counts against Telegram's message limits."""
    return method.startswith(_COUNTED_PREFIXES) and method not in _NOT_COUNTED


@dataclass(frozen=True)
class Limits:
    """The limits in force; the defaults are Telegram's (see the module's description)."""

    per_bot: float = 30.0  # messages a second for the whole bot
    bot_burst: float = 30.0
    per_chat: float = 1.0  # messages a second in one chat
    chat_burst: float = 3.0
    per_group: float = 20.0 / 60.0  # messages a second in one group or supergroup (20 a minute)
    group_burst: float = 20.0
    scale: float = 1.0  # multiplies every rate
    clock: Callable[[], float] = field(default=time.monotonic, compare=False)


@dataclass(frozen=True)
class Throttled:
    """One call answered with 429 while limits were in force (an injected 429 included)."""

    at: float  # on the limits' clock
    method: str
    chat_id: int | str | None
    scope: Scope  # the limit that was hit
    retry_after: int
    early: bool  # made before an earlier 429's retry_after was over


class _Bucket:
    def __init__(self, rate: float, burst: float, now: float) -> None:
        self.rate = rate
        self.burst = burst
        self.tokens = burst
        self.at = now

    def wait(self, now: float) -> float:
        """Seconds until a call may pass (0: now)."""
        self.tokens = min(self.burst, self.tokens + (now - self.at) * self.rate)
        self.at = now
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.rate


class FloodControl:
    """Buckets and refusal windows per bot, chat and group; answers 429 past a limit."""

    def __init__(self, limits: Limits, throttled: list[Throttled]) -> None:
        self.limits = limits
        self.throttled = throttled  # every 429 answered, appended to
        self._buckets: dict[tuple[Scope, int | str | None], _Bucket] = {}
        self._until: dict[tuple[Scope, int | str | None], float] = {}

    def _bucket(self, key: tuple[Scope, int | str | None], now: float) -> _Bucket:
        bucket = self._buckets.get(key)
        if bucket is None:
            lim = self.limits
            rate, burst = {
                "bot": (lim.per_bot, lim.bot_burst),
                "chat": (lim.per_chat, lim.chat_burst),
                "group": (lim.per_group, lim.group_burst),
            }[key[0]]
            bucket = self._buckets[key] = _Bucket(rate * lim.scale, burst, now)
        return bucket

    def refuse_until(self, method: str, chat_id: int | str | None, retry_after: int) -> None:
        """An injected 429: refuse ``chat_id`` (None: the whole bot) for ``retry_after`` s."""
        key: tuple[Scope, int | str | None] = ("chat", chat_id)
        if chat_id is None:
            key = ("bot", None)
        now = self.limits.clock()
        self._until[key] = max(self._until.get(key, 0.0), now + retry_after)
        self.throttled.append(Throttled(now, method, chat_id, "injected", retry_after, False))

    def check(self, method: str, chat_id: int | str | None, *, group: bool) -> None:
        """Take one message from every limit ``method`` falls under, or raise a 429."""
        if not counts_as_message(method):
            return
        now = self.limits.clock()
        keys: list[tuple[Scope, int | str | None]] = [("bot", None)]
        if chat_id is not None:
            keys.append(("chat", chat_id))
            if group:
                keys.append(("group", chat_id))
        # Still inside the window of an earlier 429: refused again, for the rest of it.
        scope, left = max(((k[0], self._until.get(k, now) - now) for k in keys), key=lambda s: s[1])
        if left > 0:
            self._refuse(now, method, chat_id, scope, left, early=True)
        waits = [(k, self._bucket(k, now).wait(now)) for k in keys]
        key, wait = max(waits, key=lambda w: w[1])
        if wait > 0:
            retry_after = max(1, math.ceil(wait))
            self._until[key] = now + retry_after
            self._refuse(now, method, chat_id, key[0], retry_after, early=False)
        for k in keys:
            self._buckets[k].tokens -= 1

    def _refuse(
        self,
        now: float,
        method: str,
        chat_id: int | str | None,
        scope: Scope,
        seconds: float,
        *,
        early: bool,
    ) -> None:
        retry_after = max(1, math.ceil(seconds))
        self.throttled.append(Throttled(now, method, chat_id, scope, retry_after, early))
        raise too_many_requests(retry_after)


def too_many_requests(retry_after: int) -> _ApiError:
    """Telegram's 429, with ``parameters.retry_after``."""
    return _ApiError(
        429,
        f"Too Many Requests: retry after {retry_after}",
        parameters={"retry_after": retry_after},
    )
