"""Polling that cannot hang for ever: a stalled getUpdates is named in one warning, abandoned,
and polling goes on.

python-telegram-bot retries a getUpdates that fails (the error handler logs a warning, see
bot.telegram.handlers) or times out (at once, silently). Its read timeout ends a silent
connection, but not every hang: a connection that trickles bytes, a proxy holding a request, a
request built with no read timeout. `WatchedPolling` wraps the getUpdates request and gives
each call an overall deadline: `STALL_FACTOR` times as long as the call may take (the long poll
plus the read timeout). A call past it is a stalled poller: one warning line, then the call is
abandoned as timed out and python-telegram-bot polls again. The first answer after that logs
that polling recovered.
"""

from __future__ import annotations

import asyncio
import logging
import time

from telegram.error import TimedOut
from telegram.request import BaseRequest, RequestData

log = logging.getLogger(__name__)

# A getUpdates is stalled when it has had no answer for this many times as long as it may take.
STALL_FACTOR = 2.0
# The read timeout on top of the long poll, for a request that has none of its own: a
# getUpdates always has a deadline.
READ_TIMEOUT = 5.0


class WatchedPolling(BaseRequest):
    """The getUpdates request, with a deadline on every call and a warning when it stalls."""

    def __init__(self, inner: BaseRequest, *, stall_factor: float = STALL_FACTOR) -> None:
        self.inner = inner
        self.stall_factor = stall_factor
        self.stalls = 0  # getUpdates calls abandoned so far
        self._stalled_since: float | None = None

    @property
    def read_timeout(self) -> float:
        # python-telegram-bot adds the long poll's `timeout` to this for each getUpdates.
        inner = self.inner.read_timeout
        return READ_TIMEOUT if inner is None else inner

    async def initialize(self) -> None:
        await self.inner.initialize()

    async def shutdown(self) -> None:
        await self.inner.shutdown()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: object = BaseRequest.DEFAULT_NONE,
        write_timeout: object = BaseRequest.DEFAULT_NONE,
        connect_timeout: object = BaseRequest.DEFAULT_NONE,
        pool_timeout: object = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        # For getUpdates, python-telegram-bot passes the long poll plus our read timeout.
        may_take = (
            float(read_timeout) if isinstance(read_timeout, (int, float)) else self.read_timeout
        )
        deadline = self.stall_factor * max(may_take, self.read_timeout)
        call = asyncio.ensure_future(
            self.inner.do_request(
                url,
                method,
                request_data,
                read_timeout,  # type: ignore[arg-type]
                write_timeout,  # type: ignore[arg-type]
                connect_timeout,  # type: ignore[arg-type]
                pool_timeout,  # type: ignore[arg-type]
            )
        )
        try:
            done, _ = await asyncio.wait({call}, timeout=deadline)
        finally:
            if not call.done():
                call.cancel()
        if not done:
            self._stalled(url, request_data, may_take, deadline)
            raise TimedOut(f"getUpdates had no answer within {deadline:g} s; abandoned")
        if self._stalled_since is not None:
            log.info(
                "polling recovered: getUpdates answered again after %.1f s stalled",
                time.monotonic() - self._stalled_since,
            )
            self._stalled_since = None
        return call.result()

    def _stalled(
        self, url: str, request_data: RequestData | None, may_take: float, deadline: float
    ) -> None:
        self.stalls += 1
        if self._stalled_since is not None:  # still the same stall: said already
            log.debug("getUpdates stalled again; polling once more")
            return
        self._stalled_since = time.monotonic() - deadline
        method = url.rstrip("/").rsplit("/", 1)[-1]  # never the token part of the URL
        timeout = request_data.parameters.get("timeout") if request_data else None
        poll = float(timeout) if isinstance(timeout, (int, float)) else 0.0
        log.warning(
            "polling is stalled: %s has had no answer for %g s (long poll %g s + read timeout "
            "%g s); abandoning it and polling again",
            method,
            deadline,
            poll,
            may_take - poll,
        )
