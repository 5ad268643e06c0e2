"""The Telegram layer: updates become routine events, effects become Bot API calls.

Handlers stay thin; any logic about the routine belongs in bot.routine. Every update gets an
answer: commands, buttons (ours, old ones, foreign ones), free text, stickers, edits, group
chats. Telegram errors are classified once, in `TelegramOutbox`.
"""

from __future__ import annotations

import logging

from telegram import (
    BotCommand,
    ChatMember,
    ChatMemberUpdated,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    Update,
)
from telegram.constants import ChatType
from telegram.error import BadRequest, Forbidden
from telegram.ext import (
    Application,
    ApplicationHandlerStop,
    CallbackContext,
    CallbackQueryHandler,
    ChatMemberHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    TypeHandler,
    filters,
)

from bot.callbacks import Button, decode
from bot.clock import Clock
from bot.coach import ChatUnreachable, Coach
from bot.content import Content
from bot.routine import (
    BeginRoutine,
    Cancel,
    Edited,
    Event,
    Help,
    Press,
    StalePress,
    Start,
    Unexpected,
)
from bot.storage import Store

log = logging.getLogger(__name__)
Context = ContextTypes.DEFAULT_TYPE


def keyboard(buttons: tuple[Button, ...]) -> InlineKeyboardMarkup | None:
    """Two short choices share a row; anything else gets a row of its own."""
    if not buttons:
        return None
    rows = [[InlineKeyboardButton(b.label, callback_data=b.data) for b in buttons]]
    if len(buttons) > 2 or sum(len(b.label) for b in buttons) > 32:
        rows = [[InlineKeyboardButton(b.label, callback_data=b.data)] for b in buttons]
    return InlineKeyboardMarkup(rows)


class TelegramOutbox:
    """The coach's way out, through python-telegram-bot's Bot."""

    def __init__(self, app: Application) -> None:  # type: ignore[type-arg]
        self.app = app

    async def send(self, chat_id: int, text: str, buttons: tuple[Button, ...]) -> int:
        try:
            message = await self.app.bot.send_message(chat_id, text, reply_markup=keyboard(buttons))
        except Forbidden as exc:
            raise ChatUnreachable(str(exc)) from exc
        except BadRequest as exc:
            if "chat not found" in exc.message.lower():
                raise ChatUnreachable(str(exc)) from exc
            raise
        return int(message.message_id)

    async def edit(self, chat_id: int, message_id: int, text: str) -> None:
        try:
            await self.app.bot.edit_message_text(text, chat_id=chat_id, message_id=message_id)
        except Forbidden as exc:
            raise ChatUnreachable(str(exc)) from exc
        except BadRequest as exc:
            # An unchanged text, or a message the user deleted: the countdown goes on without it.
            message = exc.message.lower()
            if "not modified" in message or "not found" in message or "can't be edited" in message:
                log.debug("countdown edit skipped in chat %s: %s", chat_id, exc.message)
                return
            raise


