"""Tests of the emulated Telegram Bot API (bot/emulator.py), driven through a real PTB Bot."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dtm
import importlib.util
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeAllPrivateChats,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Update,
)
from telegram.error import (
    BadRequest,
    Conflict,
    EndPointNotFound,
    Forbidden,
    NetworkError,
    RetryAfter,
    TimedOut,
)
from telegram.ext import ApplicationBuilder, CommandHandler, ContextTypes

from bot.devtools.emulator import (
    SPEC_PATH,
    BotApiSpec,
    Event,
    FakeTelegram,
    Limits,
    parse_html,
)

TOKEN = "123456:TEST-token-for-emulator"
CHAT = 4242
API_JSON = Path(__file__).resolve().parents[1].parent / "shared" / "botapi" / "api.json"
MAKE_SPEC = Path(__file__).parent / "botapi" / "make_spec.py"


def keyboard(*rows: list[tuple[str, str]]) -> InlineKeyboardMarkup:
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(text, callback_data=data) for text, data in row] for row in rows]
    )


@pytest.fixture
def server() -> FakeTelegram:
    return FakeTelegram()


@pytest.fixture
async def bot(server: FakeTelegram) -> AsyncIterator[Bot]:
    b = Bot(token=TOKEN, request=server.request(), get_updates_request=server.request())
    await b.initialize()
    server.add_chat(CHAT)
    yield b
    await b.shutdown()


async def test_get_me_identifies_the_emulated_bot(bot: Bot) -> None:
    """Bot.initialize() gets the configured bot identity from getMe."""
    assert bot.username == "StretchCoachBot"
    assert bot.id == 7000001
    assert (await bot.get_me()).is_bot


async def test_send_edit_not_modified_and_delete(server: FakeTelegram, bot: Bot) -> None:
    """A sent message can be edited, an identical edit is 'not modified', and it can be deleted."""
    sent = await bot.send_message(CHAT, "Hello", reply_markup=keyboard([("Go", "go")]))
    assert sent.text == "Hello" and sent.from_user is not None and sent.from_user.is_bot
    edited = await bot.edit_message_text(
        "Hello again", CHAT, sent.message_id, reply_markup=keyboard([("Go", "go")])
    )
    assert not isinstance(edited, bool) and edited.edit_date is not None
    with pytest.raises(BadRequest, match="Message is not modified"):
        await bot.edit_message_text(
            "Hello again", CHAT, sent.message_id, reply_markup=keyboard([("Go", "go")])
        )
    msg = server.last(CHAT)
    assert (msg.text, msg.edits, msg.button_texts) == ("Hello again", ["Hello"], ["Go"])
    assert await bot.delete_message(CHAT, sent.message_id)
    assert server.messages(CHAT) == []
    assert server.messages(CHAT, include_deleted=True)[0].deleted
    with pytest.raises(BadRequest, match="Message to edit not found"):
        await bot.edit_message_text("Gone", CHAT, sent.message_id)
    with pytest.raises(BadRequest, match="Message to delete not found"):
        await bot.delete_message(CHAT, sent.message_id)
    assert server.protocol_errors == [
        "editMessageText: Bad Request: message to edit not found",
        "deleteMessage: Bad Request: message to delete not found",
    ]


async def test_edit_text_without_markup_drops_the_keyboard(server: FakeTelegram, bot: Bot) -> None:
    """Like Telegram, editMessageText without reply_markup removes the inline keyboard."""
    sent = await bot.send_message(CHAT, "Pick", reply_markup=keyboard([("A", "a")]))
    await bot.edit_message_text("Picked", CHAT, sent.message_id)
    assert server.last(CHAT).buttons == []
    await bot.edit_message_reply_markup(CHAT, sent.message_id, reply_markup=keyboard([("B", "b")]))
    assert server.last(CHAT).button_texts == ["B"]
    assert server.last(CHAT).edits == ["Pick"]


async def test_html_is_parsed_into_text_and_entities(server: FakeTelegram, bot: Bot) -> None:
    """HTML parse mode yields plain text plus entities; unsupported tags are a BadRequest."""
    sent = await bot.send_message(CHAT, "<b>Hold</b> 30&nbsp;s &lt;3 ", parse_mode="HTML")
    assert sent.text == "Hold 30&nbsp;s <3"
    assert [(e.type, e.offset, e.length) for e in sent.entities] == [("bold", 0, 4)]
    assert server.last(CHAT).raw_text == "<b>Hold</b> 30&nbsp;s &lt;3 "
    with pytest.raises(BadRequest, match=r'(?i)unsupported start tag "br"'):
        await bot.send_message(CHAT, "one<br>two", parse_mode="HTML")
    with pytest.raises(BadRequest, match=r"(?i)can't find end tag"):
        await bot.send_message(CHAT, "<i>open", parse_mode="HTML")
    assert parse_html('<pre><code class="language-py">x</code></pre>')[1] == [
        {"type": "pre", "offset": 0, "length": 1, "language": "py"}
    ]


async def test_callback_query_is_answered_once(server: FakeTelegram, bot: Bot) -> None:
    """A button press is an unanswered callback until answerCallbackQuery; a second answer fails."""
    sent = await bot.send_message(CHAT, "Ready?", reply_markup=keyboard([("Yes", "yes")]))
    update = server.user_presses(CHAT, sent.message_id, "yes")
    query_id = update["callback_query"]["id"]
    assert server.unanswered_callbacks == {query_id}
    assert update["callback_query"]["message"]["reply_markup"]["inline_keyboard"][0][0] == {
        "text": "Yes",
        "callback_data": "yes",
    }
    assert await bot.answer_callback_query(query_id, text="Noted")
    assert server.unanswered_callbacks == set()
    with pytest.raises(BadRequest, match="Query is too old"):
        await bot.answer_callback_query(query_id)
    assert server.protocol_errors and "answerCallbackQuery" in server.protocol_errors[0]
    with pytest.raises(ValueError, match="no button"):
        server.user_presses(CHAT, sent.message_id, "no")
    assert server.user_taps(CHAT, "Yes")["callback_query"]["data"] == "yes"


# PTB 22 warns that RetryAfter.retry_after will become a timedelta.
@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_injected_429_raises_retry_after(server: FakeTelegram, bot: Bot) -> None:
    """An injected 429 reaches PTB as RetryAfter with the given retry_after, once."""
    server.inject_error("sendMessage", status=429, retry_after=7)
    with pytest.raises(RetryAfter) as info:
        await bot.send_message(CHAT, "flood")
    assert info.value.retry_after in (7, dtm.timedelta(seconds=7))
    assert (await bot.send_message(CHAT, "fine")).text == "fine"
    assert server.protocol_errors == []


async def test_injected_timeout_raises_timed_out(server: FakeTelegram, bot: Bot) -> None:
    """inject_timeout makes the next call raise telegram.error.TimedOut."""
    server.inject_timeout("sendMessage")
    with pytest.raises(TimedOut):
        await bot.send_message(CHAT, "slow")
    assert server.texts(CHAT) == []


async def test_injected_refusal_never_reaches_the_server(server: FakeTelegram, bot: Bot) -> None:
    """inject_refused: PTB raises NetworkError, the call is not recorded, nothing is sent."""
    server.inject_refused("sendMessage")
    with pytest.raises(NetworkError, match="Connection refused"):
        await bot.send_message(CHAT, "knock")
    assert server.texts(CHAT) == []
    assert "sendMessage" not in [name for name, _ in server.calls]
    assert server.faults_hit == [("sendMessage", "refused")]
    assert (await bot.send_message(CHAT, "again")).text == "again"


async def test_a_hanging_call_ends_only_when_the_caller_gives_up(
    server: FakeTelegram, bot: Bot
) -> None:
    """inject_hang: no answer comes; the caller's own deadline ends the wait."""
    server.inject_hang("sendMessage")
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(bot.send_message(CHAT, "hello?"), timeout=0.1)
    assert server.faults_hit == [("sendMessage", "hang")]
    assert (await bot.send_message(CHAT, "again")).text == "again"


