"""The whole bot through the emulated Bot API: what a user sees in the chat."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.core.content import Content
from tests.support.harness import CHAT, Harness


def released(h: Harness) -> int:
    """How many holds were released: the release opens the rest's message, or stands alone."""
    return sum(t.startswith("Time's up. Release slowly.") for t in h.texts())


def stored(h: Harness, column: str) -> object:
    rows = h.sql(f"SELECT {column} FROM chats WHERE chat_id = ?", (CHAT,))
    return rows[0][0] if rows else None


@pytest.fixture
def harness(harness_on_both: Harness) -> Harness:
    """Every test here runs on SQLite and on PostgreSQL."""
    return harness_on_both


async def test_the_full_routine_from_start_to_summary(harness: Harness) -> None:
    """/start to the summary: disclaimer, warm-up, four mirrored stretches held on timers."""
    h = harness
    await h.send("/start", first_name="Sam")
    assert h.texts()[0].startswith("Hi Sam! I'm Stretch Coach.")
    assert h.last().button_texts == ["I understand, continue", "No thanks"]
    await h.tap("I understand, continue")
    assert stored(h, "consent_version") == h.content.disclaimer_version()
    assert h.last().button_texts == ["Yes", "No"]  # the first warning-sign question
    await h.pass_safety_check()
    assert h.last().button_texts == ["I'm warm", "Not yet, guide me"]
    await h.tap("I'm warm")
    cards = []
    for _ in range(4):
        card = h.last()
        cards.append(card.text)
        assert card.button_texts == ["Start hold", "⏹ Stop"]
        await h.tap("Start hold")
        assert card.buttons == []  # the pressed button is taken off its message
        countdown = h.last()
        assert countdown.text.startswith("⏱ 30 s left")
        controls = ["⏸ Pause", "+15 s", "⏭ Skip this side", "⏹ Stop"]
        assert countdown.button_texts == controls
        await h.advance(12)
        assert countdown.button_texts == controls  # kept through every edit
        await h.advance(18)
        assert countdown.text.startswith("⏱ 0 s left")
        assert countdown.buttons == []
        assert countdown.edits[1:4] == [
            countdown.edits[1],
            countdown.edits[1].replace("25", "20"),
            countdown.edits[1].replace("25", "15"),
        ]
        await h.advance(15)  # the rest between sides; the last hold has none
    assert [c.split("\n")[1] for c in cards] == [
        "Right knee bent",
        "Left knee bent",
        "Lying on your right side",
        "Lying on your left side",
    ]
    assert "right knee bent, right foot flat on the floor" in cards[0]
    assert "left knee bent, left foot flat on the floor" in cards[1]
    assert h.texts()[-2] == (
        "Well done, that's the routine: 4 stretches.\n\n"
        "• Exercise 1: seated twist: both sides, 30 s each\n"
        "• Exercise 2: side-lying stretch: both sides, 30 s each\n\n"
        "To do it again, type /routine at any time."
    )
    assert h.texts()[-1].startswith("Shall I remind you every day")  # no reminder yet
    assert stored(h, "routine") is None and stored(h, "wake_at") is None
    # welcome, disclaimer, the check's intro and 6 questions, warm-up check; per side: card,
    # countdown, 2 cues, release (with the rest after it); summary and the reminder offer.
    assert len(h.messages()) == 2 + 7 + 1 + 4 * 5 + 2
    assert [c["command"] for c in h.server.commands] == [
        "routine", "start", "stop", "pause", "resume", "back", "settings", "progress", "export",
        "privacy", "forget", "cancel", "remind", "reminders", "timezone", "help",
    ]  # fmt: skip


async def test_guided_warm_up_runs_its_timer_and_asks_again(harness: Harness) -> None:
    """ "Not yet, guide me" gives the steps, and after 3 minutes asks again."""
    h = harness
    await h.send("/start")
    await h.tap("I understand, continue")
    await h.pass_safety_check()
    await h.tap("Not yet, guide me")
    guide = h.content.texts("en").warm_up.guide.text.format(minutes=3, seconds=180)
    assert h.last().text == guide
    await h.advance(179)
    assert h.last().text == guide
    await h.advance(1)
    assert h.last().text == h.content.texts("en").warm_up.guide_done
    assert h.last().button_texts == ["I'm warm", "Not yet, guide me"]


