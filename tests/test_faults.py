"""Telegram and the database failing in the middle of a step: every step shown exactly once,
in order, and no chat stuck. Each test is a finding of the reliability issue."""

from __future__ import annotations

import logging
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

import pytest
from pydantic import BaseModel

from bot.config import ConfigError, Settings, load_settings
from bot.core.content import Content
from bot.core.content_models import Texts
from bot.core.state import Phase
from bot.devtools.emulator import FakeTelegram
from bot.devtools.factory import emulated_bot
from bot.telegram import outbox
from tests.support.harness import CHAT, Harness


@pytest.fixture(autouse=True)
def no_pauses(monkeypatch: pytest.MonkeyPatch) -> None:
    """The outbox's own short retries happen at once; the runner's retry is on the fake clock."""
    monkeypatch.setattr(outbox, "RETRY_PAUSES", (0.0, 0.0))


def en(h: Harness) -> Texts:
    return h.content.texts("en")


M = TypeVar("M", bound=BaseModel)


def replace_model(model: M, **changes: object) -> M:
    return model.model_copy(update=changes)


def count(h: Harness, text: str) -> int:
    return h.texts().count(text)


def starting(h: Harness, text: str) -> list[str]:
    """The messages that begin with `text` (a release begins the rest's message)."""
    return [t for t in h.texts() if t.startswith(text)]


async def test_telegram_failing_at_a_hold_end_shows_each_message_once_later(
    harness: Harness,
) -> None:
    """502s at the end of a hold: "Time's up" and the rest come once, 15 s later, and never
    a contradictory "late" message."""
    h = harness
    await h.to_first_card()
    await h.tap("Start hold")
    await h.advance(29)
    h.server.inject_error("sendMessage", status=502, times=3)
    await h.advance(1)
    assert starting(h, en(h).hold.finished) == []
    await h.advance(15)
    (released,) = starting(h, en(h).hold.finished)
    assert "Rest for 15 seconds" in released
    assert not any("late" in t for t in h.texts())
    await h.advance(15)
    assert h.last().text.split("\n")[1] == "Left knee bent"


async def test_a_message_whose_answer_was_lost_is_never_sent_twice(harness: Harness) -> None:
    """Telegram took "Time's up" but its answer timed out: it is not sent again."""
    h = harness
    await h.to_first_card()
    await h.tap("Start hold")
    await h.advance(29)
    h.server.inject_timeout("sendMessage", answer_lost=True)
    await h.advance(1)
    await h.advance(60)
    assert len(starting(h, en(h).hold.finished)) == 1
    assert h.last().text.split("\n")[1] == "Left knee bent"


async def test_cancel_whose_reply_fails_still_stops_the_hold(harness: Harness) -> None:
    """/cancel mid-hold with Telegram failing: the hold stops for good; the reply comes once."""
    h = harness
    await h.to_first_card()
    await h.tap("Start hold")
    countdown = h.last()
    await h.advance(7)
    h.server.inject_error("sendMessage", status=502, times=3)
    await h.send("/cancel")
    assert countdown.text == "⏹ Stopped · Right knee bent"
    edits = len(countdown.edits)
    await h.advance(120)
    assert len(countdown.edits) == edits  # no more counting
    assert en(h).hold.cues["halfway"] not in h.texts()
    assert count(h, en(h).replies.cancelled) == 1


async def test_a_failed_countdown_at_start_hold_arrives_later_and_start_is_not_repeated(
    harness: Harness,
) -> None:
    """The countdown fails to go out: it comes later, once (a second Start starts nothing
    new: it only lets the queued countdown out), and counts down."""
    h = harness
    await h.to_first_card()
    card = h.last()
    h.server.inject_error("sendMessage", status=502, times=3)  # the step's one message
    await h.tap("Start hold")
    assert starting(h, "⏱") == []
    await h.process(h.server.user_presses(CHAT, card.message_id, "sc1:hold:0", check_buttons=False))
    assert len(starting(h, "⏱")) == 1
    await h.advance(15)
    assert len(starting(h, "⏱")) == 1
    countdown = next(m for m in h.messages() if m.text.startswith("⏱"))
    await h.advance(16)
    assert countdown.text.startswith("⏱ 0 s left")
    assert len(starting(h, en(h).hold.finished)) == 1


async def test_a_locked_database_at_a_hold_end_shows_nothing_until_it_can_save(
    harness: Harness,
) -> None:
    """The database locked when a hold ends: nothing is shown twice; the step comes once after."""
    h = harness
    await h.to_first_card()
    await h.tap("Start hold")
    await h.advance(29)
    with h.database_locked():
        await h.advance(5)
    assert starting(h, en(h).hold.finished) == []
    await h.advance(15)
    (released,) = starting(h, en(h).hold.finished)
    assert "Rest for 15 seconds" in released