async def test_cleared_faults_are_not_used(server: FakeTelegram, bot: Bot) -> None:
    """clear_faults drops what was injected and not yet used; faults_hit lists what was."""
    server.inject_error("sendMessage", status=502, times=2)
    server.inject_timeout("*", answer_lost=True)
    with pytest.raises(NetworkError, match="Bad Gateway"):
        await bot.send_message(CHAT, "one")
    server.clear_faults()
    assert (await bot.send_message(CHAT, "two")).text == "two"
    assert server.faults_hit == [("sendMessage", "error 502")]


async def test_blocked_user_gives_forbidden(server: FakeTelegram, bot: Bot) -> None:
    """While the user blocks the bot, sends answer 403 Forbidden; unblocking restores them."""
    sent = await bot.send_message(CHAT, "Hi")
    blocked = Update.de_json(server.user_blocks(CHAT), bot)
    assert blocked.my_chat_member is not None
    assert blocked.my_chat_member.new_chat_member.status == "kicked"
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_message(CHAT, "Hello?")
    with pytest.raises(Forbidden):
        await bot.edit_message_text("Edited", CHAT, sent.message_id)
    server.user_unblocks(CHAT)
    assert (await bot.send_message(CHAT, "Welcome back")).text == "Welcome back"
    assert server.protocol_errors == []


