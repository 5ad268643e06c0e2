"""The coach's controls, as a user sees them in the chat: the get-ready count, pause and resume,
+15 s, skipping a side, /back, and a pause that outlives a day. With the shipped content (a
10 s get-ready count)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.core.content import Content
from bot.devtools.records import SentMessage
from tests.support.harness import CHAT, Harness

CONTROLS = ["⏸ Pause", "+15 s", "⏭ Skip this side", "⏹ Stop"]


@pytest.fixture
async def coach(tmp_path: Path, shipped_content: Content) -> AsyncIterator[Harness]:
    h = Harness(tmp_path, shipped_content)
    await h.start()
    yield h
    await h.stop()
    assert h.server.spec_violations == [] and h.server.protocol_errors == []
    assert h.server.unanswered_callbacks == set()


async def hold_started(h: Harness) -> SentMessage:
    """Start hold on the card shown, let the get-ready count run out: the countdown."""
    await h.tap("Start hold")
    await h.advance(10)
    countdown = h.last()
    assert countdown.text.startswith("⏱ 30 s left")
    return countdown


def released(h: Harness) -> list[str]:
    return [t for t in h.texts() if t.startswith("Time's up. Release slowly.")]


async def test_start_hold_gives_time_to_get_into_position_then_the_hold_starts_itself(
    coach: Harness,
) -> None:
    h = coach
    await h.to_first_card()
    await h.tap("Start hold")
    ready = h.last()
    assert ready.text == (
        "Get into position: the hold starts in 10 s.\nExercise 1: seated twist, Right knee bent."
    )
    assert ready.button_texts == ["⏭ Skip this side", "⏹ Stop"]
    await h.advance(9.9)
    assert h.last() is ready  # nothing yet: the user is getting into position
    await h.advance(0.1)
    countdown = h.last()
    assert countdown.message_id != ready.message_id  # a new message: the phone notifies
    assert (
        countdown.text
        == "⏱ 30 s left · Right knee bent\nHold the stretch: Exercise 1: seated twist."
    )
    assert countdown.button_texts == CONTROLS
    await h.advance(15)
    assert h.texts()[-1] == "Halfway."
    await h.advance(15)
    assert len(released(h)) == 1


async def test_pause_keeps_the_exact_time_left_and_resume_carries_on(coach: Harness) -> None:
    h = coach
    await h.to_first_card()
    countdown = await hold_started(h)
    await h.advance(12)  # 18 s left
    await h.tap("⏸ Pause", message_id=countdown.message_id)
    assert countdown.text.startswith("⏸ Paused · 18 s left · Right knee bent")
    assert countdown.button_texts == ["▶ Resume", "⏹ Stop"]
    shown, edits = len(h.messages()), len(countdown.edits)
    await h.advance(600)  # ten minutes away: nothing moves on
    assert len(h.messages()) == shown and len(countdown.edits) == edits
    await h.send("sorry, phone call")
    assert h.last().text.startswith("Paused. Press Resume when you're ready")
    await h.tap("▶ Resume", message_id=countdown.message_id)
    assert countdown.text.startswith("⏱ 20 s left")
    assert countdown.button_texts == CONTROLS
    await h.advance(17.9)
    assert released(h) == []
    await h.advance(0.1)
    assert len(released(h)) == 1
    # Both cues were said once: halfway before the pause, "10 seconds left" after it.
    assert h.texts().count("Halfway.") == 1 and h.texts().count("10 seconds left.") == 1


async def test_a_paused_hold_stays_paused_across_a_restart(coach: Harness) -> None:
    h = coach
    await h.to_first_card()
    await hold_started(h)
    await h.advance(5)
    await h.send("/pause")
    await h.stop()
    h.jump(3600)
    await h.start()
    await h.advance(60)
    assert released(h) == []
    await h.send("/resume")
    await h.advance(24.9)
    assert released(h) == []
    await h.advance(0.1)
    assert len(released(h)) == 1


async def test_pause_and_resume_outside_a_hold(coach: Harness) -> None:
    h = coach
    await h.send("/pause")
    assert h.last().text == "There is no timer running to pause."
    await h.send("/resume")
    assert h.last().text == "Nothing is paused."
    await h.to_first_card()
    await hold_started(h)
    await h.advance(30)  # the rest runs now
    await h.send("/pause")
    assert h.last().text.startswith("Paused. Nothing moves on until you press Resume")
    await h.advance(300)
    assert h.texts()[-1].startswith("Paused.")  # no next card while paused
    await h.tap("▶ Resume")
    assert h.last().text == "Carrying on."
    await h.advance(15)
    assert h.last().text.split("\n")[1] == "Left knee bent"


async def test_plus_15_s_lengthens_the_hold_up_to_the_longest_and_the_summary_says_so(
    coach: Harness,
) -> None:
    h = coach
    await h.to_first_card()
    countdown = await hold_started(h)
    await h.tap("+15 s", message_id=countdown.message_id)
    assert h.server.callback_answers[-1]["text"] == "+15 s"
    assert countdown.text.startswith("⏱ 45 s left")
    await h.tap("+15 s", message_id=countdown.message_id)
    assert countdown.text.startswith("⏱ 60 s left")
    assert countdown.button_texts == ["⏸ Pause", "⏭ Skip this side", "⏹ Stop"]  # 60 s at most
    await h.advance(59.9)
    assert released(h) == []
    await h.advance(0.1)
    assert len(released(h)) == 1
    for _ in range(3):  # the other sides as they come, 30 s each
        await h.advance(15)
        await hold_started(h)
        await h.advance(30)
    summary = h.texts()[-2]
    assert "• Exercise 1: seated twist: both sides, 60 s each" in summary
    assert "• Exercise 2: side-lying stretch: both sides, 30 s each" in summary


async def test_skip_this_side_goes_on_at_once_and_the_summary_counts_one_side(
    coach: Harness,
) -> None:
    h = coach
    await h.to_first_card()
    countdown = await hold_started(h)
    await h.advance(5)
    await h.tap("⏭ Skip this side", message_id=countdown.message_id)
    assert countdown.text == "⏭ Skipped · Right knee bent"
    assert countdown.buttons == []
    assert h.last().text.split("\n")[1] == "Left knee bent"
    await hold_started(h)
    await h.advance(30 + 15)
    # Skipped from the get-ready count too.
    await h.tap("Start hold")
    await h.tap("⏭ Skip this side")
    assert h.last().text.split("\n")[1] == "Lying on your left side"
    await hold_started(h)
    await h.advance(30)
    summary = h.texts()[-2]
    assert "• Exercise 1: seated twist: one side, 30 s" in summary
    assert "• Exercise 2: side-lying stretch: one side, 30 s" in summary


async def test_back_shows_the_previous_side_again(coach: Harness) -> None:
    h = coach
    await h.to_first_card()
    await h.send("/back")
    assert h.texts()[-2].startswith("This is the first stretch of the routine")
    assert h.last().button_texts == ["Start hold", "⏹ Stop"]
    countdown = await hold_started(h)
    await h.send("/back")  # mid-hold: the hold stops, and this first side comes again
    assert countdown.text == "⏹ Stopped · Right knee bent"
    await h.advance(60)
    assert released(h) == []
    assert h.last().text.split("\n")[1] == "Right knee bent"
    await hold_started(h)
    await h.advance(30)
    await h.send("/back")  # in the rest: the side just held, again
    assert h.last().text.split("\n")[1] == "Right knee bent"
    await hold_started(h)
    await h.advance(30 + 15)
    assert h.last().text.split("\n")[1] == "Left knee bent"
    await h.send("/back")  # at the next card: the previous side
    assert h.last().text.split("\n")[1] == "Right knee bent"


async def test_buttons_of_an_earlier_hold_are_out_of_date(coach: Harness) -> None:
    h = coach
    await h.to_first_card()
    first = await hold_started(h)
    await h.advance(30 + 15)
    await hold_started(h)
    await h.process(
        h.server.user_presses(CHAT, first.message_id, "sc1:pause:0", check_buttons=False)
    )
    assert h.server.callback_answers[-1]["text"] == "That button is from an earlier step."
    await h.advance(30)  # the hold being done goes on, unpaused
    assert len(released(h)) == 2


async def test_a_routine_paused_for_more_than_a_day_is_closed_kindly(coach: Harness) -> None:
    h = coach
    await h.to_first_card()
    countdown = await hold_started(h)
    await h.send("/pause")
    h.jump(25 * 3600)
    await h.send("hello")
    assert h.texts()[-2].startswith("Your routine was paused for more than 24 hours")
    assert countdown.text == "⏹ Stopped · Right knee bent"
    await h.send("/resume")
    assert h.last().text == "Nothing is paused."
    await h.send("/routine")
    assert "Anything new since last time?" in h.last().text


async def test_settings_change_in_place_and_apply_from_the_next_hold(coach: Harness) -> None:
    h = coach
    await h.send("/settings")
    menu = h.last()
    assert menu.text == (
        "Your settings. Tap one to change it. Changes apply from your next hold.\n\n"
        "Hold, Exercise 1: seated twist: 30 s each side\n"
        "Hold, Exercise 2: side-lying stretch: 30 s each side\n"
        "Rest between sides: 15 s\n"
        "Time to get into position: 10 s\n"
        "Countdown: a number that counts down\n"
        "Pain question before and after: on"
    )
    assert menu.button_texts == [
        "Exercise 1: seated twist: 30 s",
        "Exercise 2: side-lying stretch: 30 s",
        "Rest: 15 s",
        "Get ready: 10 s",
        "Countdown: on",
        "Pain question: on",
        "Language: English",
        "🌍 Time zone",
        "⏰ Reminders",
        "Done",
    ]
    await h.tap("Exercise 1: seated twist: 30 s", message_id=menu.message_id)
    assert h.server.callback_answers[-1]["text"] == "Saved"
    assert "Hold, Exercise 1: seated twist: 45 s each side" in menu.text  # the same message
    await h.tap("Get ready: 10 s", message_id=menu.message_id)
    await h.tap("Get ready: 15 s", message_id=menu.message_id)
    assert "Time to get into position: 0 s" in menu.text  # round to the first choice
    await h.tap("Countdown: on", message_id=menu.message_id)
    assert "Countdown: off (only the cues)" in menu.text
    await h.tap("Done", message_id=menu.message_id)
    assert menu.buttons == [] and menu.text.startswith("Your settings:")

    # The next routine: no get-ready count, a 45 s hold, a countdown that does not move.
    await h.to_first_card()
    await h.tap("Start hold")
    countdown = h.last()
    assert countdown.text.startswith("⏱ 45 s hold · Right knee bent")  # no moving number
    await h.advance(44.9)
    assert countdown.edits == [] and "Halfway." in h.texts()
    await h.advance(0.1)
    assert any(t.startswith("Time's up.") for t in h.texts())
    await h.stop()  # settings are kept with the chat
    await h.start()
    await h.send("/settings")
    assert "Hold, Exercise 1: seated twist: 45 s each side" in h.last().text


async def test_settings_shortcuts_lead_to_the_time_zone_and_reminders(coach: Harness) -> None:
    h = coach
    await h.send("/settings")
    await h.tap("🌍 Time zone")
    assert "time zone" in h.last().text.lower()
    await h.send("/settings")
    await h.tap("⏰ Reminders")
    assert "reminder" in h.last().text.lower()


async def test_a_get_ready_count_that_ran_out_while_the_bot_was_down_is_handled_like_a_hold(
    coach: Harness,
) -> None:
    """The hold began on time: back mid-way, the countdown shows what is left; back after it,
    the bot says it is late and carries on."""
    h = coach
    await h.to_first_card()
    await h.tap("Start hold")
    await h.stop()
    h.jump(20)  # the count ended 10 s ago: 20 s of the hold are left
    await h.start()
    await h.advance(0)
    assert h.last().text.startswith("⏱ 20 s left · Right knee bent")
    await h.advance(19.9)
    assert not any(t.startswith("Time's up.") for t in h.texts())
    await h.advance(0.1)
    assert any(t.startswith("Time's up.") for t in h.texts())

    await h.advance(15)  # the next side's card
    await h.tap("Start hold")
    await h.stop()
    h.jump(120)  # the count and the whole hold went by
    await h.start()
    await h.advance(0)
    assert h.last().text.startswith(
        "Sorry, I'm late: your hold (Exercise 1: seated twist, Left knee bent) is over."
    )
    assert not any(t.startswith("⏱") and "Left knee bent" in t for t in h.texts())
