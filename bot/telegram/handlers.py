"""Handlers: Telegram updates become events of the bot's conversations.

Handlers stay thin; what a step means belongs in the core's machines. Every update gets an
answer: commands, buttons (ours, old ones, foreign ones), free text, stickers, edits, group
chats. Effects go back out through the runner and `TelegramOutbox` (bot.telegram.outbox).
"""

from __future__ import annotations

import logging

from telegram import BotCommand, ChatMember, ChatMemberUpdated, Message, Update
from telegram.constants import ChatType
from telegram.error import Conflict, NetworkError, TelegramError
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

from bot.core.callbacks import REMINDER_ACTIONS, Action, decode
from bot.core.content import Content
from bot.core.events import (
    Back,
    BeginRoutine,
    Cancel,
    Edited,
    Event,
    Help,
    PauseTimer,
    Press,
    ResumeTimer,
    ShowSettings,
    StalePress,
    Start,
    Unexpected,
)
from bot.core.reminder_types import (
    AskTimezone,
    Interrupt,
    ListReminders,
    Remind,
    ReminderEvent,
    Resume,
    Typed,
)
from bot.runtime.conversations import ReminderConversation, RoutineConversation
from bot.runtime.runner import CURRENT_UPDATE, Runner, Shown
from bot.storage import ChatSettings, StoreUnavailable
from bot.telegram import outcome
from bot.telegram.guards import Duplicates, FloodGuard
from bot.telegram.keyboards import keyboard
from bot.telegram.outbox import TelegramOutbox
from bot.telegram.your_data import YourData

log = logging.getLogger(__name__)

SETTINGS_SHORTCUTS = frozenset({Action.SETTINGS_TIMEZONE, Action.SETTINGS_REMINDERS})
DATA_ACTIONS = frozenset({Action.REST_DAY, Action.FORGET})
NEW = filters.UpdateType.MESSAGE
Context = ContextTypes.DEFAULT_TYPE