async def test_get_updates_offset_and_limit(server: FakeTelegram, bot: Bot) -> None:
    """getUpdates returns unconfirmed updates; an offset confirms lower ids; limit caps them."""
    ids = [server.user_sends(CHAT, f"m{i}")["update_id"] for i in range(3)]
    assert [u.update_id for u in await bot.get_updates()] == ids
    assert [u.update_id for u in await bot.get_updates(limit=2)] == ids[:2]
    assert [u.update_id for u in await bot.get_updates(offset=ids[1])] == ids[1:]
    assert [u.update_id for u in await bot.get_updates()] == ids[1:]
    assert [u.update_id for u in await bot.get_updates(offset=-1)] == ids[2:]
    assert await bot.get_updates(offset=ids[2] + 1) == ()
    assert server.pending_updates() == []


async def test_long_poll_wakes_up_on_new_update(server: FakeTelegram, bot: Bot) -> None:
    """A getUpdates(timeout=5) waiting on an empty queue returns promptly once the user writes."""
    started = time.monotonic()
    poll = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.02)
    assert not poll.done()
    server.user_sends(CHAT, "hello")
    updates = await asyncio.wait_for(poll, 1)
    assert [u.message.text for u in updates if u.message] == ["hello"]
    assert time.monotonic() - started < 0.5


async def test_second_poller_terminates_the_first(server: FakeTelegram, bot: Bot) -> None:
    """Two concurrent getUpdates: the older one ends with 409 Conflict, like Telegram."""
    first = asyncio.create_task(bot.get_updates(timeout=5))
    await asyncio.sleep(0.01)
    assert await bot.get_updates(timeout=0) == ()
    with pytest.raises(Conflict, match="terminated by other getUpdates"):
        await asyncio.wait_for(first, 1)


async def test_get_updates_conflicts_with_webhook(bot: Bot) -> None:
    """getUpdates while a webhook is set is a 409 Conflict until deleteWebhook."""
    assert await bot.set_webhook("https://example.com/hook")
    assert (await bot.get_webhook_info()).url == "https://example.com/hook"
    with pytest.raises(Conflict, match="webhook is active"):
        await bot.get_updates()
    assert await bot.delete_webhook()
    assert await bot.get_updates() == ()


async def test_limits_are_enforced(server: FakeTelegram, bot: Bot) -> None:
    """callback_data over 64 bytes and text over 4096 chars are BadRequests and protocol errors."""
    with pytest.raises(BadRequest, match="Button_data_invalid"):
        await bot.send_message(CHAT, "x", reply_markup=keyboard([("Big", "d" * 65)]))
    await bot.send_message(CHAT, "x", reply_markup=keyboard([("Fits", "é" * 32)]))
    with pytest.raises(BadRequest, match="Message is too long"):
        await bot.send_message(CHAT, "y" * 4097)
    await bot.send_message(CHAT, "y" * 4096)
    with pytest.raises(BadRequest, match="Message text is empty"):
        await bot.send_message(CHAT, "   ")
    assert server.protocol_errors == [
        "sendMessage: Bad Request: BUTTON_DATA_INVALID",
        "sendMessage: Bad Request: message is too long",
        "sendMessage: Bad Request: message text is empty",
    ]