async def test_decline_says_goodbye_and_keeps_the_routine_closed(harness: Harness) -> None:
    """Declining gets a kind goodbye; /routine then asks for consent again."""
    h = harness
    await h.send("/start")
    await h.tap("No thanks")
    assert "If you change your mind, type /start" in h.last().text
    assert stored(h, "consent_version") is None and stored(h, "declined_at") is not None
    await h.send("/routine")
    assert h.texts()[-2] == h.content.texts("en").replies.consent_needed
    assert h.last().button_texts == ["I understand, continue", "No thanks"]


async def test_routine_command_skips_the_disclaimer_once_accepted(harness: Harness) -> None:
    """With consent and the check on record, /routine asks "anything new?", then the warm-up."""
    h = harness
    await h.send("/start")
    await h.tap("I understand, continue")
    await h.pass_safety_check()
    await h.send("/cancel")
    count = len(h.messages())
    await h.send("/routine")
    assert len(h.messages()) == count + 1
    assert h.last().button_texts == ["Yes, something is new", "No, nothing new"]
    await h.tap("No, nothing new")
    assert h.last().text.startswith("First, warm up")


async def test_cancel_mid_hold_stops_every_timer(harness: Harness) -> None:
    """/cancel during a hold says so, and no cue or countdown edit arrives afterwards."""
    h = harness
    await h.to_first_card()
    await h.tap("Start hold")
    countdown = h.last()
    await h.advance(7)
    await h.send("/cancel")
    assert h.last().text == h.content.texts("en").replies.cancelled
    assert countdown.text == "⏹ Stopped · Right knee bent"
    count, edits = len(h.messages()), len(countdown.edits)
    await h.advance(120)
    assert len(h.messages()) == count and len(countdown.edits) == edits
    assert stored(h, "wake_at") is None


async def test_free_text_mid_hold_offers_to_stop(harness: Harness) -> None:
    """Text during a hold gets an offer to stop with the Stop button, never "keep holding"."""
    h = harness
    await h.to_first_card()
    await h.tap("Start hold")
    await h.advance(12)
    await h.send("my leg is going numb and it hurts")
    assert h.last().text == h.content.texts("en").safety.stop.offer.text
    assert h.last().button_texts == ["⏹ Stop"]
    await h.advance(18)
    assert released(h) == 1


async def test_free_text_where_a_button_is_expected_offers_the_buttons(harness: Harness) -> None:
    """Typing instead of pressing shows the choices again."""
    h = harness
    await h.send("/start")
    await h.send("yes")
    assert h.last().button_texts == ["I understand, continue", "No thanks"]
    await h.tap("I understand, continue")
    await h.send("no")
    assert h.last().button_texts == ["Yes", "No"]
    await h.pass_safety_check()
    await h.send("🔥")
    assert h.last().button_texts == ["I'm warm", "Not yet, guide me"]


async def test_a_button_from_an_old_message_is_answered_not_obeyed(harness: Harness) -> None:
    """An old warm-up button mid-routine gets a notice and the current step, nothing more."""
    h = harness
    await h.send("/start")
    await h.tap("I understand, continue")
    await h.pass_safety_check()
    old = h.last()
    await h.tap("I'm warm")
    data = "sc1:guide"
    await h.process(h.server.user_presses(CHAT, old.message_id, data, check_buttons=False))
    assert h.server.callback_answers[-1]["text"] == h.content.texts("en").replies.stale_button
    assert h.last().button_texts == ["Start hold", "⏹ Stop"]
    await h.process(
        h.server.user_presses(CHAT, old.message_id, "something:else", check_buttons=False)
    )
    assert h.server.callback_answers[-1]["text"] == h.content.texts("en").replies.stale_button


async def test_commands_mid_hold_do_not_lose_the_hold(harness: Harness) -> None:
    """/help, /start and /routine during a hold answer and leave the timer running."""
    h = harness
    await h.to_first_card()
    await h.tap("Start hold")
    await h.send("/help")
    assert "/routine - start the routine" in h.last().text
    await h.send("/start")
    assert h.texts()[-2] == h.content.texts("en").replies.routine_running
    await h.send("/routine")
    assert h.last().text == h.content.texts("en").safety.stop.offer.text
    await h.advance(30)
    assert released(h) == 1


async def test_an_edited_message_gets_a_reply(harness: Harness) -> None:
    """Editing an earlier message is answered, not taken as a new answer."""
    h = harness
    update = h.server.user_sends(CHAT, "hello")
    await h.process(update)
    await h.process(h.server.user_edits(CHAT, update["message"]["message_id"], "hello!"))
    assert h.last().text == "I only read new messages, not edits. Please send it again."


