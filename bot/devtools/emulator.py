"""An in-process emulation of the Telegram Bot API server, for tests and the console mode.

``FakeTelegram`` plays api.telegram.org: it keeps chats, messages and a queue of updates,
and answers Bot API calls with exactly the JSON Telegram sends (``{"ok": true, "result": ...}``
or ``{"ok": false, "error_code": ..., "description": ...}``), so a real python-telegram-bot
``Bot`` / ``Application`` runs on top of it unchanged and raises its normal exceptions
(``BadRequest``, ``Forbidden``, ``RetryAfter``, ``Conflict`` ...). ``FakeTelegram.request()``
returns the ``telegram.request.BaseRequest`` to plug into PTB.

The user's side (``user_sends``, ``user_presses``, ``user_blocks`` ...) produces real Update
objects; what the user sees is available as ``SentMessage`` records (``messages``, ``last``,
``texts``). Every request is checked against the bundled description of the Bot API
(``botapi_spec.json``, see ``BotApiSpec``); requests Telegram would reject are answered with
Telegram's error and listed in ``protocol_errors``, and every object the emulator returns is
checked against the same description (``spec_violations``).

This module must know nothing about the bot that runs on it (no stretches, routines, texts,
callback-data formats): it is a generic Telegram. It never sees or logs the bot token: the
``/bot<token>/`` part of URLs is stripped from everything it records or raises.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from typing import Any, Literal

import httpx
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

from bot.devtools.botapi import SPEC_PATH, BotApiSpec, JSONDict
from bot.devtools.limits import FloodControl, Limits, Throttled
from bot.devtools.methods import BotMethods
from bot.devtools.records import (
    _OPT_IN_UPDATES,
    BLOCKED,
    POLL_CONFLICT,
    WEBHOOK_CONFLICT,
    Button,
    Event,
    SentMessage,
    _ApiError,
    _bad,
    _command_entities,
    _copy,
    _decode_request,
    _encode,
    _Injection,
    _int,
    _obj,
    _UserMessage,
    parse_html,
    redact,
)
from bot.devtools.webhooks import Push, WebhookSettings, post

# The emulator's public surface: the server, and the records and spec it answers with.
__all__ = [
    "SPEC_PATH",
    "BotApiSpec",
    "Button",
    "EmulatedRequest",
    "Event",
    "FakeTelegram",
    "Limits",
    "Push",
    "SentMessage",
    "Throttled",
    "WebhookSettings",
    "parse_html",
]

log = logging.getLogger(__name__)


class FakeTelegram(BotMethods):
    """The emulated server: chats, messages, updates. One instance per test / console session.

    User-side methods (``user_*``) and waiting may be called from the event loop that runs the
    bot; waking a pending long poll is also safe from another thread.
    """

    # --- plumbing -------------------------------------------------------------------------

    def request(self, *, read_timeout: float = 5.0) -> EmulatedRequest:
        """A new ``BaseRequest`` bound to this server (PTB needs one for getUpdates, one else).

        ``read_timeout`` is what it reports to PTB (a getUpdates adds its long poll to it); the
        emulator itself enforces no timeout."""
        return EmulatedRequest(self, read_timeout=read_timeout)

    def add_listener(self, fn: Callable[[Event], None]) -> None:
        """Call ``fn`` on every new bot message, edit, deletion and callback answer."""
        self._listeners.append(fn)

    def remove_listener(self, fn: Callable[[Event], None]) -> None:
        """Stop calling ``fn`` (added with ``add_listener``)."""
        self._listeners.remove(fn)

    def inject_error(
        self,
        method: str,
        *,
        status: int,
        description: str | None = None,
        retry_after: int | None = None,
        times: int = 1,
    ) -> None:
        """Make the next ``times`` calls of ``method`` ("*": any method but getUpdates) fail.

        ``description`` defaults to Telegram's text for the status (for 429:
        "Too Many Requests: retry after N", with ``parameters.retry_after``).
        """
        if description is None:
            description = {
                400: "Bad Request",
                401: "Unauthorized",
                403: BLOCKED,
                409: "Conflict",
                429: f"Too Many Requests: retry after {retry_after or 1}",
                500: "Internal Server Error",
                502: "Bad Gateway",
            }.get(status, f"Error {status}")
        if status == 429 and retry_after is None:
            retry_after = 1
        self._injections.setdefault(method, []).append(
            _Injection(status, description, retry_after, times)
        )

    def inject_timeout(self, method: str, *, times: int = 1, answer_lost: bool = False) -> None:
        """Make the next ``times`` calls of ``method`` raise ``telegram.error.TimedOut``.

        ``answer_lost``: Telegram carries the call out (the message is sent) and only the answer
        is lost on the way back, the case where a retry would show a message twice."""
        self._injections.setdefault(method, []).append(
            _Injection(0, "", None, times, True, answer_lost)
        )

    def forget_files(self) -> None:
        """Every file_id given so far becomes unknown, as for a bot with a new token."""
        self._known_files.clear()

    def inject_hang(self, method: str, *, times: int = 1) -> None:
        """Make the next ``times`` calls of ``method`` hang: no answer ever comes, and (like a
        connection kept alive by a trickle of bytes) no read timeout ends the wait; only the
        caller giving up does. With "getUpdates": a stalled poller."""
        self._injections.setdefault(method, []).append(_Injection(0, "", None, times, hang=True))

    def inject_refused(self, method: str, *, times: int = 1) -> None:
        """Make the next ``times`` calls of ``method`` fail to connect, as when Telegram (or the
        network on the way) refuses the connection: the call never reaches the server (it is not
        in ``calls``) and PTB raises ``telegram.error.NetworkError``."""
        self._injections.setdefault(method, []).append(_Injection(0, "", None, times, refused=True))

    def clear_faults(self) -> None:
        """Drop every injected fault not yet used: from now on every call is answered."""
        with self._lock:
            self._injections.clear()

    def add_chat(
        self,
        chat_id: int,
        *,
        chat_type: str = "private",
        user_id: int | None = None,
        first_name: str = "Alex",
        language_code: str = "en",
        title: str | None = None,
    ) -> None:
        """Make a chat known to the server (as if the user had opened it) without any update."""
        with self._lock:
            self._ensure_chat(chat_id, chat_type, user_id, first_name, language_code, title)

    # --- the user's side ------------------------------------------------------------------

    def user_sends(
        self,
        chat_id: int,
        text: str,
        *,
        user_id: int | None = None,
        chat_type: str = "private",
        first_name: str = "Alex",
        language_code: str | None = None,
    ) -> JSONDict:
        """The user sends ``text``; returns the enqueued ``message`` update.

        A leading ``/command`` (also ``/command@BotName``) gets a ``bot_command`` entity. If
        the user had blocked the bot, they unblock it first (as the "Restart" button does).
        ``language_code`` is their Telegram app's language ("es-MX"); without it the user's
        stays as it was ("en" for a new user), for this message and their taps after it.
        """
        with self._lock:
            chat = self._ensure_chat(chat_id, chat_type, user_id, first_name, language_code)
            user = self._users[self._sender_id(chat, user_id)]
            if chat_id in self._blocked:
                self.user_unblocks(chat_id)
            message: JSONDict = {
                "message_id": self._new_message_id(chat_id),
                "from": dict(user),
                "chat": self._chat_dict(chat),
                "date": self._date(),
                "text": text,
            }
            entities = _command_entities(text)
            if entities:
                message["entities"] = entities
            self._user_msgs.setdefault(chat_id, {})[message["message_id"]] = _UserMessage(message)
            return self._enqueue({"message": message})

    def user_edits(
        self, chat_id: int, message_id: int, text: str, *, user_id: int | None = None
    ) -> JSONDict:
        """The user edits their own message; returns the ``edited_message`` update."""
        with self._lock:
            stored = self._user_msgs.get(chat_id, {}).get(message_id)
            if stored is None or stored.deleted:
                raise ValueError(f"chat {chat_id} has no user message {message_id}")
            data = stored.data
            data["text"] = text
            data["edit_date"] = self._date()
            entities = _command_entities(text)
            if entities:
                data["entities"] = entities
            else:
                data.pop("entities", None)
            return self._enqueue({"edited_message": _copy(data)})

    def user_presses(
        self,
        chat_id: int,
        message_id: int,
        data: str,
        *,
        user_id: int | None = None,
        check_buttons: bool = True,
    ) -> JSONDict:
        """The user presses an inline button with callback ``data`` under a bot message.

        Returns the ``callback_query`` update (fresh query id, ``message`` = the message as it
        is now). With ``check_buttons`` the message must currently show such a button.
        """
        with self._lock:
            msg = self._bot_msgs.get(chat_id, {}).get(message_id)
            if msg is None or msg.deleted:
                raise ValueError(f"chat {chat_id} has no visible bot message {message_id}")
            if check_buttons and data not in {b.callback_data for row in msg.buttons for b in row}:
                shown = [(b.text, b.callback_data) for row in msg.buttons for b in row]
                raise ValueError(
                    f"message {message_id} shows no button with data {data!r}; buttons: {shown}"
                )
            chat = self._chats[chat_id]
            user = self._users[self._sender_id(chat, user_id)]
            query_id = str(4_390_000_000_000_000_000 + next(self._callback_ids))
            self._callbacks[query_id] = (chat_id, message_id)
            self.unanswered_callbacks.add(query_id)
            query = {
                "id": query_id,
                "from": dict(user),
                "message": self._message_dict(msg),
                "chat_instance": str(-(abs(chat_id) * 7_919 + 1_234_567)),
                "data": data,
            }
            return self._enqueue({"callback_query": query})

    def user_taps(
        self,
        chat_id: int,
        button_text: str,
        *,
        message_id: int | None = None,
        user_id: int | None = None,
    ) -> JSONDict:
        """Press the inline button labelled ``button_text`` (on the last bot message by default)."""
        msg = self.last(chat_id) if message_id is None else self._visible(chat_id, message_id)
        button = msg.button(button_text)
        if button.callback_data is None:
            raise ValueError(f"button {button_text!r} has no callback_data")
        return self.user_presses(chat_id, msg.message_id, button.callback_data, user_id=user_id)

    def user_blocks(self, chat_id: int) -> JSONDict:
        """The user blocks the bot: a ``my_chat_member`` update (member -> kicked)."""
        return self._member_change(chat_id, blocked=True)

    def user_unblocks(self, chat_id: int) -> JSONDict:
        """The user unblocks the bot: a ``my_chat_member`` update (kicked -> member)."""
        return self._member_change(chat_id, blocked=False)

    # --- what the user sees ---------------------------------------------------------------

    def messages(self, chat_id: int, *, include_deleted: bool = False) -> list[SentMessage]:
        """The bot's messages in ``chat_id``, oldest first, each in its current state."""
        with self._lock:
            return [
                m
                for m in self._bot_msgs.get(chat_id, {}).values()
                if include_deleted or not m.deleted
            ]

    def last(self, chat_id: int) -> SentMessage:
        """The newest visible bot message in ``chat_id`` (AssertionError if there is none)."""
        msgs = self.messages(chat_id)
        if not msgs:
            raise AssertionError(f"the bot has sent nothing visible to chat {chat_id}")
        return msgs[-1]

    def texts(self, chat_id: int) -> list[str]:
        """The texts (or captions) of the bot's visible messages in ``chat_id``."""
        return [m.text for m in self.messages(chat_id)]

    def is_blocked(self, chat_id: int) -> bool:
        """Whether the user of ``chat_id`` currently blocks the bot."""
        return chat_id in self._blocked

    def pending_updates(self) -> list[JSONDict]:
        """Updates not yet confirmed by getUpdates."""
        with self._lock:
            return list(self._queue)

    async def wait_until(self, predicate: Callable[[], bool], *, within: float = 2.0) -> None:
        """Wait until ``predicate()`` holds, re-checking after every server-side change."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + within
        while True:
            seen = self._version
            if predicate():
                return
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(
                    f"condition not met within {within}s; calls so far: "
                    f"{[name for name, _ in self.calls[-10:]]}"
                )
            await self._wait_change(remaining, seen)

    # --- webhook pushes (bot.devtools.webhooks) -------------------------------------------

    @property
    def webhook_pushes(self) -> list[Push]:
        """Every attempt to push an update to the webhook, oldest first."""
        return list(self.webhook.pushes)

    @property
    def webhook_dropped(self) -> list[int]:
        """The update_ids given up on after `max_attempts` failed pushes."""
        return list(self.webhook.dropped)

    async def webhook_idle(self, *, within: float = 5.0) -> None:
        """Wait until every update is pushed (answered 2xx, or dropped) and none is in flight."""
        await self.wait_until(
            lambda: self.webhook.in_flight is None and not self._deliverable(), within=within
        )

    async def aclose(self) -> None:
        """Stop pushing to the webhook (the server's end of a test or a session)."""
        pusher, self._pusher = self._pusher, None
        if pusher is not None and not pusher.done():
            pusher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await pusher

    def _start_pushing(self) -> None:
        if self._pusher is None or self._pusher.done():
            self._pusher = asyncio.get_running_loop().create_task(
                self._push_all(), name="emulator-webhook-pushes"
            )

    async def _push_all(self) -> None:
        """Push the queue's head until it is confirmed or dropped, then the next; while a
        webhook is set."""
        settings = self.webhook.settings
        attempts: dict[int, int] = {}
        async with httpx.AsyncClient(
            transport=settings.transport, timeout=settings.timeout, follow_redirects=False
        ) as client:
            while True:
                with self._lock:
                    seen = self._version
                    url, secret = self.webhook.url, self.webhook.secret
                    if not url:
                        return
                    queue = self._deliverable()
                    update: JSONDict | None = _copy(queue[0]) if queue else None
                    if update is not None:
                        self.webhook.in_flight = update["update_id"]
                if update is None:
                    await self._wait_change(1.0, seen)
                    continue
                update_id = update["update_id"]
                attempt = attempts[update_id] = attempts.get(update_id, 0) + 1
                try:
                    status, error = await post(client, url, secret, update)
                finally:
                    with self._lock:
                        self.webhook.in_flight = None
                with self._lock:
                    self.webhook.pushes.append(Push(update_id, attempt, status, error))
                    if error is None or attempt >= settings.max_attempts:
                        if error is not None:
                            log.warning("webhook: update %s dropped: %s", update_id, error)
                            self.webhook.dropped.append(update_id)
                        self._queue = [u for u in self._queue if u["update_id"] != update_id]
                        attempts.pop(update_id, None)
                    if error is not None:
                        self.webhook.last_error_date = self._date()
                        self.webhook.last_error_message = error
                self._notify()
                if error is not None and attempt < settings.max_attempts:
                    delay = settings.retry_delay * 2 ** (attempt - 1)
                    await asyncio.sleep(min(delay, settings.max_delay))

    # --- HTTP entry point -----------------------------------------------------------------

    async def handle(
        self, url: str, http_method: str, request_data: RequestData | None
    ) -> tuple[int, bytes]:
        """Answer one HTTP request the way api.telegram.org would: (status, JSON body)."""
        if http_method != "POST":
            return _encode(404, {"ok": False, "error_code": 404, "description": "Not Found"})
        method_raw = url.rstrip("/").rsplit("/", 1)[-1]
        params, files = _decode_request(request_data)
        method = self.spec.method_name(method_raw)
        if method is None:
            self.calls.append((method_raw, params))
            self._protocol(method_raw, f"unknown method (POST {redact(url)})")
            return _encode(404, {"ok": False, "error_code": 404, "description": "Not Found"})
        if self._refused(method):
            raise NetworkError("httpx.ConnectError: [Errno 111] Connection refused")
        self.calls.append((method, params))
        try:
            self._validate(method, params)
            fault = self._consume_injection(method, params)
            if fault == "hang":
                await asyncio.Event().wait()  # until the caller gives up (cancels)
            if self._flood is not None:
                with self._lock:
                    self._check_limits(method, params, self._flood)
            if method == "getUpdates":
                result: Any = await self._get_updates(params)
            else:
                handler = getattr(self, f"_m_{method}", None)
                if handler is None:
                    raise _bad("method not supported by the emulator")
                with self._lock:
                    result = handler(params, files)
            if fault == "answer_lost":
                raise TimedOut()
        except _ApiError as err:
            self.rejections.append(f"{method}: {err.description}")
            if err.protocol:
                self.protocol_errors.append(f"{method}: {err.description}")
            body: JSONDict = {
                "ok": False,
                "error_code": err.status,
                "description": err.description,
            }
            if err.parameters:
                body["parameters"] = err.parameters
            return _encode(err.status, body)
        for problem in self.spec.check_value(
            result, self.spec.methods[method]["returns"], f"{method}()", lenient=False
        ):
            self.spec_violations.append(problem)
        return _encode(200, {"ok": True, "result": result})

    # --- validation -----------------------------------------------------------------------

    def _validate(self, method: str, params: JSONDict) -> None:
        missing, problems = self.spec.check_params(method, params)
        if missing:
            name = missing[0]
            if name in ("text", "caption"):
                raise _bad("message text is empty")
            raise _bad(f"{name} is empty")
        if problems:
            unknown_only = all("unknown" in p for p in problems)
            if unknown_only and not self.strict:
                for p in problems:
                    self._protocol(method, p)
                return
            raise _bad(f"invalid request: {'; '.join(problems)}")

    def _check_limits(self, method: str, params: JSONDict, flood: FloodControl) -> None:
        chat_id = _chat_key(params)
        chat = self._chats.get(chat_id) if isinstance(chat_id, int) else None
        flood.check(method, chat_id, group=chat is not None and chat.type != "private")

    def _injection(self, method: str) -> _Injection | None:
        """Take one use of the next fault injected for ``method`` (or "*"), if there is one."""
        queue = self._injections.get(method) or (
            self._injections.get("*") if method != "getUpdates" else None
        )
        if not queue:
            return None
        inj = queue[0]
        inj.times -= 1
        if inj.times <= 0:
            queue.pop(0)
        self.faults_hit.append((method, inj.kind))
        return inj

    def _refused(self, method: str) -> bool:
        """Whether the call's connection is refused (an injected fault, used up here)."""
        with self._lock:
            queue = self._injections.get(method) or (
                self._injections.get("*") if method != "getUpdates" else None
            )
            return bool(queue and queue[0].refused and self._injection(method))

    def _consume_injection(
        self, method: str, params: JSONDict
    ) -> Literal["answer_lost", "hang"] | None:
        """Raise the next injected fault; or say the call goes through and its answer is lost,
        or that it never answers.

        With limits in force, an injected 429 is kept like Telegram's own: the chat (the bot,
        for a call without one) is refused until its ``retry_after`` is over."""
        inj = self._injection(method)
        if inj is None:
            return None
        if inj.hang:
            return "hang"
        if inj.timeout and inj.answer_lost:
            return "answer_lost"
        if inj.timeout:
            raise TimedOut()
        parameters = {"retry_after": inj.retry_after} if inj.retry_after is not None else None
        if inj.status == 429 and inj.retry_after is not None and self._flood is not None:
            with self._lock:
                self._flood.refuse_until(method, _chat_key(params), inj.retry_after)
        raise _ApiError(inj.status, inj.description, parameters=parameters)

    def _protocol(self, method: str, problem: str) -> None:
        self.protocol_errors.append(f"{method}: {redact(problem)}")

    # --- getUpdates and friends -----------------------------------------------------------

    async def _get_updates(self, params: JSONDict) -> list[JSONDict]:
        if self.webhook_url:
            raise _ApiError(409, WEBHOOK_CONFLICT)
        offset = int(params.get("offset", 0) or 0)
        limit = min(max(int(params.get("limit", 100) or 100), 1), 100)
        timeout = float(params.get("timeout", 0) or 0)
        allowed = _obj(params.get("allowed_updates"))
        with self._lock:
            if isinstance(allowed, list):
                self._allowed_updates = set(allowed) or None
            self._poll_generation += 1
            generation = self._poll_generation
            self._confirm(offset)
        self._notify()  # terminates an older pending poll with 409
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            with self._lock:
                seen = self._version
                if generation != self._poll_generation:
                    raise _ApiError(409, POLL_CONFLICT)
                batch = self._deliverable()[:limit]
            remaining = deadline - loop.time()
            if batch or remaining <= 0:
                result: list[JSONDict] = _copy(batch)
                return result
            await self._wait_change(remaining, seen)

    def _confirm(self, offset: int) -> None:
        if offset > 0:
            self._queue = [u for u in self._queue if u["update_id"] >= offset]
        elif offset < 0:
            self._queue = self._queue[offset:]

    def _deliverable(self) -> list[JSONDict]:
        def allowed(update: JSONDict) -> bool:
            kind = next(k for k in update if k != "update_id")
            if self._allowed_updates is None:
                return kind not in _OPT_IN_UPDATES
            return kind in self._allowed_updates

        self._queue = [u for u in self._queue if allowed(u)]
        return self._queue


class EmulatedRequest(BaseRequest):
    """A ``telegram.request.BaseRequest`` that sends every call to a ``FakeTelegram``."""

    def __init__(self, server: FakeTelegram, *, read_timeout: float = 5.0) -> None:
        self.server = server
        self.initialized = False
        self._read_timeout = read_timeout

    @property
    def read_timeout(self) -> float | None:
        return self._read_timeout

    async def initialize(self) -> None:
        self.initialized = True

    async def shutdown(self) -> None:
        self.initialized = False

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: object = None,
        write_timeout: object = None,
        connect_timeout: object = None,
        pool_timeout: object = None,
    ) -> tuple[int, bytes]:
        return await self.server.handle(url, method, request_data)


# --------------------------------------------------------------------------------------------
# small helpers
# --------------------------------------------------------------------------------------------


def _chat_key(params: JSONDict) -> int | str | None:
    """The chat a call is for, as the limits count it: an id, an @username, or None."""
    raw = params.get("chat_id")
    if raw is None:
        return None
    try:
        return _int(raw)
    except (TypeError, ValueError):
        return str(raw)