@dataclasses.dataclass
class _Call:
    """Stands in for PTB's RequestData, to read the emulator's raw answer."""

    parameters: dict[str, Any]
    contains_files: bool = False


async def call_raw(server: FakeTelegram, method: str, **params: Any) -> tuple[int, Any]:
    status, body = await server.handle(f"/bot{TOKEN}/{method}", "POST", _Call(params))  # type: ignore[arg-type]
    return status, json.loads(body)


class Ticks:
    """A clock for the limits that moves only when told to."""

    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")
async def test_flood_limits_answer_429_past_a_chat_burst_and_refuse_until_retry_after(
    server: FakeTelegram, bot: Bot
) -> None:
    """With Limits: 3 messages at once in a chat pass, the 4th gets Telegram's exact 429; a call
    inside the wait is refused again; after it, one a second passes. Edits count."""
    clock = Ticks()
    server.limits = Limits(clock=clock)
    sent = [await bot.send_message(CHAT, f"m{i}") for i in range(2)]
    await bot.edit_message_text("m0 edited", CHAT, sent[0].message_id)  # the third message
    status, body = await call_raw(server, "sendMessage", chat_id=CHAT, text="m2")
    assert (status, body) == (
        429,
        {
            "ok": False,
            "error_code": 429,
            "description": "Too Many Requests: retry after 1",
            "parameters": {"retry_after": 1},
        },
    )
    clock.now = 0.5
    with pytest.raises(RetryAfter) as info:
        await bot.send_message(CHAT, "m2")
    assert info.value.retry_after in (1, dtm.timedelta(seconds=1))
    assert [(t.scope, t.retry_after, t.early) for t in server.throttled] == [
        ("chat", 1, False),
        ("chat", 1, True),
    ]
    assert server.texts(CHAT) == ["m0 edited", "m1"]
    clock.now = 1.0
    await bot.send_message(CHAT, "m2")
    with pytest.raises(RetryAfter):
        await bot.send_message(CHAT, "m3")
    clock.now = 2.0
    await bot.send_message(CHAT, "m3")
    assert server.texts(CHAT) == ["m0 edited", "m1", "m2", "m3"]
    assert server.protocol_errors == []


async def test_flood_limits_count_messages_only_and_30_a_second_for_the_bot(
    server: FakeTelegram, bot: Bot
) -> None:
    """30 messages to 30 chats pass at once, the 31st is refused for the whole bot; callback
    answers, chat actions, commands and getUpdates are not counted."""
    clock = Ticks()
    server.limits = Limits(clock=clock)
    for chat in range(1, 31):
        server.add_chat(chat)
        await bot.send_message(chat, "hello")
    sent = server.last(1)
    query = server.user_presses(1, sent.message_id, "x", check_buttons=False)
    assert await bot.answer_callback_query(query["callback_query"]["id"])
    assert await bot.send_chat_action(CHAT, "typing")
    assert await bot.set_my_commands([BotCommand("help", "Help")])
    await bot.get_updates()
    status, body = await call_raw(server, "sendMessage", chat_id=CHAT, text="one too many")
    assert (status, body["parameters"]) == (429, {"retry_after": 1})
    assert [(t.scope, t.chat_id) for t in server.throttled] == [("bot", CHAT)]
    clock.now = 1.0
    await bot.send_message(CHAT, "now")
    assert server.texts(CHAT) == ["now"]


