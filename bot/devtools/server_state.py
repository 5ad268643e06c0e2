"""The emulated server's state (chats, messages, updates) and the helpers its methods share."""

from __future__ import annotations

import asyncio
import contextlib
import copy
import dataclasses
import itertools
import logging
import random
import threading
import time
from collections.abc import Callable

from bot.devtools.botapi import BotApiSpec, JSONDict
from bot.devtools.limits import FloodControl, Limits, Throttled
from bot.devtools.records import (
    _INLINE_BUTTON_ACTIONS,
    BLOCKED,
    MAX_CALLBACK_DATA_BYTES,
    Button,
    Event,
    SentMessage,
    _ApiError,
    _bad,
    _Chat,
    _copy,
    _Injection,
    _int,
    _obj,
    _parse_mode,
    _resolve,
    _strip,
    _truthy,
    _UserMessage,
    parse_html,
)
from bot.devtools.webhooks import WebhookState

log = logging.getLogger(__name__)


class ServerState:
    """The emulated server: chats, messages, updates. One instance per test / console session.

    User-side methods (``user_*``) and waiting may be called from the event loop that runs the
    bot; waking a pending long poll is also safe from another thread.
    """

    def __init__(
        self,
        *,
        bot_id: int = 7000001,
        bot_username: str = "StretchCoachBot",
        first_name: str = "Stretch Coach",
        spec: BotApiSpec | None = None,
        now: Callable[[], float] = time.time,
        strict: bool = True,
        limits: Limits | None = None,
    ) -> None:
        """``strict``: reject unknown parameters/fields with 400 (Telegram silently ignores
        them; either way they are listed in ``protocol_errors``). ``limits``: enforce
        Telegram's flood limits (see ``bot.devtools.limits``); None, the default, enforces none.
        """
        self.spec = spec or BotApiSpec.load()
        self.now = now
        self.strict = strict
        self.bot_user: JSONDict = {
            "id": bot_id,
            "is_bot": True,
            "first_name": first_name,
            "username": bot_username,
        }
        self.commands: list[JSONDict] = []
        self.commands_by_scope: dict[tuple[str, str], list[JSONDict]] = {}
        self.unanswered_callbacks: set[str] = set()
        self.calls: list[tuple[str, JSONDict]] = []
        self.protocol_errors: list[str] = []
        self.rejections: list[str] = []
        self.spec_violations: list[str] = []
        self.callback_answers: list[JSONDict] = []
        self.chat_actions: list[tuple[int, str]] = []
        # Every call answered with 429 while limits are in force (an injected one included).
        self.throttled: list[Throttled] = []
        # The webhook set with setWebhook, how it is pushed to, and every push (webhooks.py).
        self.webhook = WebhookState()
        self._pusher: asyncio.Task[None] | None = None
        self._lock = threading.RLock()
        self._flood: FloodControl | None = None
        self.limits = limits
        self._chats: dict[int, _Chat] = {}
        self._users: dict[int, JSONDict] = {}
        self._bot_msgs: dict[int, dict[int, SentMessage]] = {}
        self._user_msgs: dict[int, dict[int, _UserMessage]] = {}
        self._next_message_id: dict[int, int] = {}
        self._blocked: set[int] = set()
        self._queue: list[JSONDict] = []
        # Like Telegram's after a quiet week, the first id is random: a server started again (a
        # new console, a test's restart of the emulator) never repeats ids a bot has seen.
        self._update_ids = itertools.count(random.randrange(10**8, 2**31 - 10**8))
        self._callback_ids = itertools.count(1)
        self._callbacks: dict[str, tuple[int, int]] = {}
        self._file_ids = itertools.count(1)
        # Files the bot uploaded, by the file_id they were given (their bytes, when uploaded).
        self._known_files: dict[str, bytes | None] = {}
        self._allowed_updates: set[str] | None = None
        self._injections: dict[str, list[_Injection]] = {}
        # Every injected fault that took effect: (method, kind), e.g. ("sendMessage", "error 502").
        self.faults_hit: list[tuple[str, str]] = []
        self._listeners: list[Callable[[Event], None]] = []
        self._waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Future[None]]] = []
        self._poll_generation = 0
        self._version = 0

    @property
    def webhook_url(self) -> str:
        """The webhook's URL; "" when none is set (the bot polls)."""
        return self.webhook.url

    # --- limits -----------------------------------------------------------------------------

    @property
    def limits(self) -> Limits | None:
        """Telegram's flood limits in force (None: none). May be set at any time."""
        return None if self._flood is None else self._flood.limits

    @limits.setter
    def limits(self, limits: Limits | None) -> None:
        with self._lock:
            self._flood = None if limits is None else FloodControl(limits, self.throttled)

    # --- helpers ----------------------------------------------------------------------------

    def _date(self) -> int:
        return int(self.now())

    def _new_message_id(self, chat_id: int) -> int:
        nxt = self._next_message_id.get(chat_id, 1)
        self._next_message_id[chat_id] = nxt + 1
        return nxt

    def _ensure_chat(
        self,
        chat_id: int,
        chat_type: str,
        user_id: int | None,
        first_name: str,
        language_code: str | None,
        title: str | None = None,
    ) -> _Chat:
        if chat_type not in ("private", "group", "supergroup"):
            raise ValueError(f"unsupported chat type {chat_type!r}")
        if chat_type == "private" and user_id not in (None, chat_id):
            raise ValueError("in a private chat the chat id is the user id")
        chat = self._chats.get(chat_id)
        if chat is None:
            chat = _Chat(chat_id, chat_type, title=title or f"Group {chat_id}")
            if chat_type == "private":
                chat.user_id = chat_id
            self._chats[chat_id] = chat
        sender = self._sender_id(chat, user_id)
        profile = self._users.setdefault(sender, {"id": sender, "is_bot": False})
        profile["first_name"] = first_name
        if language_code is not None or "language_code" not in profile:
            profile["language_code"] = language_code or "en"
        return chat

    @staticmethod
    def _sender_id(chat: _Chat, user_id: int | None) -> int:
        if user_id is not None:
            return user_id
        return chat.user_id if chat.user_id is not None else 100_001

    def _chat_dict(self, chat: _Chat) -> JSONDict:
        if chat.type == "private":
            user = self._users.get(chat.id, {})
            return {"id": chat.id, "type": "private", "first_name": user.get("first_name", "")}
        return {"id": chat.id, "type": chat.type, "title": chat.title}

    def _enqueue(self, body: JSONDict) -> JSONDict:
        update = {"update_id": next(self._update_ids), **body}
        for problem in self.spec.check_object(update, "Update"):
            self.spec_violations.append(problem)
        self._queue.append(update)
        self._notify()
        copied: JSONDict = _copy(update)
        return copied

    def _member_change(self, chat_id: int, *, blocked: bool) -> JSONDict:
        with self._lock:
            chat = self._chats.get(chat_id)
            if chat is None or chat.type != "private":
                raise ValueError(f"no private chat {chat_id} to (un)block")
            member: JSONDict = {"status": "member", "user": dict(self.bot_user)}
            kicked: JSONDict = {"status": "kicked", "user": dict(self.bot_user), "until_date": 0}
            if blocked:
                self._blocked.add(chat_id)
            else:
                self._blocked.discard(chat_id)
            change = {
                "chat": self._chat_dict(chat),
                "from": dict(self._users[chat_id]),
                "date": self._date(),
                "old_chat_member": member if blocked else kicked,
                "new_chat_member": kicked if blocked else member,
            }
            return self._enqueue({"my_chat_member": change})

    def _target_chat(self, params: JSONDict, *, for_sending: bool = True) -> _Chat:
        raw = params.get("chat_id")
        chat: _Chat | None = None
        if isinstance(raw, str) and raw.startswith("@"):
            chat = None
        else:
            try:
                chat = self._chats.get(_int(raw))
            except (TypeError, ValueError):
                chat = None
        if chat is None:
            raise _bad("chat not found")
        if for_sending and chat.id in self._blocked:
            raise _ApiError(403, BLOCKED)
        return chat

    def _editable(self, params: JSONDict, verb: str) -> SentMessage:
        if params.get("inline_message_id") is not None:
            raise _bad("inline messages are not supported by the emulator")
        if params.get("chat_id") is None or params.get("message_id") is None:
            raise _bad("message identifier is not specified")
        chat = self._target_chat(params)
        message_id = _int(params["message_id"])
        msg = self._bot_msgs.get(chat.id, {}).get(message_id)
        if msg is None or msg.deleted:
            if message_id in self._user_msgs.get(chat.id, {}):
                raise _bad("message can't be edited")
            raise _bad(f"message to {verb} not found")
        return msg

    def _visible(self, chat_id: int, message_id: int) -> SentMessage:
        msg = self._bot_msgs.get(chat_id, {}).get(message_id)
        if msg is None or msg.deleted:
            raise ValueError(f"chat {chat_id} has no visible bot message {message_id}")
        return msg

    def _formatted(
        self, params: JSONDict, key: str, entities_key: str, limit: int
    ) -> tuple[str, list[JSONDict]]:
        raw = str(params.get(key, "") or "")
        mode = _parse_mode(params)
        entities: list[JSONDict] = []
        if params.get(entities_key) is not None:
            given = _obj(params[entities_key])
            entities = list(given) if isinstance(given, list) else []
            text = raw
        elif mode is None or mode.lower() in ("markdown", "markdownv2"):
            text = raw  # Markdown is not parsed by the emulator: the raw text is kept
        elif mode.lower() == "html":
            text, entities = parse_html(raw)
        else:
            raise _bad("unsupported parse_mode")
        text, entities = _strip(text, entities)
        if not text:
            raise _bad("message text is empty")
        if len(text) > limit:
            raise _bad("message caption is too long" if key == "caption" else "message is too long")
        return text, entities

    def _markup(
        self, params: JSONDict, *, inline_only: bool
    ) -> tuple[list[list[Button]], list[list[str]] | None, JSONDict | None]:
        markup = _obj(params.get("reply_markup"))
        if markup is None:
            return [], None, None
        if not isinstance(markup, dict):
            raise _bad("can't parse reply keyboard markup JSON object")
        if "inline_keyboard" in markup:
            rows: list[list[Button]] = []
            for row in markup["inline_keyboard"]:
                out_row = []
                for b in row:
                    actions = [a for a in _INLINE_BUTTON_ACTIONS if a in b]
                    if not actions:
                        raise _bad(
                            "can't parse inline keyboard button: Text buttons are "
                            "unallowed in the inline keyboard"
                        )
                    data = b.get("callback_data")
                    if data is not None and not (
                        0 < len(str(data).encode("utf-8")) <= MAX_CALLBACK_DATA_BYTES
                    ):
                        raise _bad("BUTTON_DATA_INVALID")
                    if not str(b.get("text", "")).strip():
                        raise _bad("can't parse inline keyboard button: text must be non-empty")
                    out_row.append(Button(str(b["text"]), data, b.get("url")))
                rows.append(out_row)
            stored = {
                "inline_keyboard": [[dict(b) for b in row] for row in markup["inline_keyboard"]]
            }
            if not any(rows):
                return [], None, None
            return rows, None, stored
        if inline_only:
            raise _bad("inline keyboard expected")
        keyboard = None
        if "keyboard" in markup:
            keyboard = [
                [b if isinstance(b, str) else str(b.get("text", "")) for b in row]
                for row in markup["keyboard"]
            ]
        return [], keyboard, None

    def _reply_to(self, chat_id: int, params: JSONDict) -> int | None:
        reply = _obj(params.get("reply_parameters"))
        if not isinstance(reply, dict):
            return None
        message_id = _int(reply.get("message_id"))
        exists = message_id in self._bot_msgs.get(chat_id, {}) or message_id in self._user_msgs.get(
            chat_id, {}
        )
        if not exists:
            if _truthy(reply.get("allow_sending_without_reply")):
                return None
            raise _bad("message to be replied not found")
        return message_id

    def _store(self, msg: SentMessage) -> JSONDict:
        self._bot_msgs.setdefault(msg.chat_id, {})[msg.message_id] = msg
        self._emit(Event("sent", msg.chat_id, msg))
        return self._message_dict(msg)

    def _message_dict(self, msg: SentMessage, *, nested: bool = False) -> JSONDict:
        data: JSONDict = {
            "message_id": msg.message_id,
            "from": dict(self.bot_user),
            "chat": self._chat_dict(self._chats[msg.chat_id]),
            "date": msg.date,
        }
        if msg.edit_date is not None:
            data["edit_date"] = msg.edit_date
        if msg.photo is not None:
            data["photo"] = [
                {
                    "file_id": msg.photo + "_s",
                    "file_unique_id": "AQAD" + msg.photo[-16:] + "s",
                    "width": 90,
                    "height": 60,
                },
                {
                    "file_id": msg.photo,
                    "file_unique_id": "AQAD" + msg.photo[-16:],
                    "width": 1280,
                    "height": 853,
                },
            ]
            if msg.caption:
                data["caption"] = msg.caption
                if msg.entities:
                    data["caption_entities"] = [dict(e) for e in msg.entities]
        elif msg.document is not None:
            data["document"] = {
                "file_id": f"BQACAgIAAxkDAAI{msg.message_id:08d}document",
                "file_unique_id": f"AgAD{msg.message_id:08d}",
                "file_name": msg.document,
                "file_size": len(msg.document_bytes or b""),
            }
            if msg.caption:
                data["caption"] = msg.caption
        else:
            data["text"] = msg.text
            if msg.entities:
                data["entities"] = [dict(e) for e in msg.entities]
        if msg.reply_markup is not None:
            data["reply_markup"] = _copy(msg.reply_markup)
        if msg.reply_to_message_id is not None and not nested:
            replied = self._bot_msgs.get(msg.chat_id, {}).get(msg.reply_to_message_id)
            if replied is not None:
                data["reply_to_message"] = self._message_dict(replied, nested=True)
            else:
                user_msg = self._user_msgs[msg.chat_id][msg.reply_to_message_id]
                data["reply_to_message"] = _copy(user_msg.data)
        return data

    # --- notification ---------------------------------------------------------------------

    def _emit(self, event: Event) -> None:
        if event.message is not None:  # listeners get a snapshot, not the live record
            event = dataclasses.replace(event, message=copy.deepcopy(event.message))
        for fn in list(self._listeners):
            try:
                fn(event)
            except Exception:
                log.exception("emulator listener %r failed on %s", fn, event.kind)
        self._notify()

    def _notify(self) -> None:
        with self._lock:
            self._version += 1
            waiters, self._waiters = self._waiters, []
        try:
            current: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            current = None
        for loop, fut in waiters:
            if loop is current:
                if not fut.done():
                    fut.set_result(None)
            elif not loop.is_closed():
                loop.call_soon_threadsafe(_resolve, fut)

    async def _wait_change(self, max_wait: float, seen: int) -> None:
        """Wait until something changes after version ``seen`` (or ``max_wait`` seconds pass)."""
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[None] = loop.create_future()
        entry = (loop, fut)
        with self._lock:
            if self._version != seen:
                return
            self._waiters.append(entry)
        try:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(fut, max_wait)
        finally:
            with self._lock, contextlib.suppress(ValueError):
                self._waiters.remove(entry)
