"""What the emulated Telegram keeps and answers with: messages as the user sees them, events,
Telegram's errors and limits, and its HTML parse mode."""

from __future__ import annotations

import asyncio
import json
import re
from dataclasses import dataclass, field
from typing import Any, Literal

from telegram.request import RequestData

from bot.devtools.botapi import JSONDict, _maybe_json

MAX_TEXT_LENGTH = 4096
MAX_CAPTION_LENGTH = 1024
MAX_CALLBACK_DATA_BYTES = 64
MAX_CALLBACK_ANSWER_LENGTH = 200
DELETE_WINDOW_SECONDS = 48 * 3600

NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a current content and reply markup of the message"
)
BLOCKED = "Forbidden: bot was blocked by the user"
QUERY_INVALID = "Bad Request: query is too old and response timeout expired or query ID is invalid"
WEBHOOK_CONFLICT = (
    "Conflict: can't use getUpdates method while webhook is active; "
    "use deleteWebhook to delete the webhook first"
)
POLL_CONFLICT = (
    "Conflict: terminated by other getUpdates request; "
    "make sure that only one bot instance is running"
)

_CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
# Update kinds Telegram leaves out when allowed_updates is empty / not given.
_OPT_IN_UPDATES = frozenset({"chat_member", "message_reaction", "message_reaction_count"})
_INLINE_BUTTON_ACTIONS = (
    "url",
    "callback_data",
    "web_app",
    "login_url",
    "switch_inline_query",
    "switch_inline_query_current_chat",
    "switch_inline_query_chosen_chat",
    "copy_text",
    "callback_game",
    "pay",
)
_BOT_URL = re.compile(r"/bot[^/]*/")
_UPLOAD = "<uploaded file>"


def redact(text: str) -> str:
    """Replace the ``/bot<token>/`` part of any URL in ``text`` by ``/bot<token>/``."""
    return _BOT_URL.sub("/bot<token>/", text)


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units, the unit of Telegram entity offsets."""
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


# --------------------------------------------------------------------------------------------
# What the user sees
# --------------------------------------------------------------------------------------------


@dataclass
class Button:
    """One inline keyboard button."""

    text: str
    callback_data: str | None = None
    url: str | None = None


@dataclass
class SentMessage:
    """A message the bot sent, in its current state (after edits / deletion).

    ``text`` is what the user reads: the message text, or the caption of a photo, after
    entity parsing (no HTML tags). ``edits`` holds the previous texts, oldest first.
    """

    message_id: int
    chat_id: int
    text: str
    date: int
    buttons: list[list[Button]] = field(default_factory=list)
    edits: list[str] = field(default_factory=list)
    deleted: bool = False
    photo: str | None = None
    caption: str | None = None
    entities: list[JSONDict] = field(default_factory=list)
    reply_markup: JSONDict | None = None
    reply_keyboard: list[list[str]] | None = None
    raw_text: str = ""
    parse_mode: str | None = None
    edit_date: int | None = None
    reply_to_message_id: int | None = None
    photo_bytes: bytes | None = None
    uploaded: bool = False  # the photo's bytes came with the request (not a known file_id)
    document: str | None = None  # sendDocument: the file's name
    document_bytes: bytes | None = None

    def button(self, text: str) -> Button:
        """The inline button labelled ``text`` (ValueError listing the labels if absent)."""
        for row in self.buttons:
            for b in row:
                if b.text == text:
                    return b
        labels = [b.text for row in self.buttons for b in row]
        raise ValueError(f"message {self.message_id} has no button {text!r}; buttons: {labels}")

    @property
    def button_texts(self) -> list[str]:
        """All inline button labels, row by row."""
        return [b.text for row in self.buttons for b in row]


@dataclass(frozen=True)
class Event:
    """Something the user would notice.

    kind: "sent" / "edited" / "deleted" (``message`` is set: a snapshot taken at that moment),
    or "callback_answer" (a toast or alert: ``text`` and ``show_alert`` are set, ``message`` is
    the message whose button was pressed, if any).
    """

    kind: Literal["sent", "edited", "deleted", "callback_answer"]
    chat_id: int | None
    message: SentMessage | None = None
    text: str | None = None
    show_alert: bool = False


class _ApiError(Exception):
    def __init__(
        self,
        status: int,
        description: str,
        *,
        protocol: bool = False,
        parameters: JSONDict | None = None,
    ) -> None:
        super().__init__(description)
        self.status = status
        self.description = description
        self.protocol = protocol
        self.parameters = parameters


def _bad(description: str, *, protocol: bool = True) -> _ApiError:
    return _ApiError(400, f"Bad Request: {description}", protocol=protocol)


@dataclass
class _Injection:
    status: int
    description: str
    retry_after: int | None
    times: int
    timeout: bool = False
    answer_lost: bool = False  # the request is carried out, then the answer times out
    hang: bool = False  # no answer ever, and no read timeout ends the wait
    refused: bool = False  # the connection is refused: the call never reaches the server

    @property
    def kind(self) -> str:
        """What the fault is, for `FakeTelegram.faults_hit`."""
        if self.refused or self.hang:
            return "refused" if self.refused else "hang"
        if self.timeout:
            return "answer lost" if self.answer_lost else "timeout"
        return f"error {self.status}"


@dataclass
class _Chat:
    id: int
    type: str
    user_id: int | None = None
    title: str | None = None


@dataclass
class _UserMessage:
    data: JSONDict
    deleted: bool = False


# --------------------------------------------------------------------------------------------
# Telegram's HTML parse mode
# --------------------------------------------------------------------------------------------

_HTML_ENTITY = re.compile(r"&(#x[0-9a-fA-F]+|#[0-9]+|lt|gt|amp|quot);")
_HTML_ATTR = re.compile(r"""([a-zA-Z_][\w-]*)(?:\s*=\s*("[^"]*"|'[^']*'|[^\s"'>]+))?""")
_HTML_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "blockquote": "blockquote",
    "tg-emoji": "custom_emoji",
}


