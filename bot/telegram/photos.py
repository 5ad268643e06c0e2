"""Pictures of the positions, uploaded to Telegram once and sent by file_id afterwards.

A picture is drawn (bot.media.pictures) the first time it is needed, on a worker thread, and
kept in memory. Its first send uploads the PNG; Telegram's file_id is then stored in the
database (per bot token: a file_id is only valid for the bot that got it), so ten thousand
users mean one upload. The key names the picture, its language and a fingerprint of its
source and labels: a physiotherapist's change to a drawing is a new key, uploaded anew. A
file_id Telegram refuses is forgotten and the picture uploaded again.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging

import PIL
from telegram import InlineKeyboardMarkup, InputFile, Message
from telegram.error import BadRequest
from telegram.ext import Application

from bot.core.content import Content
from bot.core.picture_models import Mirror
from bot.media.pictures import render
from bot.runtime.clock import Clock
from bot.storage import MediaStore

log = logging.getLogger(__name__)

# Pictures drawn in this process, by key (the fingerprint makes a changed source a new key).
_DRAWN: dict[str, bytes] = {}


class Photos:
    def __init__(self, content: Content, media: MediaStore, clock: Clock) -> None:
        self.content = content
        self.media = media
        self.clock = clock
        self._drawing: dict[str, asyncio.Lock] = {}
        self._keys: dict[str, str] = {}  # the content does not change while the bot runs

    def key(self, picture: str) -> str:
        """`picture` ("<id>/<language>") with a fingerprint of what it is drawn from."""
        if picture not in self._keys:
            self._keys[picture] = self._fingerprint(picture)
        return self._keys[picture]

    def _fingerprint(self, picture: str) -> str:
        picture_id, _, language = picture.partition("/")
        source = self.content.pictures[picture_id]
        parts = [source.model_dump_json(warnings=False)]
        if isinstance(source, Mirror):
            parts.append(self.content.pictures[source.mirror_of].model_dump_json(warnings=False))
        words = self.content.texts(language).pictures.get(picture_id, {})
        parts += [f"{k}={v}" for k, v in sorted(words.items())]
        parts.append(PIL.__version__)
        digest = hashlib.sha256("\0".join(parts).encode()).hexdigest()[:16]
        return f"{picture}/{digest}"

    def every_picture(self) -> list[str]:
        """Every picture the routine shows, in every language ("<id>/<language>")."""
        ids = [p for exercise in self.content.routine.exercises for p in exercise.pictures]
        return [f"{p}/{language}" for language in self.content.locales for p in ids]

    async def png(self, picture: str) -> bytes:
        """The picture drawn (once per process, off the event loop)."""
        key = self.key(picture)
        if key not in _DRAWN:
            async with self._drawing.setdefault(key, asyncio.Lock()):
                if key not in _DRAWN:
                    picture_id, _, language = picture.partition("/")
                    texts = self.content.texts(language)
                    pictures = self.content.pictures
                    _DRAWN[key] = await asyncio.to_thread(render, picture_id, texts, pictures)
        return _DRAWN[key]

    async def draw_all(self) -> None:
        """Draw every picture ahead of its first use (at start-up, in the background)."""
        for picture in self.every_picture():
            try:
                await self.png(picture)
            except Exception:  # drawn again when it is needed; the card shows regardless
                log.exception("could not draw the picture %s", picture)

    async def send(
        self,
        app: Application,  # type: ignore[type-arg]
        chat_id: int,
        picture: str,
        caption: str,
        reply_markup: InlineKeyboardMarkup | None = None,
    ) -> Message:
        """Send the picture with its caption: by file_id when Telegram has it already."""
        key = self.key(picture)
        file_id = await self.media.file_id(key)
        if file_id is not None:
            try:
                sent: Message = await app.bot.send_photo(
                    chat_id, file_id, caption=caption or None, reply_markup=reply_markup
                )
                return sent
            except BadRequest as exc:
                if "file" not in exc.message.lower():
                    raise
                # Telegram no longer knows it (another token, say): upload it again.
                log.warning("Telegram refused the stored picture %s (%s); uploading", key, exc)
                await self.media.forget(key)
        png = await self.png(picture)
        name = picture.replace("/", "-") + ".png"
        message: Message = await app.bot.send_photo(
            chat_id,
            InputFile(png, filename=name),
            caption=caption or None,
            reply_markup=reply_markup,
        )
        if message.photo:
            await self.media.remember(key, message.photo[-1].file_id, self.clock.now())
        return message