async def test_flood_limits_scale_groups_and_off_by_default(server: FakeTelegram, bot: Bot) -> None:
    """Off by default; scale 10 refills a chat ten times as fast; a group allows 20 a minute."""
    for i in range(50):
        await bot.send_message(CHAT, f"free {i}")
    assert server.throttled == []
    clock = Ticks()
    server.limits = Limits(clock=clock, scale=10)
    for i in range(3):
        await bot.send_message(CHAT, f"burst {i}")
    assert (await call_raw(server, "sendMessage", chat_id=CHAT, text="x"))[0] == 429
    clock.now = 1.0  # the wait is a whole second (Telegram's retry_after is an integer)
    for i in range(3):
        clock.now += 0.1
        await bot.send_message(CHAT, f"one every 0.1 s {i}")
    server.limits = Limits(clock=clock, per_chat=100, chat_burst=100)  # the group's own limit
    group = -100_123
    server.add_chat(group, chat_type="group")
    for i in range(20):
        await bot.send_message(group, f"group {i}")
    status, body = await call_raw(server, "sendMessage", chat_id=group, text="21st")
    assert (status, body["parameters"]) == (429, {"retry_after": 3})  # one more every 3 s
    assert server.throttled[-1].scope == "group"


async def test_an_injected_429_is_kept_with_limits_on(server: FakeTelegram, bot: Bot) -> None:
    """With limits in force, an injected 429 refuses that chat until its retry_after is over."""
    clock = Ticks()
    server.limits = Limits(clock=clock)
    server.inject_error("sendMessage", status=429, retry_after=5)
    assert (await call_raw(server, "sendMessage", chat_id=CHAT, text="a"))[0] == 429
    clock.now = 4.5
    status, body = await call_raw(server, "sendMessage", chat_id=CHAT, text="a")
    assert (status, body["parameters"]) == (429, {"retry_after": 1})
    assert [(t.scope, t.retry_after, t.early) for t in server.throttled] == [
        ("injected", 5, False),
        ("chat", 1, True),
    ]
    clock.now = 5.0
    assert (await call_raw(server, "sendMessage", chat_id=CHAT, text="a"))[0] == 200


async def test_unknown_parameter_is_a_protocol_error(server: FakeTelegram, bot: Bot) -> None:
    """A parameter the method does not have is rejected and recorded (Telegram would ignore it)."""
    with pytest.raises(BadRequest, match="unknown parameter 'colour'"):
        await bot.send_message(CHAT, "hi", api_kwargs={"colour": "red"})
    assert server.protocol_errors == [
        "sendMessage: Bad Request: invalid request: unknown parameter 'colour'"
    ]
    lenient = FakeTelegram(strict=False)
    lenient.add_chat(CHAT)
    b = Bot(token=TOKEN, request=lenient.request(), get_updates_request=lenient.request())
    await b.initialize()
    assert (await b.send_message(CHAT, "hi", api_kwargs={"colour": "red"})).text == "hi"
    assert lenient.protocol_errors == ["sendMessage: unknown parameter 'colour'"]
    await b.shutdown()


@pytest.mark.filterwarnings("ignore:Please use 'Bot.sendMessage'")
async def test_missing_parameter_unknown_and_unsupported_methods(
    server: FakeTelegram, bot: Bot
) -> None:
    """Missing required params are 400, methods outside the spec 404, unemulated ones 400."""
    with pytest.raises(BadRequest, match="Message text is empty"):
        await bot.do_api_request("sendMessage", api_kwargs={"chat_id": CHAT})
    with pytest.raises(EndPointNotFound):
        await bot.do_api_request("sendTeleportation", api_kwargs={"chat_id": CHAT})
    with pytest.raises(BadRequest, match="not supported by the emulator"):
        await bot.send_dice(CHAT)
    with pytest.raises(BadRequest, match="Chat not found"):
        await bot.send_message(999, "stranger")
    assert [e.split(":")[0] for e in server.protocol_errors] == [
        "sendMessage",
        "sendTeleportation",
        "sendDice",
        "sendMessage",
    ]
    assert all(TOKEN not in e for e in server.protocol_errors)
    assert "/bot<token>/" in server.protocol_errors[1]