class Handlers:
    def __init__(
        self,
        runner: Runner,
        routine: RoutineConversation,
        reminders: ReminderConversation,
        content: Content,
        data: YourData,
        outbox: TelegramOutbox,
    ) -> None:
        self.runner = runner
        self.outbox = outbox  # the runner's way out, with Telegram's limits kept
        self.routine = routine
        self.conflict = False  # set when another instance polls with the same token
        self.reminders = reminders
        self.content = content
        self.chats = runner.store.chats
        self.data = data
        self.duplicates = Duplicates(runner.store.chats, runner.clock)
        self.webhook_conflict = False  # getUpdates refused: a webhook is set for this bot

    def register(self, app: Application) -> None:  # type: ignore[type-arg]
        """Order matters: the private-chat guard runs first, in its own group."""
        # Group -1: the bot coaches one person at a time; groups get a pointer to a private chat.
        # Group -3: the same update delivered twice is dropped. Group -2: a flood gets one notice.
        app.add_handler(TypeHandler(Update, self.duplicates), group=-3)
        app.add_handler(TypeHandler(Update, FloodGuard(self.content, self.runner.clock)), group=-2)
        app.add_handler(TypeHandler(Update, self.guard_private_chat), group=-1)
        # Blocked / unblocked by the user: stop or resume sending to them.
        app.add_handler(ChatMemberHandler(self.member_changed, ChatMemberHandler.MY_CHAT_MEMBER))
        # Commands count only in new messages: an edited one is answered by `edited` below.
        app.add_handler(CommandHandler("start", self.start, filters=NEW))
        app.add_handler(CommandHandler("routine", self.begin_routine, filters=NEW))
        app.add_handler(CommandHandler("stop", self.stop, filters=NEW))
        app.add_handler(CommandHandler("cancel", self.cancel, filters=NEW))
        app.add_handler(CommandHandler("pause", self.pause, filters=NEW))
        app.add_handler(CommandHandler("resume", self.resume, filters=NEW))
        app.add_handler(CommandHandler("back", self.back, filters=NEW))
        app.add_handler(CommandHandler("settings", self.settings, filters=NEW))
        app.add_handler(CommandHandler("progress", self.progress, filters=NEW))
        app.add_handler(CommandHandler("export", self.export, filters=NEW))
        app.add_handler(CommandHandler("privacy", self.privacy, filters=NEW))
        app.add_handler(CommandHandler("forget", self.forget, filters=NEW))
        app.add_handler(CommandHandler("help", self.help, filters=NEW))
        app.add_handler(CommandHandler("remind", self.remind, filters=NEW))
        app.add_handler(CommandHandler("reminders", self.list_reminders, filters=NEW))
        app.add_handler(CommandHandler("timezone", self.timezone, filters=NEW))
        # Every button press: ours, old ones, and data we do not know.
        app.add_handler(CallbackQueryHandler(self.press))
        # Edits of earlier messages are not read as answers.
        app.add_handler(MessageHandler(filters.UpdateType.EDITED, self.edited))
        # Anything else a user sends (text, stickers, photos, unknown commands).
        app.add_handler(MessageHandler(filters.UpdateType.MESSAGE, self.unexpected))
        # Last, after whichever handler took it: an update no step noted is noted as seen.
        app.add_handler(TypeHandler(Update, self.duplicates.handled), group=1)
        app.add_error_handler(self.on_error)

    async def set_commands(self, app: Application) -> None:  # type: ignore[type-arg]
        """The command menu, in every language the content has."""
        for locale in self.content.locales:
            c = self.content.texts(locale).commands
            commands = [
                BotCommand("routine", c.routine),
                BotCommand("start", c.start),
                BotCommand("stop", c.stop),
                BotCommand("pause", c.pause),
                BotCommand("resume", c.resume),
                BotCommand("back", c.back),
                BotCommand("settings", c.settings),
                BotCommand("progress", c.progress),
                BotCommand("export", c.export),
                BotCommand("privacy", c.privacy),
                BotCommand("forget", c.forget),
                BotCommand("cancel", c.cancel),
                BotCommand("remind", c.remind),
                BotCommand("reminders", c.reminders),
                BotCommand("timezone", c.timezone),
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
        message = update.message
        if update.callback_query:
            await update.callback_query.answer(texts.replies.group_chat[:190])
        elif message and _addressed_to(message, context.bot.id, context.bot.username):
            await message.reply_text(texts.replies.group_chat)
        raise ApplicationHandlerStop

    async def member_changed(self, update: Update, context: Context) -> None:
        change: ChatMemberUpdated | None = update.my_chat_member
        if change is None:
            return
        blocked = change.new_chat_member.status in (ChatMember.BANNED, ChatMember.LEFT)
        await self.chats.set_active(change.chat.id, not blocked, self.runner.clock.now())
        if not blocked:
            await self.runner.handle(self.reminders, change.chat.id, Resume())
        log.info("chat %s %s the bot", change.chat.id, "blocked" if blocked else "unblocked")

    # -- the user's steps ----------------------------------------------------------------------

    async def start(self, update: Update, context: Context) -> None:
        """/start: welcome and the disclaimer."""
        user = update.effective_user
        await self._event(update, Start(first_name=user.first_name if user else ""))

    async def begin_routine(self, update: Update, context: Context) -> None:
        """/routine: straight to the warm-up check once consent is on record."""
        await self._event(update, BeginRoutine())

    async def stop(self, update: Update, context: Context) -> None:
        """/stop: the same as the Stop button on every card and countdown."""
        await self._event(update, Press(Action.STOP))

    async def cancel(self, update: Update, context: Context) -> None:
        """/cancel: stop the routine and every timer of the chat."""
        await self._event(update, Cancel())

    async def pause(self, update: Update, context: Context) -> None:
        """/pause: the timer stops with the exact time left."""
        await self._event(update, PauseTimer())

    async def resume(self, update: Update, context: Context) -> None:
        """/resume: carry on where the pause left off."""
        await self._event(update, ResumeTimer())

    async def back(self, update: Update, context: Context) -> None:
        """/back: do the previous side again."""
        await self._event(update, Back())

    async def settings(self, update: Update, context: Context) -> None:
        """/settings: hold times, rest, get-ready count, countdown; one message edited in place."""
        await self._event(update, ShowSettings())

    # -- your data (bot.telegram.your_data) ------------------------------------------------------

    async def progress(self, update: Update, context: Context) -> None:
        """/progress: the chart, the streak and a one-line summary."""
        chat_id, settings = await self._arrived(update)
        texts = self.content.texts(settings.language or _locale(update))
        await self.data.progress(context.application, chat_id, settings, texts)

    async def export(self, update: Update, context: Context) -> None:
        """/export: the user's data as a CSV file."""
        chat_id, settings = await self._arrived(update)
        texts = self.content.texts(settings.language or _locale(update))
        await self.data.export(context.application, chat_id, settings, texts)

    async def privacy(self, update: Update, context: Context) -> None:
        """/privacy: what is kept, why, for how long, and how to delete it."""
        chat_id, settings = await self._arrived(update)
        texts = self.content.texts(settings.language or _locale(update))
        await context.bot.send_message(chat_id, self.data.privacy(texts))

    async def forget(self, update: Update, context: Context) -> None:
        """/forget: asks first; the button deletes everything."""
        chat_id, settings = await self._arrived(update)
        texts = self.content.texts(settings.language or _locale(update))
        await context.bot.send_message(
            chat_id,
            texts.privacy.forget_confirm,
            reply_markup=keyboard(self.data.forget_buttons(texts)),
        )

    async def _data_press(self, update: Update, action: Action, value: object) -> Shown:
        """A rest day declared, or /forget confirmed or not."""
        chat_id, settings = await self._arrived(update)
        texts = self.content.texts(settings.language or _locale(update))
        if action == Action.REST_DAY:
            return await self.data.rest_day(chat_id, settings, texts)
        if value is True:
            await self.data.forget(chat_id)
            await self.runner.outbox.send(chat_id, texts.privacy.forgotten, ())
        else:
            await self.runner.outbox.send(chat_id, texts.privacy.kept, ())
        return Shown()

    async def help(self, update: Update, context: Context) -> None:
        """/help: what the bot understands."""
        await self._event(update, Help())

    async def remind(self, update: Update, context: Context) -> None:
        """/remind: set a reminder by buttons, or at once from the text after the command."""
        await self._reminder_event(update, Remind(tuple(context.args or ())))

    async def list_reminders(self, update: Update, context: Context) -> None:
        """/reminders: the list, with a delete button for each."""
        await self._reminder_event(update, ListReminders())

    async def timezone(self, update: Update, context: Context) -> None:
        """/timezone: show or set the chat's time zone."""
        await self._reminder_event(update, AskTimezone(tuple(context.args or ())))

    async def press(self, update: Update, context: Context) -> None:
        """A button: ours becomes a Press; one we don't know is treated as out of date."""
        query = update.callback_query
        assert query is not None
        decoded = decode(query.data)
        message_id = query.message.message_id if query.message else None
        if decoded and decoded[0] in DATA_ACTIONS:
            shown = await self._data_press(update, decoded[0], decoded[1])
        elif decoded and decoded[0] in SETTINGS_SHORTCUTS:  # /settings into the reminders' flows
            shortcut = (
                AskTimezone(()) if decoded[0] == Action.SETTINGS_TIMEZONE else ListReminders()
            )
            shown = await self._reminder_event(update, shortcut)
        elif decoded and decoded[0] in REMINDER_ACTIONS:
            shown = await self._reminder_event(update, Press(*decoded, message_id=message_id))
        else:
            event: Event = Press(*decoded, message_id=message_id) if decoded else StalePress()
            shown = await self._event(update, event)
        try:
            await query.answer(shown.toast)
        except TelegramError as exc:  # too late ("query is too old") or Telegram busy: the step
            log.info("a button press could not be answered: %s", exc)  # itself is done
        if shown.keep_buttons:
            return
        if isinstance(query.message, Message) and query.message.reply_markup is not None:
            # The choice is made: take the buttons off, so an old one cannot be pressed again.
            # Through the outbox, which keeps to Telegram's limits like every other send.
            await self.outbox.remove_buttons(query.message.chat.id, query.message.message_id)

    async def edited(self, update: Update, context: Context) -> None:
        """An edited message is not an answer; say so."""
        await self._event(update, Edited())

    async def unexpected(self, update: Update, context: Context) -> None:
        """Anything else: a typed time or time zone the bot asked for, or what it expects now."""
        message = update.message
        if message and message.text:
            shown = await self._reminder_event(update, Typed(message.text))
            if shown.handled:
                return
        await self._event(update, Unexpected())

    async def _arrived(self, update: Update) -> tuple[int, ChatSettings]:
        """The chat of an update and its settings (one read); a user we had marked unreachable
        is back."""
        chat = update.effective_chat
        assert chat is not None
        settings = await self.chats.settings(chat.id)
        if not settings.active:
            await self.chats.set_active(chat.id, True, self.runner.clock.now())
            await self.runner.handle(self.reminders, chat.id, Resume())
        return chat.id, settings

    async def _event(self, update: Update, event: Event) -> Shown:
        """An event of the routine; a command or a button ends any wait for a typed answer."""
        chat_id, settings = await self._arrived(update)
        # A command or a button ends a wait for a typed time or zone, if there is one.
        if (
            isinstance(event, (Start, BeginRoutine, Cancel, Help, Press))
            and settings.draft.waiting_for is not None
        ):
            await self.runner.handle(self.reminders, chat_id, Interrupt())
        locale = settings.language or _locale(update)
        return await self.runner.handle(self.routine, chat_id, event, locale=locale)

    async def _reminder_event(self, update: Update, event: ReminderEvent) -> Shown:
        chat_id, settings = await self._arrived(update)
        locale = settings.language or _locale(update)
        return await self.runner.handle(self.reminders, chat_id, event, locale=locale)

    async def on_error(self, update: object, context: CallbackContext) -> None:  # type: ignore[type-arg]
        mark = CURRENT_UPDATE.get()
        if mark is not None and mark.current is not None and not mark.noted:
            mark.failed = True  # not noted as seen: Telegram's next copy runs it again
        if isinstance(context.error, Conflict):
            # Another process polls with the same token: two would take turns losing updates.
            # Or a webhook is set (`stretchbot serve`'s): getUpdates is refused until it goes.
            if "webhook" in context.error.message.lower():
                log.error("a webhook is set for this bot, so polling is refused; stopping")
                self.webhook_conflict = True
            else:
                log.error("another instance is polling with this token; stopping")
            self.conflict = True
            context.application.stop_running()
            return
        if update is None and isinstance(context.error, NetworkError):
            # getUpdates failed: python-telegram-bot tries again by itself, with a back-off.
            log.warning("polling for updates failed (%s); trying again", context.error)
            return
        result = outcome.current()
        result.failed = True
        if isinstance(context.error, StoreUnavailable):
            result.transient = True
            if result.redelivered:
                # Nothing of the step was stored; Telegram sends the update again (webhook).
                log.warning("update not handled, the database is unavailable: %s", context.error)
                return
        log.error("error while handling an update", exc_info=context.error)
        if isinstance(update, Update) and update.effective_chat is not None:
            texts = self.content.texts(_locale(update))
            try:
                if update.callback_query:
                    await update.callback_query.answer()
                await context.bot.send_message(update.effective_chat.id, texts.replies.error)
            except Exception:  # the error reply is best effort; the first error is logged
                log.warning("could not tell chat %s about an error", update.effective_chat.id)


def _addressed_to(message: Message, bot_id: int, username: str) -> bool:
    """In a group, only what is meant for the bot gets an answer: a command, a mention, a reply."""
    text = message.text or ""
    replied_to = message.reply_to_message
    return (
        text.startswith("/")
        or f"@{username}".lower() in text.lower()
        or (replied_to is not None and replied_to.from_user is not None
            and replied_to.from_user.id == bot_id)
    )  # fmt: skip


def _locale(update: Update) -> str | None:
    user = update.effective_user
    return user.language_code if user else None
