"""Guards that run before any handler: the same update twice, and one person flooding the bot.

Telegram may deliver an update again (a webhook answered late, a poller restarted, a replica
that died before answering); the second copy is dropped. The first step an update causes notes it
as seen in the chat's row of updates, in the same transaction (bot.runtime.runner.UpdateMark), so
a copy arriving at any replica, even while the first is still being handled, changes nothing;
an update no step stored (/privacy's text) is noted once it was handled.

A person sending far more than anyone following a routine would (a stuck key, a script) gets
one notice and is then ignored until the minute is over, so they slow nobody else.
"""

from __future__ import annotations

import contextlib
import logging
from collections import OrderedDict, deque

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import ApplicationHandlerStop, ContextTypes

from bot.core.content import Content
from bot.runtime.clock import Clock
from bot.runtime.runner import CURRENT_UPDATE, UpdateMark
from bot.storage import AlreadySeen, ChatStore
from bot.telegram import outcome

log = logging.getLogger(__name__)
Context = ContextTypes.DEFAULT_TYPE

# Update ids remembered to drop a second delivery (Telegram's ids only grow; a few thousand
# cover any redelivery).
REMEMBERED_UPDATES = 10_000
# More updates than this from one person within a minute (real seconds) is a flood.
FLOOD_LIMIT = 30
FLOOD_WINDOW = 60.0


class Duplicates:
    def __init__(self, chats: ChatStore, clock: Clock) -> None:
        self.chats = chats
        self.clock = clock
        self._seen: OrderedDict[int, None] = OrderedDict()

    async def __call__(self, update: Update, context: Context) -> None:
        """Drop an update seen already (by this process, or noted in the database by any);
        mark the update's task with it, so its first step notes it."""
        CURRENT_UPDATE.set(None)
        if update.update_id in self._seen:
            log.info("update %s delivered again; dropped", update.update_id)
            outcome.current().duplicate = True
            raise ApplicationHandlerStop
        self._seen[update.update_id] = None
        if len(self._seen) > REMEMBERED_UPDATES:
            self._seen.popitem(last=False)
        chat = update.effective_chat
        if chat is None:
            return
        if await self.chats.seen(chat.id, update.update_id):
            log.info("update %s of chat %s was handled before; dropped", update.update_id, chat.id)
            outcome.current().duplicate = True
            raise ApplicationHandlerStop
        CURRENT_UPDATE.set(UpdateMark(chat.id, update.update_id))

    async def handled(self, update: Update, context: Context) -> None:
        """After the handlers: note an update no step noted (one that only showed something),
        unless a step of it failed, so that Telegram's next copy runs it again."""
        mark = CURRENT_UPDATE.get()
        mark = mark.current if mark is not None else None
        if mark is None or mark.noted or mark.duplicate or mark.failed:
            return
        with contextlib.suppress(AlreadySeen):
            await self.chats.see_update(mark.chat_id, mark.update_id, self.clock.now())
        mark.noted = True

    def forget(self, update_id: int) -> None:
        """An update whose step failed for a passing reason (the database away) and that
        Telegram is asked to send again: its next delivery is handled, not dropped."""
        self._seen.pop(update_id, None)


class FloodGuard:
    def __init__(self, content: Content, clock: Clock) -> None:
        self.content = content
        self.clock = clock
        self._recent: dict[int, deque[float]] = {}
        self._warned: dict[int, float] = {}

    async def __call__(self, update: Update, context: Context) -> None:
        """Let an update through, or drop it (with one notice per flood)."""
        user = update.effective_user
        if user is None:
            return
        now = self.clock.now()
        recent = self._recent.setdefault(user.id, deque())
        while recent and now - recent[0] > FLOOD_WINDOW:
            recent.popleft()
        recent.append(now)
        if len(recent) <= FLOOD_LIMIT:
            self._warned.pop(user.id, None)
            if len(self._recent) > 10_000:  # forget people who went quiet
                self._recent = {k: v for k, v in self._recent.items() if v}
            return
        try:
            if update.callback_query:
                await update.callback_query.answer()  # a button must be answered, even now
            if user.id not in self._warned and update.effective_chat is not None:
                self._warned[user.id] = now
                log.warning("user %s is sending too fast; ignored for a minute", user.id)
                texts = self.content.texts(user.language_code)
                await context.bot.send_message(update.effective_chat.id, texts.replies.too_fast)
        except TelegramError as exc:
            log.debug("flood notice not sent: %s", exc)
        raise ApplicationHandlerStop