async def test_a_group_chat_is_pointed_to_a_private_chat(harness: Harness) -> None:
    """In a group, /start says the bot works in private chats and starts nothing."""
    h = harness
    await h.send("/start", chat_id=-100123, chat_type="group", user_id=77)
    assert h.server.texts(-100123) == [
        "I coach one person at a time, so I only work in a private chat. Open a chat with me "
        "and type /start."
    ]
    await h.send("hello all", chat_id=-100123, chat_type="group", user_id=77)
    assert len(h.server.texts(-100123)) == 1
    await h.send("@StretchCoachBot can you help?", chat_id=-100123, chat_type="group", user_id=77)
    assert len(h.server.texts(-100123)) == 2


async def test_a_restart_mid_hold_continues_with_the_time_that_remains(harness: Harness) -> None:
    """Stop the bot 10 s into a hold and start it again: the same countdown goes on."""
    h = harness
    await h.to_first_card()
    await h.tap("Start hold")
    countdown = h.last()
    await h.advance(10)
    await h.stop()
    await h.start()
    await h.advance(5)
    assert countdown.text.startswith("⏱ 15 s left")
    assert h.last().text == h.content.texts("en").hold.cues["halfway"]
    await h.advance(15)
    assert countdown.text.startswith("⏱ 0 s left")
    assert released(h) == 1


async def test_a_hold_that_ended_while_the_bot_was_down_is_reported(harness: Harness) -> None:
    """The bot down across a hold's end says the hold is over and carries on."""
    h = harness
    await h.to_first_card()
    await h.tap("Start hold")
    await h.advance(10)
    await h.stop()
    h.jump(300)
    await h.start()
    await h.advance(0)
    assert any(
        "your hold (Exercise 1: seated twist, Right knee bent) is over" in t for t in h.texts()
    )
    assert h.content.texts("en").hold.cues["halfway"] not in h.texts()
    await h.advance(15)
    assert h.last().text.split("\n")[1] == "Left knee bent"


async def test_consent_survives_a_restart(harness: Harness) -> None:
    """After a restart, /routine does not ask for consent again."""
    h = harness
    await h.send("/start")
    await h.tap("I understand, continue")
    await h.pass_safety_check()
    await h.stop()
    await h.start()
    await h.send("/cancel")
    await h.send("/routine")
    await h.tap("No, nothing new")
    assert h.last().text.startswith("First, warm up")


async def test_a_blocked_user_stops_the_routine_without_retries(harness: Harness) -> None:
    """When the user blocks the bot mid-hold, the timers stop and the chat is marked inactive."""
    h = harness
    await h.to_first_card()
    await h.tap("Start hold")
    await h.process(h.server.user_blocks(CHAT))
    assert stored(h, "active") == 0
    await h.advance(60)
    assert stored(h, "wake_at") is None
    await h.send("/start")
    assert stored(h, "active") == 1


async def test_timers_run_by_themselves_on_the_real_clock(tmp_path: Path, content: Content) -> None:
    """With the real timer loop at speed 1000, holds and rests move on without the test's help."""
    h = Harness(tmp_path, content, speed=1000, real_time=True)
    await h.start()
    try:
        await h.to_first_card()
        for side in range(4):
            await h.server.wait_until(lambda: h.last().button_texts == ["Start hold", "⏹ Stop"])
            await h.tap("Start hold")
            done = "remind you every day" if side == 3 else "Rest for 15 seconds"
            await h.server.wait_until(lambda d=done: d in h.last().text)  # type: ignore[misc]
        assert released(h) == 4
    finally:
        await h.stop()


async def test_a_429_from_telegram_is_waited_out_and_retried(
    tmp_path: Path, content: Content
) -> None:
    """Telegram's "retry after" on a send delays the message; it still arrives once."""
    h = Harness(tmp_path, content, rate_limit=True)
    await h.start()
    try:
        h.server.inject_error(
            "sendMessage", status=429, description="Too Many Requests: retry after 1", retry_after=1
        )
        await h.send("/help")
        assert [t for t in h.texts() if t.startswith("Stretch Coach walks you")] != []
        assert len(h.texts()) == 1
    finally:
        await h.stop()


async def test_an_edited_command_is_not_obeyed(harness: Harness) -> None:
    """Editing an old message into /cancel mid-hold only gets the "edits are not read" reply."""
    h = harness
    update = h.server.user_sends(CHAT, "hello")
    await h.process(update)
    await h.to_first_card()
    await h.tap("Start hold")
    await h.process(h.server.user_edits(CHAT, update["message"]["message_id"], "/cancel"))
    assert h.last().text == "I only read new messages, not edits. Please send it again."
    await h.advance(30)
    assert released(h) == 1