async def test_returned_objects_carry_spec_required_fields(server: FakeTelegram, bot: Bot) -> None:
    """Every result and update of a typical session satisfies the spec's required fields."""
    spec = BotApiSpec.load()
    sent = await bot.send_message(
        CHAT, "<i>Hi</i>", parse_mode="HTML", reply_markup=keyboard([("A", "a")])
    )
    await bot.edit_message_text("Hi!", CHAT, sent.message_id, reply_markup=keyboard([("B", "b")]))
    await bot.send_photo(CHAT, "https://example.com/p.jpg", caption="Pose")
    await bot.send_message(CHAT, "reply", reply_to_message_id=sent.message_id)
    await bot.send_chat_action(CHAT, "typing")
    await bot.set_my_commands([BotCommand("start", "Start")])
    await bot.get_my_commands()
    await bot.get_chat(CHAT)
    await bot.get_webhook_info()
    updates = [
        server.user_sends(CHAT, "/start"),
        server.user_presses(CHAT, sent.message_id, "b"),
        server.user_blocks(CHAT),
        server.user_unblocks(CHAT),
    ]
    updates.append(server.user_edits(CHAT, updates[0]["message"]["message_id"], "/help"))
    await bot.get_updates()
    assert server.spec_violations == []
    assert server.protocol_errors == []
    for update in updates:
        assert spec.check_object(update, "Update") == []
    message = updates[1]["callback_query"]["message"]
    required = [n for n, f in spec.types["Message"]["fields"].items() if f["required"]]
    assert set(required) <= set(message)
    assert spec.check_object({"message_id": 1}, "Message") == [
        "Message: Message lacks required field 'date'",
        "Message: Message lacks required field 'chat'",
    ]


async def test_user_updates_parse_with_ptb(server: FakeTelegram, bot: Bot) -> None:
    """Update.de_json accepts every kind of update the user side produces."""
    sent = await bot.send_message(CHAT, "Go?", reply_markup=keyboard([("Go", "go")]))
    message = Update.de_json(server.user_sends(CHAT, "/start@StretchCoachBot now"), bot)
    assert message.message is not None and message.message.text == "/start@StretchCoachBot now"
    assert message.message.parse_entities() and message.effective_user is not None
    edited = Update.de_json(server.user_edits(CHAT, message.message.message_id, "hi"), bot)
    assert edited.edited_message is not None and edited.edited_message.text == "hi"
    pressed = Update.de_json(server.user_presses(CHAT, sent.message_id, "go"), bot)
    assert pressed.callback_query is not None and pressed.callback_query.data == "go"
    assert pressed.callback_query.message is not None
    blocked = Update.de_json(server.user_blocks(CHAT), bot)
    unblocked = Update.de_json(server.user_unblocks(CHAT), bot)
    assert blocked.my_chat_member is not None and unblocked.my_chat_member is not None
    assert unblocked.my_chat_member.new_chat_member.status == "member"
    group = Update.de_json(
        server.user_sends(-1001, "/start@StretchCoachBot", user_id=77, chat_type="supergroup"),
        bot,
    )
    assert group.effective_chat is not None and group.effective_chat.type == "supergroup"
    assert group.effective_user is not None and group.effective_user.id == 77


async def test_photos_commands_and_chat(server: FakeTelegram, bot: Bot) -> None:
    """sendPhoto stores the caption and file id; commands are kept per scope and language."""
    uploaded = await bot.send_photo(CHAT, b"\x89PNG fake", caption="Knee to chest")
    assert server.last(CHAT).photo_bytes == b"\x89PNG fake"
    assert server.last(CHAT).text == "Knee to chest"
    again = await bot.send_photo(CHAT, uploaded.photo[-1].file_id)
    assert again.photo[-1].file_id == uploaded.photo[-1].file_id
    with pytest.raises(BadRequest, match="Wrong file identifier"):
        await bot.send_photo(CHAT, "not-a-file-id")
    await bot.set_my_commands([BotCommand("start", "Start")])
    await bot.set_my_commands(
        [BotCommand("start", "Начать")],
        scope=BotCommandScopeAllPrivateChats(),
        language_code="ru",
    )
    assert server.commands == [{"command": "start", "description": "Start"}]
    ru = await bot.get_my_commands(scope=BotCommandScopeAllPrivateChats(), language_code="ru")
    assert [c.description for c in ru] == ["Начать"]
    with pytest.raises(BadRequest, match="Bot_command_invalid"):
        await bot.set_my_commands([BotCommand("Start", "Start")])
    assert await bot.delete_my_commands()
    assert server.commands == []
    assert (await bot.get_chat(CHAT)).first_name == "Alex"
    with pytest.raises(BadRequest):
        await bot.leave_chat(CHAT)