async def test_a_button_pressed_while_the_database_is_locked_changes_nothing(
    harness: Harness,
) -> None:
    """A press that cannot be saved shows no next step; the error says to try again, and
    trying again works."""
    h = harness
    await h.send("/start")
    disclaimer = h.last()
    with h.database_locked():
        await h.tap("I understand, continue")
    assert h.last().text == en(h).replies.error
    assert not any(t == en(h).safety.screening.intro.text for t in h.texts())
    await h.tap("I understand, continue", message_id=disclaimer.message_id)
    assert h.texts()[-2] == en(h).safety.screening.intro.text


# --------------------------------------------------------------------------- smaller findings


async def test_a_routine_that_no_longer_fits_the_content_ends_kindly(
    tmp_path: Path, content: Content
) -> None:
    """A chat on the 4th stretch when a release drops Exercise 2: told so, never stuck."""
    h = Harness(tmp_path, content)
    await h.start()
    await h.to_first_card()
    for _ in range(3):
        await h.tap("Start hold")
        await h.advance(45)
    assert h.last().text.split("\n")[1] == "Lying on your left side"
    await h.stop()
    shorter = replace(
        content,
        routine=replace_model(content.routine, exercises=content.routine.exercises[:1]),
    )
    h.content = shorter
    await h.start()
    await h.advance(60)
    await h.send("/cancel")
    assert h.texts()[-2] == en(h).replies.routine_changed
    assert h.last().text == en(h).replies.nothing_to_cancel
    await h.send("/routine")
    assert h.last().text == en(h).safety.screening.recheck.text
    await h.stop()


async def test_a_very_long_time_is_quoted_back_short(harness: Harness) -> None:
    """/remind with 4,000 characters gets a friendly reply that fits Telegram, not an error."""
    h = harness
    await h.send("/remind " + "x" * 4000)
    reply = h.last().text
    assert len(reply) < 300 and reply.startswith("I couldn't read")
    assert en(h).replies.error not in h.texts()


async def test_text_during_a_hold_is_not_taken_as_a_time_zone(harness: Harness) -> None:
    """After a first reminder the bot waits for a city, but "thanks" mid-hold is for the hold."""
    h = harness
    await h.send("/remind 07:30")
    assert h.last().text.startswith("I've assumed your time zone")
    await h.to_first_card()
    await h.tap("Start hold")
    await h.send("thanks")
    assert h.last().text == en(h).safety.stop.offer.text


async def test_a_snooze_tapped_twice_confirms_once(harness: Harness) -> None:
    """Two taps on "In 15 min" (the buttons not gone yet): one confirmation message."""
    h = harness
    await h.send("/timezone UTC")
    await h.send("/remind 06:35")
    await h.advance(24 * 3600)
    reminder = h.last()
    assert reminder.button_texts[0] == "Start now"
    data = reminder.buttons[1][0].callback_data
    assert data is not None
    for _ in range(2):
        await h.process(h.server.user_presses(CHAT, reminder.message_id, data, check_buttons=False))
    assert len([t for t in h.texts() if t.startswith("OK, I'll remind you again")]) == 1


async def test_taps_on_a_button_already_handled_get_a_notice_only(harness: Harness) -> None:
    """Start hold tapped three times: one hold, and no extra prompt per tap."""
    h = harness
    await h.to_first_card()
    card = h.last()
    for _ in range(3):
        await h.process(
            h.server.user_presses(CHAT, card.message_id, "sc1:hold:0", check_buttons=False)
        )
    assert len(starting(h, "⏱")) == 1
    assert h.last().text.startswith("⏱ 30 s left")
    assert h.server.callback_answers[-1]["text"] == en(h).replies.stale_button


async def test_the_guided_warm_up_can_end_early(harness: Harness) -> None:
    """ "I'm warm" on the guide message goes straight to the first stretch."""
    h = harness
    await h.send("/start")
    await h.tap("I understand, continue")
    await h.pass_safety_check()
    await h.tap("Not yet, guide me")
    await h.tap("I'm warm")
    assert h.last().text.split("\n")[1] == "Right knee bent"
    await h.advance(300)  # the guide's timer does not come back
    assert en(h).warm_up.guide_done not in h.texts()