@dataclass
class _OpenTag:
    name: str
    offset: int
    attrs: dict[str, str]
    language: str | None = None


def parse_html(source: str) -> tuple[str, list[JSONDict]]:
    """Parse Telegram-flavoured HTML into (plain text, entities), raising Telegram's errors."""
    out: list[str] = []
    u16 = 0
    stack: list[_OpenTag] = []
    entities: list[JSONDict] = []

    def fail(msg: str) -> _ApiError:
        return _bad(f"can't parse entities: {msg}")

    def byte_offset(i: int) -> int:
        return len(source[:i].encode("utf-8"))

    i = 0
    while i < len(source):
        ch = source[i]
        if ch == "<":
            end = source.find(">", i)
            if end == -1:
                raise fail(f"Unclosed start tag at byte offset {byte_offset(i)}")
            inner = source[i + 1 : end]
            if inner.startswith("/"):
                name = inner[1:].strip().lower()
                if not stack:
                    raise fail(f'Unexpected end tag "</{name}>" at byte offset {byte_offset(i)}')
                top = stack.pop()
                if name and name != top.name:
                    raise fail(
                        f"Unmatched end tag at byte offset {byte_offset(i)}, expected "
                        f'"</{top.name}>", found "</{name}>"'
                    )
                entity = _close_tag(top, u16, stack)
                if entity is not None:
                    entities.append(entity)
            else:
                m = re.match(r"([a-zA-Z][a-zA-Z0-9-]*)(.*)$", inner, re.S)
                name = m.group(1).lower() if m else ""
                attrs = {
                    a.group(1).lower(): (a.group(2) or "").strip("\"'")
                    for a in _HTML_ATTR.finditer(m.group(2) if m else "")
                }
                if name not in _HTML_TAGS or (
                    name == "span" and attrs.get("class") != "tg-spoiler"
                ):
                    raise fail(f'Unsupported start tag "{name}" at byte offset {byte_offset(i)}')
                stack.append(_OpenTag(name, u16, attrs))
            i = end + 1
            continue
        if ch == "&":
            m = _HTML_ENTITY.match(source, i)
            if m:
                ref = m.group(1)
                if ref.startswith("#x"):
                    decoded = chr(int(ref[2:], 16))
                elif ref.startswith("#"):
                    decoded = chr(int(ref[1:]))
                else:
                    decoded = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}[ref]
                out.append(decoded)
                u16 += utf16_len(decoded)
                i = m.end()
                continue
        out.append(ch)
        u16 += utf16_len(ch)
        i += 1
    if stack:
        raise fail(f'Can\'t find end tag corresponding to start tag "{stack[-1].name}"')
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(out), entities