class Handlers:
    def __init__(self, coach: Coach, content: Content, store: Store, clock: Clock) -> None:
        self.coach = coach
        self.content = content
        self.store = store
        self.clock = clock

    def register(self, app: Application) -> None:  # type: ignore[type-arg]
        """Order matters: the private-chat guard runs first, in its own group."""
        # Group -1: the bot coaches one person at a time; groups get a pointer to a private chat.
        app.add_handler(TypeHandler(Update, self.guard_private_chat), group=-1)
        # Blocked / unblocked by the user: stop or resume sending to them.
        app.add_handler(ChatMemberHandler(self.member_changed, ChatMemberHandler.MY_CHAT_MEMBER))
        app.add_handler(CommandHandler("start", self.start))
        app.add_handler(CommandHandler("routine", self.begin_routine))
        app.add_handler(CommandHandler("cancel", self.cancel))
        app.add_handler(CommandHandler("help", self.help))
        # Every button press: ours, old ones, and data we do not know.
        app.add_handler(CallbackQueryHandler(self.press))
        # Edits of earlier messages are not read as answers.
        app.add_handler(MessageHandler(filters.UpdateType.EDITED, self.edited))
        # Anything else a user sends (text, stickers, photos, unknown commands).
        app.add_handler(MessageHandler(filters.UpdateType.MESSAGE, self.unexpected))
        app.add_error_handler(self.on_error)

    async def set_commands(self, app: Application) -> None:  # type: ignore[type-arg]
        """The command menu, in every language the content has."""
        for locale in self.content.locales:
            c = self.content.texts(locale).commands
            commands = [
                BotCommand("routine", c.routine),
                BotCommand("start", c.start),
                BotCommand("cancel", c.cancel),
                BotCommand("help", c.help),
            ]
            await app.bot.set_my_commands(
                commands, language_code=None if locale == "en" else locale
            )

    # -- guards ------------------------------------------------------------------------------

    async def guard_private_chat(self, update: Update, context: Context) -> None:
        chat = update.effective_chat
        if chat is None or chat.type == ChatType.PRIVATE or update.my_chat_member:
            return
        texts = self.content.texts(_locale(update))
        if update.callback_query:
            await update.callback_query.answer(texts.replies.group_chat[:190])
        elif update.message and update.message.text and update.message.text.startswith("/"):
            await update.message.reply_text(texts.replies.group_chat)
        raise ApplicationHandlerStop

    async def member_changed(self, update: Update, context: Context) -> None:
        change: ChatMemberUpdated | None = update.my_chat_member
        if change is None:
            return
        blocked = change.new_chat_member.status in (ChatMember.BANNED, ChatMember.LEFT)
        await self.store.set_active(change.chat.id, not blocked, self.clock.now())
        log.info("chat %s %s the bot", change.chat.id, "blocked" if blocked else "unblocked")

    # -- the user's steps ----------------------------------------------------------------------

    async def start(self, update: Update, context: Context) -> None:
        """/start: welcome and the disclaimer."""
        user = update.effective_user
        await self._event(update, Start(first_name=user.first_name if user else ""))

    async def begin_routine(self, update: Update, context: Context) -> None:
        """/routine: straight to the warm-up check once consent is on record."""
        await self._event(update, BeginRoutine())

    async def cancel(self, update: Update, context: Context) -> None:
        """/cancel: stop the routine and every timer of the chat."""
        await self._event(update, Cancel())

    async def help(self, update: Update, context: Context) -> None:
        """/help: what the bot understands."""
        await self._event(update, Help())

    async def press(self, update: Update, context: Context) -> None:
        """A button: ours becomes a Press; one we don't know is treated as out of date."""
        query = update.callback_query
        assert query is not None
        decoded = decode(query.data)
        event: Event = Press(*decoded) if decoded else StalePress()
        toasts = await self._event(update, event)
        await query.answer(toasts[0] if toasts else None)
        if isinstance(query.message, Message) and query.message.reply_markup is not None:
            # The choice is made: take the buttons off, so an old one cannot be pressed again.
            try:
                await query.edit_message_reply_markup(reply_markup=None)
            except BadRequest as exc:
                log.debug("could not remove old buttons: %s", exc.message)

    async def edited(self, update: Update, context: Context) -> None:
        """An edited message is not an answer; say so."""
        await self._event(update, Edited())

    async def unexpected(self, update: Update, context: Context) -> None:
        """Anything else: say what the bot expects now, with the buttons that fit."""
        await self._event(update, Unexpected())

    async def _event(self, update: Update, event: Event) -> list[str]:
        chat = update.effective_chat
        assert chat is not None
        if not await self.store.is_active(chat.id):
            # A message from a user we had marked unreachable means they are back.
            await self.store.set_active(chat.id, True, self.clock.now())
        return await self.coach.handle(chat.id, event, locale=_locale(update))

    async def on_error(self, update: object, context: CallbackContext) -> None:  # type: ignore[type-arg]
        log.error("error while handling an update", exc_info=context.error)
        if isinstance(update, Update) and update.effective_chat is not None:
            texts = self.content.texts(_locale(update))
            try:
                if update.callback_query:
                    await update.callback_query.answer()
                await context.bot.send_message(update.effective_chat.id, texts.replies.error)
            except Exception:  # the error reply is best effort; the first error is logged
                log.warning("could not tell chat %s about an error", update.effective_chat.id)


def _locale(update: Update) -> str | None:
    user = update.effective_user
    return user.language_code if user else None
