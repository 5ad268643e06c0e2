"""The Bot API methods the emulated server answers (`_m_<method>`), one per method."""

from __future__ import annotations

import json
import re

from bot.devtools.botapi import JSONDict
from bot.devtools.records import (
    _CHAT_ACTIONS,
    _UPLOAD,
    DELETE_WINDOW_SECONDS,
    MAX_CALLBACK_ANSWER_LENGTH,
    MAX_CAPTION_LENGTH,
    MAX_TEXT_LENGTH,
    NOT_MODIFIED,
    QUERY_INVALID,
    Button,
    Event,
    SentMessage,
    _bad,
    _int,
    _obj,
    _parse_mode,
    _truthy,
)
from bot.devtools.server_state import ServerState


class BotMethods(ServerState):
    """Bot API methods, answered as Telegram answers them."""

    def _m_deleteWebhook(self, params: JSONDict, files: JSONDict) -> bool:
        self.webhook.url = ""
        self.webhook.secret = None
        if _truthy(params.get("drop_pending_updates")):
            self._queue.clear()
        # No _notify(): tests time their steps on what wakes waiters; a push waiting for
        # updates sees the webhook gone within a second (bot.devtools.emulator._push_all).
        return True

    def _m_setWebhook(self, params: JSONDict, files: JSONDict) -> bool:
        secret = params.get("secret_token")
        if secret is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", str(secret)):
            raise _bad("secret token contains unallowed characters")
        url = str(params.get("url", ""))
        self.webhook.url = url
        self.webhook.secret = None if secret is None else str(secret)
        allowed = _obj(params.get("allowed_updates"))
        if isinstance(allowed, list):
            self._allowed_updates = set(allowed) or None
        if _truthy(params.get("drop_pending_updates")):
            self._queue.clear()
        self._poll_generation += 1
        self._notify()
        if url:
            self._start_pushing()
        return True

    def _m_getWebhookInfo(self, params: JSONDict, files: JSONDict) -> JSONDict:
        info: JSONDict = {
            "url": self.webhook_url,
            "has_custom_certificate": False,
            "pending_update_count": len(self._queue),
        }
        if self.webhook.url and self.webhook.last_error_date is not None:
            info["last_error_date"] = self.webhook.last_error_date
            info["last_error_message"] = self.webhook.last_error_message
        if self.webhook.url:
            info["max_connections"] = 40
        if self.webhook.url and self._allowed_updates is not None:
            info["allowed_updates"] = sorted(self._allowed_updates)
        return info

    def _start_pushing(self) -> None:
        """Defined by the server (emulator.py): start the pushes to the webhook."""
        raise NotImplementedError

    def _m_getMe(self, params: JSONDict, files: JSONDict) -> JSONDict:
        return {
            **self.bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
            "can_connect_to_business": False,
            "has_main_web_app": False,
        }

    def _m_logOut(self, params: JSONDict, files: JSONDict) -> bool:
        return True

    def _m_close(self, params: JSONDict, files: JSONDict) -> bool:
        return True

    # --- commands -------------------------------------------------------------------------

    @staticmethod
    def _scope_key(params: JSONDict) -> tuple[str, str]:
        scope = _obj(params.get("scope")) or {"type": "default"}
        return json.dumps(scope, sort_keys=True), str(params.get("language_code", "") or "")

    def _m_setMyCommands(self, params: JSONDict, files: JSONDict) -> bool:
        commands = _obj(params.get("commands"))
        if not isinstance(commands, list) or len(commands) > 100:
            raise _bad("BOT_COMMANDS_TOO_MUCH" if isinstance(commands, list) else "bad commands")
        for c in commands:
            if not re.fullmatch(r"[a-z0-9_]{1,32}", str(c.get("command", ""))):
                raise _bad("BOT_COMMAND_INVALID")
            if not 1 <= len(str(c.get("description", ""))) <= 256:
                raise _bad("BOT_COMMAND_DESCRIPTION_INVALID")
        stored = [{"command": c["command"], "description": c["description"]} for c in commands]
        key = self._scope_key(params)
        self.commands_by_scope[key] = stored
        if key == self._scope_key({}):
            self.commands = stored
        return True

    def _m_getMyCommands(self, params: JSONDict, files: JSONDict) -> list[JSONDict]:
        return list(self.commands_by_scope.get(self._scope_key(params), []))

    def _m_deleteMyCommands(self, params: JSONDict, files: JSONDict) -> bool:
        key = self._scope_key(params)
        self.commands_by_scope.pop(key, None)
        if key == self._scope_key({}):
            self.commands = []
        return True

    # --- messages -------------------------------------------------------------------------

    def _m_sendMessage(self, params: JSONDict, files: JSONDict) -> JSONDict:
        chat = self._target_chat(params)
        text, entities = self._formatted(params, "text", "entities", MAX_TEXT_LENGTH)
        buttons, keyboard, markup = self._markup(params, inline_only=False)
        reply_to = self._reply_to(chat.id, params)
        msg = SentMessage(
            message_id=self._new_message_id(chat.id),
            chat_id=chat.id,
            text=text,
            date=self._date(),
            buttons=buttons,
            entities=entities,
            reply_markup=markup,
            reply_keyboard=keyboard,
            raw_text=str(params["text"]),
            parse_mode=_parse_mode(params),
            reply_to_message_id=reply_to,
        )
        return self._store(msg)

    def _m_sendPhoto(self, params: JSONDict, files: JSONDict) -> JSONDict:
        chat = self._target_chat(params)
        photo = params["photo"]
        data: bytes | None = None
        if isinstance(photo, str) and photo.startswith("attach://"):
            part = files.get(photo[len("attach://") :])
            if part is None:
                raise _bad("wrong file identifier/HTTP URL specified")
            data = part
        elif photo == _UPLOAD:
            data = files.get("photo")
        elif not (
            isinstance(photo, str)
            and (photo.startswith(("http://", "https://")) or photo in self._known_files)
        ):
            raise _bad("wrong file identifier/HTTP URL specified")
        caption, entities = "", list[JSONDict]()
        if params.get("caption") not in (None, ""):
            caption, entities = self._formatted(
                params, "caption", "caption_entities", MAX_CAPTION_LENGTH
            )
        buttons, keyboard, markup = self._markup(params, inline_only=False)
        file_id = photo if isinstance(photo, str) and photo in self._known_files else None
        if file_id is None:
            file_id = f"AgACAgIAAxkDAAI{next(self._file_ids):08d}emulated"
            self._known_files[file_id] = data
        uploaded = data is not None
        data = self._known_files[file_id] if data is None else data
        msg = SentMessage(
            message_id=self._new_message_id(chat.id),
            chat_id=chat.id,
            text=caption,
            date=self._date(),
            buttons=buttons,
            photo=file_id,
            caption=caption or None,
            entities=entities,
            reply_markup=markup,
            reply_keyboard=keyboard,
            raw_text=str(params.get("caption", "") or ""),
            parse_mode=_parse_mode(params),
            reply_to_message_id=self._reply_to(chat.id, params),
            photo_bytes=data,
            uploaded=uploaded,
        )
        return self._store(msg)

    def _m_sendDocument(self, params: JSONDict, files: JSONDict) -> JSONDict:
        """A file the bot uploads (a CSV export, say): kept with its name and bytes."""
        chat = self._target_chat(params)
        document = params["document"]
        part = "document"
        if isinstance(document, str) and document.startswith("attach://"):
            part = document[len("attach://") :]
        elif document != _UPLOAD:
            part = ""
        data: bytes | None = files.get(part) if part else None
        if data is None:
            raise _bad("wrong file identifier/HTTP URL specified")
        caption = ""
        if params.get("caption") not in (None, ""):
            caption, _ = self._formatted(params, "caption", "caption_entities", MAX_CAPTION_LENGTH)
        buttons, keyboard, markup = self._markup(params, inline_only=False)
        msg = SentMessage(
            message_id=self._new_message_id(chat.id),
            chat_id=chat.id,
            text=caption,
            date=self._date(),
            buttons=buttons,
            caption=caption or None,
            reply_markup=markup,
            reply_keyboard=keyboard,
            raw_text=str(params.get("caption", "") or ""),
            document=str(files.get(f"{part}#name") or "document"),
            document_bytes=data,
        )
        return self._store(msg)

    def _m_editMessageText(self, params: JSONDict, files: JSONDict) -> JSONDict:
        msg = self._editable(params, "edit")
        if msg.photo is not None:
            raise _bad("there is no text in the message to edit")
        if params.get("text") in (None, ""):
            raise _bad("message text is empty")
        text, entities = self._formatted(params, "text", "entities", MAX_TEXT_LENGTH)
        buttons, _, markup = self._markup(params, inline_only=True)
        return self._apply_edit(msg, text, entities, buttons, markup, params, "text")

    def _m_editMessageCaption(self, params: JSONDict, files: JSONDict) -> JSONDict:
        msg = self._editable(params, "edit")
        if msg.photo is None:
            raise _bad("there is no caption in the message to edit")
        caption, entities = "", list[JSONDict]()
        if params.get("caption") not in (None, ""):
            caption, entities = self._formatted(
                params, "caption", "caption_entities", MAX_CAPTION_LENGTH
            )
        buttons, _, markup = self._markup(params, inline_only=True)
        return self._apply_edit(msg, caption, entities, buttons, markup, params, "caption")

    def _m_editMessageReplyMarkup(self, params: JSONDict, files: JSONDict) -> JSONDict:
        msg = self._editable(params, "edit")
        buttons, _, markup = self._markup(params, inline_only=True)
        return self._apply_edit(msg, msg.text, msg.entities, buttons, markup, params, None)

    def _apply_edit(
        self,
        msg: SentMessage,
        text: str,
        entities: list[JSONDict],
        buttons: list[list[Button]],
        markup: JSONDict | None,
        params: JSONDict,
        field_name: str | None,
    ) -> JSONDict:
        if (text, entities, markup) == (msg.text, msg.entities, msg.reply_markup):
            raise _bad(NOT_MODIFIED[len("Bad Request: ") :], protocol=False)
        if text != msg.text:
            msg.edits.append(msg.text)
        msg.text = text
        msg.entities = entities
        msg.buttons = buttons
        msg.reply_markup = markup
        if field_name is not None:
            msg.raw_text = str(params.get(field_name, "") or "")
            msg.parse_mode = _parse_mode(params)
        if msg.photo is not None:
            msg.caption = text or None
        msg.edit_date = self._date()
        self._emit(Event("edited", msg.chat_id, msg))
        return self._message_dict(msg)

    def _m_deleteMessage(self, params: JSONDict, files: JSONDict) -> bool:
        chat = self._target_chat(params)
        message_id = _int(params["message_id"])
        bot_msg = self._bot_msgs.get(chat.id, {}).get(message_id)
        user_msg = self._user_msgs.get(chat.id, {}).get(message_id)
        if bot_msg is not None and not bot_msg.deleted:
            date = bot_msg.date
        elif user_msg is not None and not user_msg.deleted:
            date = int(user_msg.data["date"])
        else:
            raise _bad("message to delete not found")
        if self._date() - date > DELETE_WINDOW_SECONDS:
            raise _bad("message can't be deleted for everyone", protocol=False)
        if bot_msg is not None:
            bot_msg.deleted = True
            self._emit(Event("deleted", chat.id, bot_msg))
        elif user_msg is not None:
            user_msg.deleted = True
        return True

    def _m_answerCallbackQuery(self, params: JSONDict, files: JSONDict) -> bool:
        query_id = str(params["callback_query_id"])
        if query_id not in self.unanswered_callbacks:
            raise _bad(QUERY_INVALID[len("Bad Request: ") :])
        text = params.get("text")
        if text is not None and len(str(text)) > MAX_CALLBACK_ANSWER_LENGTH:
            raise _bad("MESSAGE_TOO_LONG")
        self.unanswered_callbacks.discard(query_id)
        answer = {"callback_query_id": query_id, **params}
        self.callback_answers.append(answer)
        if text:
            chat_id, message_id = self._callbacks[query_id]
            msg = self._bot_msgs.get(chat_id, {}).get(message_id)
            self._emit(
                Event(
                    "callback_answer",
                    chat_id,
                    msg,
                    text=str(text),
                    show_alert=_truthy(params.get("show_alert")),
                )
            )
        return True

    def _m_sendChatAction(self, params: JSONDict, files: JSONDict) -> bool:
        chat = self._target_chat(params)
        action = str(params["action"])
        if action not in _CHAT_ACTIONS:
            raise _bad("wrong parameter action in request")
        self.chat_actions.append((chat.id, action))
        return True

    def _m_getChat(self, params: JSONDict, files: JSONDict) -> JSONDict:
        chat = self._target_chat(params, for_sending=False)
        return {
            **self._chat_dict(chat),
            "accent_color_id": 0,
            "max_reaction_count": 11,
            "accepted_gift_types": {
                "unlimited_gifts": False,
                "limited_gifts": False,
                "unique_gifts": False,
                "premium_subscription": False,
                "gifts_from_channels": False,
            },
        }

    def _m_leaveChat(self, params: JSONDict, files: JSONDict) -> bool:
        chat = self._target_chat(params, for_sending=False)
        if chat.type == "private":
            raise _bad("chat member status can't be changed in private chats")
        return True