def _close_tag(tag: _OpenTag, u16: int, stack: list[_OpenTag]) -> JSONDict | None:
    if tag.name == "code" and stack and stack[-1].name == "pre":
        language = tag.attrs.get("class", "")
        if language.startswith("language-"):
            stack[-1].language = language[len("language-") :]
        return None
    length = u16 - tag.offset
    if length <= 0:
        return None
    kind = _HTML_TAGS[tag.name]
    entity: JSONDict = {"type": kind, "offset": tag.offset, "length": length}
    if kind == "text_link":
        if not tag.attrs.get("href"):
            return None
        entity["url"] = tag.attrs["href"]
    elif kind == "pre" and tag.language:
        entity["language"] = tag.language
    elif kind == "custom_emoji":
        entity["custom_emoji_id"] = tag.attrs.get("emoji-id", "")
    elif kind == "blockquote" and "expandable" in tag.attrs:
        entity["type"] = "expandable_blockquote"
    return entity


def _strip(text: str, entities: list[JSONDict]) -> tuple[str, list[JSONDict]]:
    """Trim surrounding whitespace like Telegram does, keeping entities aligned."""
    stripped = text.strip()
    if stripped == text:
        return text, entities
    lead = utf16_len(text[: len(text) - len(text.lstrip())])
    total = utf16_len(stripped)
    out = []
    for e in entities:
        start = max(int(e["offset"]) - lead, 0)
        end = min(int(e["offset"]) + int(e["length"]) - lead, total)
        if end > start:
            out.append({**e, "offset": start, "length": end - start})
    return stripped, out


# Small helpers shared by the server and its methods.


def _resolve(fut: asyncio.Future[None]) -> None:
    if not fut.done():
        fut.set_result(None)


def _copy(value: Any) -> Any:
    """A deep copy through JSON, so callers never share state with the server."""
    return json.loads(json.dumps(value))


def _encode(status: int, body: JSONDict) -> tuple[int, bytes]:
    return status, json.dumps(body, ensure_ascii=False).encode("utf-8")


def _decode_request(request_data: RequestData | None) -> tuple[JSONDict, JSONDict]:
    """Parameters (decoded values) and uploaded file contents by part name."""
    if request_data is None:
        return {}, {}
    params: JSONDict = dict(request_data.parameters)
    files: JSONDict = {}
    if request_data.contains_files:
        for part, value in request_data.multipart_data.items():
            content = value[1]
            if not isinstance(content, bytes):
                content = content.read()
            files[part] = content
            files[f"{part}#name"] = value[0]  # the uploaded file's name
            if part not in params and not any(
                isinstance(v, str) and v == f"attach://{part}" for v in params.values()
            ):
                params[part] = _UPLOAD
    return params, files


def _obj(value: Any) -> Any:
    """A JSON object/array parameter: decoded values pass, JSON strings are decoded."""
    if isinstance(value, str):
        return _maybe_json(value)
    return value


def _int(value: Any) -> int:
    if isinstance(value, bool):
        raise ValueError("boolean is not an integer")
    return int(value)


def _truthy(value: Any) -> bool:
    return value is True or value in ("true", "True", "1", 1)


def _parse_mode(params: JSONDict) -> str | None:
    mode = params.get("parse_mode")
    return str(mode) if mode else None


def _command_entities(text: str) -> list[JSONDict]:
    m = re.match(r"/[a-zA-Z0-9_]{1,32}(?:@[a-zA-Z0-9_]{3,})?", text)
    if m is None:
        return []
    return [{"type": "bot_command", "offset": 0, "length": utf16_len(m.group(0))}]