async def test_a_reminder_due_during_a_hold_is_not_sent(harness: Harness) -> None:
    """Someone stretching already is not told to go and stretch."""
    h = harness
    await h.send("/timezone UTC")
    now = datetime.fromtimestamp(h.clock.now(), UTC)
    due = (now + timedelta(minutes=2)).strftime("%H:%M")
    await h.send(f"/remind {due}")
    await h.to_first_card()
    for _ in range(4):  # due within these three minutes of holds and rests
        await h.tap("Start hold")
        await h.advance(45)
    variants = en(h).reminders.messages
    assert not any(m.text in variants for m in h.messages())


def test_a_speed_that_would_stretch_a_hold_to_hours_is_refused() -> None:
    """STRETCHBOT_SPEED=1e-9 is a typo, refused with the variable named."""
    with pytest.raises(ConfigError, match="STRETCHBOT_SPEED"):
        load_settings(speed=1e-9, _env_file=None)


async def test_the_same_update_delivered_twice_has_one_effect(harness: Harness) -> None:
    """Telegram redelivers an update: the bot answers it once."""
    h = harness
    update = h.server.user_sends(CHAT, "/help")
    await h.process(update)
    await h.process(update)
    assert len(h.texts()) == 1


async def test_one_person_flooding_gets_one_notice_and_slows_nobody_else(
    harness: Harness,
) -> None:
    """Hundreds of messages a minute: one notice, then quiet; another user is answered."""
    h = harness
    for _ in range(200):
        await h.send("spam")
    replies = h.texts()
    assert replies.count(en(h).replies.too_fast) == 1
    assert len(replies) == 31  # the first 30 answered, then the one notice
    await h.send("/help", chat_id=777, user_id=777)
    assert h.server.texts(777)[0].startswith("Stretch Coach walks you")
    h.jump(61)
    await h.send("hello again")
    assert h.last().text == en(h).replies.idle


async def test_a_button_answered_too_late_is_no_error(harness: Harness) -> None:
    """ "Query is too old" when answering a press: the step is done, no error reply."""
    h = harness
    await h.send("/start")
    h.server.inject_error(
        "answerCallbackQuery",
        status=400,
        description="Bad Request: query is too old and response timeout expired or query ID "
        "is invalid",
    )
    await h.tap("I understand, continue")
    assert h.texts()[-2] == en(h).safety.screening.intro.text
    assert en(h).replies.error not in h.texts()
    h.server.unanswered_callbacks.clear()  # Telegram gave up on it, as it does


# --------------------------------------------------------------------------- the clock set


def _hold_messages(h: Harness) -> list[str]:
    """What a hold showed, in order: its countdown's final text, cues, release, rest."""
    return [m.text.split("\n")[0] for m in h.messages()]


async def test_the_wall_clock_set_back_mid_hold_changes_no_duration_but_moves_reminders(
    tmp_path: Path, content: Content
) -> None:
    """The wall clock goes back an hour 10 s into a hold (NTP, an operator): the countdown,
    the cues and the release still come on schedule; a reminder follows the wall clock."""
    h = Harness(tmp_path, content, monotonic=True)
    await h.start()
    await h.send("/timezone UTC")
    due = datetime.fromtimestamp(h.clock.now(), UTC) + timedelta(minutes=30)
    await h.send(f"/remind {due:%H:%M}")
    await h.to_first_card()
    await h.tap("Start hold")
    countdown = h.last()
    assert countdown.text.startswith("⏱ 30 s left")
    await h.advance(10)
    h.set_wall_clock(-3600)
    await h.advance(5)
    assert countdown.text.startswith("⏱ 15 s left")
    assert h.texts()[-1] == en(h).hold.cues["halfway"]
    await h.advance(15)
    assert countdown.text.startswith("⏱ 0 s left")
    assert len(starting(h, en(h).hold.finished)) == 1
    assert not any(t.startswith("Sorry, I'm late") for t in h.texts())
    assert "Rest for 15 seconds" in h.last().text
    await h.advance(15)
    assert h.last().text.split("\n")[1] == "Left knee bent"
    # The reminder is due at its time of day: half an hour of wall time, now 90 min away.
    variants = en(h).reminders.messages
    await h.advance(45 * 60)
    assert not any(t in variants for t in h.texts())
    await h.advance(46 * 60)
    assert sum(t in variants for t in h.texts()) == 1
    await h.stop()


async def test_the_wall_clock_set_forward_mid_hold_does_not_end_it(
    tmp_path: Path, content: Content
) -> None:
    """The wall clock jumps an hour ahead mid-hold: the hold goes on to its real end."""
    h = Harness(tmp_path, content, monotonic=True)
    await h.start()
    await h.to_first_card()
    await h.tap("Start hold")
    countdown = h.last()
    await h.advance(10)
    h.set_wall_clock(3600)
    await h.advance(10)
    assert countdown.text.startswith("⏱ 10 s left")
    assert en(h).hold.finished not in h.texts()
    assert not any(t.startswith("Sorry, I'm late") for t in h.texts())
    await h.advance(10)
    assert len(starting(h, en(h).hold.finished)) == 1
    await h.stop()