async def test_injected_clock_dates_and_delete_window() -> None:
    """Message dates come from the injected clock; messages older than 48 h cannot be deleted."""
    clock = [1_700_000_000.0]
    server = FakeTelegram(now=lambda: clock[0])
    server.add_chat(CHAT)
    b = Bot(token=TOKEN, request=server.request(), get_updates_request=server.request())
    await b.initialize()
    sent = await b.send_message(CHAT, "old")
    assert sent.date.timestamp() == 1_700_000_000
    clock[0] += 49 * 3600
    with pytest.raises(BadRequest, match="can't be deleted for everyone"):
        await b.delete_message(CHAT, sent.message_id)
    await b.shutdown()


async def test_listeners_see_sends_edits_deletes_and_toasts(server: FakeTelegram, bot: Bot) -> None:
    """add_listener receives an Event for each send, edit, deletion and callback answer, until
    remove_listener."""
    events: list[Event] = []
    server.add_listener(events.append)
    sent = await bot.send_message(CHAT, "one", reply_markup=keyboard([("Go", "go")]))
    await bot.edit_message_text("two", CHAT, sent.message_id)
    query = server.user_presses
    await bot.send_message(CHAT, "three", reply_markup=keyboard([("Go", "go")]))
    update = query(CHAT, server.last(CHAT).message_id, "go")
    await bot.answer_callback_query(update["callback_query"]["id"], text="Saved", show_alert=True)
    await bot.delete_message(CHAT, sent.message_id)
    assert [(e.kind, e.message.text if e.message else None, e.text) for e in events] == [
        ("sent", "one", None),
        ("edited", "two", None),
        ("sent", "three", None),
        ("callback_answer", "three", "Saved"),
        ("deleted", "two", None),
    ]
    assert events[3].show_alert
    server.remove_listener(events.append)
    await bot.send_message(CHAT, "unheard")
    assert len(events) == 5


def test_bundled_spec_matches_api_json() -> None:
    """The bundled spec is exactly what make_spec.py generates from the shared api.json."""
    if not API_JSON.exists():
        pytest.skip(f"{API_JSON} (telegram-bot-api-spec) is not available on this machine")
    module_spec = importlib.util.spec_from_file_location("make_spec", MAKE_SPEC)
    assert module_spec is not None and module_spec.loader is not None
    make_spec: Any = importlib.util.module_from_spec(module_spec)
    module_spec.loader.exec_module(make_spec)
    expected = make_spec.compact(json.loads(API_JSON.read_text(encoding="utf-8")))
    assert json.loads(SPEC_PATH.read_text(encoding="utf-8")) == expected
    assert SPEC_PATH.read_text(encoding="utf-8") == make_spec.dumps(expected)
    assert SPEC_PATH.with_suffix(".LICENSE").exists()


async def test_application_polls_and_replies(server: FakeTelegram) -> None:
    """A real PTB Application polls the emulator, answers /start and stops in well under 2 s."""

    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        await update.effective_message.reply_text("Echo: " + (update.effective_message.text or ""))

    started = time.monotonic()
    app = (
        ApplicationBuilder()
        .token(TOKEN)
        .request(server.request())
        .get_updates_request(server.request())
        .build()
    )
    app.add_handler(CommandHandler("start", start))
    async with app:
        await app.start()
        assert app.updater is not None
        await app.updater.start_polling(poll_interval=0.0, timeout=dtm.timedelta(seconds=10))
        server.user_sends(CHAT, "/start")
        await server.wait_until(lambda: bool(server.messages(CHAT)), within=1.5)
        await app.updater.stop()
        await app.stop()
    assert server.texts(CHAT) == ["Echo: /start"]
    assert server.pending_updates() == []
    assert server.protocol_errors == [] and server.spec_violations == []
    assert time.monotonic() - started < 2