# --------------------------------------------------------------------------- polling


async def test_getupdates_failing_is_logged_once_and_polling_recovers_by_itself(
    tmp_path: Path, content: Content, caplog: pytest.LogCaptureFixture
) -> None:
    """A 502 from getUpdates: one warning line, python-telegram-bot polls again, the user is
    answered."""
    server = FakeTelegram()
    settings = Settings(database=tmp_path / "p.sqlite3", _env_file=None)
    server.inject_error("getUpdates", status=502)
    caplog.set_level(logging.INFO)
    async with emulated_bot(settings, content, server, polling=True):
        server.user_sends(CHAT, "/help")
        await server.wait_until(lambda: bool(server.texts(CHAT)), within=5)
    assert server.texts(CHAT)[0].startswith("Stretch Coach walks you")
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert warnings == ["polling for updates failed (Bad Gateway); trying again"]


async def test_a_hanging_getupdates_is_named_in_one_warning_and_polling_goes_on(
    tmp_path: Path, content: Content, caplog: pytest.LogCaptureFixture
) -> None:
    """getUpdates never answers (no read timeout ends it): after twice the time it may take
    (the long poll + the read timeout) one warning names the stalled poller, the call is given
    up, the next poll delivers the user's message, and the recovery is logged."""
    server = FakeTelegram()
    settings = Settings(database=tmp_path / "p.sqlite3", _env_file=None)
    server.inject_hang("getUpdates")
    caplog.set_level(logging.INFO)
    async with emulated_bot(
        settings, content, server, polling=True, poll_timeout=1, poll_read_timeout=0.05
    ) as bot:
        server.user_sends(CHAT, "/help")
        started = time.monotonic()
        await server.wait_until(lambda: bool(server.texts(CHAT)), within=5)
        waited = time.monotonic() - started
    assert 2.0 <= waited < 4.0  # the deadline: 2 x (1 s + 0.05 s)
    assert server.texts(CHAT)[0].startswith("Stretch Coach walks you")
    assert bot.polling.stalls == 1
    warnings = [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]
    assert warnings == [
        "polling is stalled: getUpdates has had no answer for 2.1 s (long poll 1 s + read "
        "timeout 0.05 s); abandoning it and polling again"
    ]
    assert any(r.getMessage().startswith("polling recovered") for r in caplog.records)


async def test_a_countdown_held_back_by_telegram_starts_the_hold_when_it_arrives(
    harness: Harness,
) -> None:
    """Telegram away at Start hold: the countdown goes out at the hold's first tick, 5 s later,
    and the hold is the user's from then (they hold when they see it): its release is 30 s
    after the countdown, not 25."""
    h = harness
    await h.to_first_card()
    h.server.inject_error("sendMessage", status=502, times=3)
    await h.tap("Start hold")
    assert starting(h, "⏱") == []
    await h.advance(5)  # the hold's first tick lets the queued countdown out first
    (countdown,) = starting(h, "⏱")
    assert countdown.startswith("⏱ 30 s left")
    await h.advance(29.9)
    assert starting(h, en(h).hold.finished) == []
    await h.advance(0.1)
    assert len(starting(h, en(h).hold.finished)) == 1
    assert not any(t.startswith("Sorry, I'm late") for t in h.texts())


async def test_a_hold_paused_at_its_very_end_is_released_as_soon_as_it_is_resumed(
    harness: Harness,
) -> None:
    """Pause pressed as the hold ends, before its end timer ran (the timer loop a moment late, a
    press racing it), then Resume: the release comes at once, not a countdown tick (5 s) later
    with the countdown standing at 0 (found by tests/test_app_properties.py)."""
    h = harness
    await h.to_first_card()
    await h.tap("Start hold")
    countdown = h.last()
    await h.advance(29)
    h.jump(1)  # the end is due; the loop has not run it yet
    await h.tap("⏸ Pause", message_id=countdown.message_id)
    assert countdown.text.startswith("⏸ Paused · 0 s left")
    await h.advance(2.5)
    await h.tap("▶ Resume", message_id=countdown.message_id)
    await h.advance(0)
    assert len(starting(h, en(h).hold.finished)) == 1
    assert h.bot is not None
    routine = (await h.bot.store.chats.load(CHAT)).routine
    assert routine is not None and routine.phase == Phase.REST
