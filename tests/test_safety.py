"""Safety, as a person in pain meets it: the warning-sign check, Stop, the warm-up, who to call.

Texts are compared with the content's own (a wording change in content/ changes no test); the
flow, the buttons and what is stored are what these tests pin.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from bot.core.content import Content
from bot.core.content_models import Texts
from bot.storage import MIGRATIONS
from tests.support.harness import CHAT, Harness

DAY = 86_400


def en(h: Harness) -> Texts:
    return h.content.texts("en")


def db(h: Harness, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(h.database) as conn:
        return conn.execute(sql).fetchall()


def paused(h: Harness) -> bool:
    return bool(db(h, f"SELECT reminders_paused FROM chats WHERE chat_id = {CHAT}")[0][0])


def routine_row(h: Harness) -> object:
    return db(h, f"SELECT routine FROM chats WHERE chat_id = {CHAT}")[0][0]


def log(h: Harness) -> list[tuple[object, ...]]:
    return db(h, f"SELECT kind, answer, exercise, side FROM safety_log WHERE chat_id = {CHAT}")


async def consent(h: Harness) -> None:
    await h.send("/start")
    await h.tap("I understand, continue")


async def answer(h: Harness, *yes_or_no: str) -> None:
    b = en(h).safety.buttons
    for word in yes_or_no:
        await h.tap(b.yes if word == "yes" else b.no)


# --------------------------------------------------------------------------- the check


@pytest.mark.parametrize("question", range(5))
async def test_a_yes_to_a_warning_sign_ends_the_check_with_its_outcome(
    harness: Harness, question: int
) -> None:
    """Yes to a warning sign: its outcome message, no routine, reminders paused, all recorded."""
    h = harness
    await consent(h)
    assert h.texts()[-2] == en(h).safety.screening.intro.text
    await answer(h, *(["no"] * question), "yes")
    outcome = h.content.routine.safety.questions[question].outcome
    words = en(h).safety.numbers
    assert h.last().text == en(h).safety.outcomes[outcome].text.format(
        emergency=words.emergency_unknown, urgent=words.urgent_unknown
    )
    assert h.last().buttons == []
    assert routine_row(h) is None and paused(h)
    asked = h.content.routine.safety.questions[question].id
    assert log(h) == [("screening", f"{asked}=yes", None, None)]
    await h.send("hello")  # nothing goes on: the routine is closed
    assert h.last().text == en(h).replies.idle


async def test_the_check_asks_one_question_per_message_with_yes_and_no(harness: Harness) -> None:
    """Yes/no questions, one at a time, then the tick-list with None of these and Done."""
    h = harness
    await consent(h)
    questions = en(h).safety.screening.questions
    for spec in h.content.routine.safety.questions:
        assert h.last().text == questions[spec.id].text
        assert h.last().button_texts == ["Yes", "No"]
        await answer(h, "no")
    assert h.last().text == en(h).safety.screening.conditions_question.text
    labels = [c.label for c in en(h).safety.screening.conditions.values()]
    assert h.last().button_texts == [*labels, "None of these", "Done"]


async def test_ticks_are_shown_in_place_and_can_be_taken_back(harness: Harness) -> None:
    """Tapping a condition ticks it on the same message; tapping again unticks it."""
    h = harness
    await consent(h)
    await answer(h, "no", "no", "no", "no", "no")
    tick_list = h.last()
    conditions = en(h).safety.screening.conditions
    pregnancy, osteoporosis = conditions["pregnancy"].label, conditions["osteoporosis"].label
    await h.tap(pregnancy)
    await h.tap(osteoporosis)
    await h.tap(f"✓ {pregnancy}")
    assert h.last() is tick_list  # no new message
    assert f"✓ {osteoporosis}" in tick_list.button_texts
    assert pregnancy in tick_list.button_texts
    await h.tap("Done")
    assert h.last().text == "\n\n".join(
        [conditions["osteoporosis"].notice.text, en(h).safety.screening.go_on_question]
    )
    assert h.last().button_texts == ["Go on", "Not today"]
    await h.tap("Go on")
    assert h.last().text == en(h).warm_up.check.text
    assert log(h)[-1] == ("screening", "conditions=osteoporosis", None, None)
    await h.tap("I'm warm")  # the notice comes again with each card it applies to
    assert h.texts()[-2] == conditions["osteoporosis"].notice.text
    assert h.last().button_texts == ["Start hold", "⏹ Stop"]


async def test_hip_surgery_leaves_out_every_stretch_so_the_routine_does_not_start(
    harness: Harness,
) -> None:
    """Both stretches break hip precautions: the notice, the advice, and no routine."""
    h = harness
    await consent(h)
    await answer(h, "no", "no", "no", "no", "no")
    await h.tap(en(h).safety.screening.conditions["hip_surgery"].label)
    await h.tap("Done")
    screening = en(h).safety.screening
    assert h.last().text == "\n\n".join(
        [screening.conditions["hip_surgery"].notice.text, screening.all_left_out.text]
    )
    assert h.last().buttons == [] and routine_row(h) is None and paused(h)
    await h.send("/routine")  # the full check again, so changed answers can count
    assert h.texts()[-2] == screening.intro.text


async def test_no_floor_leaves_out_exercise_1_and_the_summary_says_what_was_done(
    harness: Harness,
) -> None:
    """Someone who can't get to the floor gets the side-lying stretch only."""
    h = harness
    await consent(h)
    await answer(h, "no", "no", "no", "no", "no")
    await h.tap(en(h).safety.screening.conditions["floor"].label)
    await h.tap("Done")
    await h.tap("Go on")
    await h.tap("I'm warm")
    assert h.last().text.split("\n")[:2] == [
        "Exercise 2: side-lying stretch",
        "Lying on your right side",
    ]
    for _ in range(2):
        await h.tap("Start hold")
        await h.advance(45)
    summary = h.texts()[-2]
    assert summary.startswith(en(h).done.split("{count}")[0] + "2 stretches")
    assert "seated twist" not in summary


async def test_not_today_after_a_notice_ends_kindly_and_pauses_reminders(harness: Harness) -> None:
    """A person who decides not to go on is not pushed: a kind end, reminders paused."""
    h = harness
    await consent(h)
    await answer(h, "no", "no", "no", "no", "no")
    await h.tap(en(h).safety.screening.conditions["pregnancy"].label)
    await h.tap("Done")
    await h.tap("Not today")
    stop = en(h).safety.stop
    assert h.last().text == stop.ended + "\n\n" + stop.ended_reminders
    assert routine_row(h) is None and paused(h)


async def test_a_recent_check_is_one_tap_and_the_full_check_returns_after_30_days(
    harness: Harness,
) -> None:
    """Within 30 days: "anything new?"; "Yes" runs the check; after 30 days it runs anyway."""
    h = harness
    await h.to_first_card()
    await h.send("/cancel")
    await h.send("/routine")
    assert h.last().text == en(h).safety.screening.recheck.text
    await h.tap("Yes, something is new")
    assert h.texts()[-2] == en(h).safety.screening.intro.text
    await h.pass_safety_check()
    await h.send("/cancel")
    h.jump(29 * DAY)
    await h.send("/routine")
    assert h.last().text == en(h).safety.screening.recheck.text
    await h.tap("No, nothing new")
    assert h.last().text == en(h).warm_up.check.text
    await h.send("/cancel")
    h.jump(2 * DAY)
    await h.send("/routine")
    assert h.texts()[-2] == en(h).safety.screening.intro.text
    assert [r[1] for r in log(h) if r[0] == "recheck"] == ["something new", "nothing new"]


async def test_reminders_pause_after_a_warning_sign_and_resume_when_the_routine_starts(
    harness: Harness,
) -> None:
    """No reminder reaches someone told to get medical help, until they start again."""
    h = harness
    await h.send("/remind 07:30")
    reminders = en(h).reminders.messages

    def sent() -> int:
        return sum(1 for t in h.texts() if t in reminders)

    await consent(h)
    await answer(h, "yes")
    await h.advance(3 * DAY)
    assert sent() == 0
    await h.send("/reminders")
    assert h.last().text.endswith("\n\n" + en(h).reminders.paused)
    await h.send("/routine")
    await h.pass_safety_check()
    assert not paused(h)
    await h.advance(DAY)
    assert sent() == 1  # from now on, none replayed


# --------------------------------------------------------------------------- who to call


@pytest.mark.parametrize(
    ("zone", "emergency", "urgent"),
    [
        ("Europe/London", "999", "NHS 111 (111)"),
        ("Europe/Berlin", "112", None),
        ("America/Toronto", "911", None),
        ("Australia/Sydney", "000", "healthdirect (1800 022 222)"),
        ("Asia/Tokyo", None, None),  # not in the table: no number is guessed
        (None, None, None),  # no time zone set
    ],
)
async def test_emergency_numbers_follow_the_country_of_the_time_zone(
    harness: Harness, zone: str | None, emergency: str | None, urgent: str | None
) -> None:
    """The outcome names the country's numbers from content, or says "your local ..." ."""
    h = harness
    if zone:
        await h.send(f"/timezone {zone}")
    await consent(h)
    await answer(h, "no", "no", "no", "yes")  # a fall: emergency after a serious one, else urgent
    words = en(h).safety.numbers
    assert h.last().text == en(h).safety.outcomes["get_checked"].text.format(
        emergency=emergency or words.emergency_unknown, urgent=urgent or words.urgent_unknown
    )


# --------------------------------------------------------------------------- the warm-up


async def test_a_recent_injury_warm_up_has_no_heat_for_72_hours(harness: Harness) -> None:
    """A strain in the last 3 days: no heat, no rubbing, no guide; normal again after 72 h."""
    h = harness
    await consent(h)
    await answer(h, "no", "no", "no", "no", "no")
    await h.tap(en(h).safety.screening.conditions["recent_injury"].label)
    await h.tap("Done")
    await h.tap("Go on")
    assert h.last().text == en(h).warm_up.check_no_heat.text
    assert h.last().button_texts == ["Go on", "End for today"]
    await h.send("cold?")
    assert h.last().text == en(h).warm_up.check_no_heat.text
    await h.send("/cancel")
    h.jump(73 * 3600)
    await h.send("/routine")
    await h.tap("No, nothing new")
    assert h.last().text == en(h).warm_up.check.text
    assert h.last().button_texts == ["I'm warm", "Not yet, guide me"]


async def test_the_guided_warm_up_offers_to_go_on_after_two_rounds(harness: Harness) -> None:
    """Two guided rounds, then "Go on" or "End for today": no endless warming up."""
    h = harness
    await consent(h)
    await h.pass_safety_check()
    await h.tap("Not yet, guide me")
    assert h.last().button_texts == ["I'm warm", "⏹ Stop"]
    await h.advance(180)
    assert h.last().text == en(h).warm_up.guide_done
    await h.tap("Not yet, guide me")
    await h.advance(180)
    assert h.last().text == en(h).warm_up.guide_done_last
    assert h.last().button_texts == ["Go on", "End for today"]
    await h.tap("Go on")
    assert h.last().button_texts == ["Start hold", "⏹ Stop"]


# --------------------------------------------------------------------------- Stop


async def stop_and_settle(h: Harness) -> None:
    await h.tap("⏹ Stop")
    await answer(h, "no")
    await h.tap(en(h).safety.buttons.settling)


async def test_stop_mid_hold_ends_it_at_once_and_asks_two_questions(harness: Harness) -> None:
    """Stop: the countdown says stopped, no more edits or cues, how to come out, then questions."""
    h = harness
    await h.to_first_card()
    await h.tap("Start hold")
    countdown = h.last()
    await h.advance(7)
    await h.tap("⏹ Stop")
    assert countdown.text == "⏹ Stopped · Right knee bent" and countdown.buttons == []
    stop = en(h).safety.stop
    assert h.texts()[-2:] == [stop.come_out.text, stop.ask_numb.text]
    assert h.last().button_texts == ["Yes", "No"]
    count, edits = len(h.messages()), len(countdown.edits)
    await h.advance(120)
    assert len(h.messages()) == count and len(countdown.edits) == edits
    await answer(h, "no")
    assert h.last().text == stop.ask_settling.text
    await h.tap(en(h).safety.buttons.settling)
    assert h.last().text == stop.settling
    assert h.last().button_texts == [
        "End for today",
        "Go on to the next stretch",
        "Skip to the next exercise",
    ]
    await h.tap("Go on to the next stretch")
    assert h.last().text.split("\n")[1] == "Left knee bent"
    assert log(h) == [
        ("screening", "conditions=none", None, None),
        ("stop", "hold", "seated_twist", 0),
        ("stop_answer", "numb=no", None, None),
        ("stop_answer", "settling=yes", None, None),
        ("stop_answer", "next=next", None, None),
    ]


@pytest.mark.parametrize("phase", ["card", "rest", "warm-up", "/stop"])
async def test_stop_works_in_every_timed_step(harness: Harness, phase: str) -> None:
    """On an instruction card, in a rest, in the guided warm-up, and as /stop: the same Stop."""
    h = harness
    await consent(h)
    await h.pass_safety_check()
    stop = en(h).safety.stop
    come_out = stop.come_out.text
    if phase == "warm-up":
        await h.tap("Not yet, guide me")
        come_out = stop.come_out_warm_up.text
    else:
        await h.tap("I'm warm")
    if phase == "rest":
        await h.tap("Start hold")
        await h.advance(30)
        assert h.last().button_texts == ["⏹ Stop"]
    if phase == "/stop":
        await h.tap("Start hold")
        await h.send("/stop")
    else:
        await h.tap("⏹ Stop")
    assert h.texts()[-2:] == [come_out, stop.ask_numb.text]
    assert db(h, f"SELECT wake_at FROM chats WHERE chat_id = {CHAT}") == [(None,)]
    await h.advance(300)
    assert h.last().text == stop.ask_numb.text  # nothing moved on by itself


async def test_numbness_after_stop_is_an_emergency(harness: Harness) -> None:
    """Yes to numbness after Stop: the emergency message, and the routine ends."""
    h = harness
    await h.send("/timezone Europe/Dublin")
    await h.to_first_card()
    await h.tap("Start hold")
    await h.tap("⏹ Stop")
    await answer(h, "yes")
    assert h.last().text == en(h).safety.outcomes["emergency"].text.format(
        emergency="112", urgent=en(h).safety.numbers.urgent_unknown
    )
    assert routine_row(h) is None and paused(h)
    await h.send("/routine")  # the full check comes back before any stretch
    assert h.texts()[-2] == en(h).safety.screening.intro.text


async def test_pain_that_is_not_settling_ends_the_day_with_advice(harness: Harness) -> None:
    """Not settling: stop for today, see a GP or physiotherapist, reminders paused."""
    h = harness
    await h.send("/timezone London")
    await h.to_first_card()
    await h.tap("⏹ Stop")
    await answer(h, "no")
    await h.tap(en(h).safety.buttons.not_settling)
    assert h.last().text == en(h).safety.stop.not_settling.text.format(
        emergency="999", urgent="NHS 111 (111)"
    )
    assert routine_row(h) is None and paused(h)


async def test_skip_and_end_after_a_settled_stop(harness: Harness) -> None:
    """ "Skip to the next exercise" goes to Exercise 2; "End for today" ends kindly."""
    h = harness
    await h.to_first_card()
    await stop_and_settle(h)
    await h.tap("Skip to the next exercise")
    assert h.last().text.split("\n")[1] == "Lying on your right side"
    await stop_and_settle(h)
    assert h.last().button_texts == ["End for today", "Go on to the next stretch"]
    await h.tap("End for today")
    stop = en(h).safety.stop
    assert h.last().text == stop.ended + "\n\n" + stop.ended_reminders
    assert routine_row(h) is None and paused(h)


async def test_two_stops_on_one_stretch_in_a_week_leave_it_out_with_advice(
    harness: Harness,
) -> None:
    """Stopped twice on the seated twist this week: see a professional; it is left out."""
    h = harness
    await h.to_first_card()
    await stop_and_settle(h)
    await h.tap("End for today")
    h.jump(DAY)
    await h.send("/routine")
    await h.tap("No, nothing new")
    await h.tap("I'm warm")
    await stop_and_settle(h)
    pattern = en(h).safety.stop.pattern.text.format(
        name="Exercise 1: seated twist", count=2, days=7
    )
    assert h.texts()[-2] == pattern
    await h.tap("End for today")
    h.jump(DAY)
    await h.send("/routine")
    await h.tap("No, nothing new")
    assert h.texts()[-2:] == [pattern, en(h).warm_up.check.text]
    await h.tap("I'm warm")
    assert h.last().text.split("\n")[0] == "Exercise 2: side-lying stretch"
    await h.send("/cancel")
    h.jump(7 * DAY)  # a week on, the twist is back
    await h.send("/routine")
    await h.tap("No, nothing new")
    await h.tap("I'm warm")
    assert h.last().text.split("\n")[0] == "Exercise 1: seated twist"


async def test_an_old_stop_button_after_the_routine_changes_nothing(harness: Harness) -> None:
    """A Stop pressed when nothing runs gets a short notice and what the bot expects."""
    h = harness
    await h.to_first_card()
    card = h.last()
    await h.send("/cancel")
    await h.process(h.server.user_presses(CHAT, card.message_id, "sc1:stop", check_buttons=False))
    assert h.server.callback_answers[-1]["text"] == en(h).safety.stop.stale
    assert h.last().text == en(h).replies.idle


async def test_a_restart_while_stopped_keeps_the_question(harness: Harness) -> None:
    """The bot restarted after Stop still asks the same question, and the answer counts."""
    h = harness
    await h.to_first_card()
    await h.tap("⏹ Stop")
    await h.stop()
    await h.start()
    await h.send("what now")
    assert h.texts()[-2:] == [en(h).replies.expect_answer, en(h).safety.stop.ask_numb.text]
    await answer(h, "no")
    assert h.last().text == en(h).safety.stop.ask_settling.text


# --------------------------------------------------------------------------- typed text


async def test_text_typed_in_every_step_of_the_check_gets_the_question_again(
    harness: Harness,
) -> None:
    """Typing instead of tapping: "please answer with a button", and the same question."""
    h = harness
    screening = en(h).safety.screening
    expect = en(h).replies.expect_answer
    await consent(h)
    await h.send("yes")  # typed, not tapped: not taken as an answer
    assert h.texts()[-2:] == [expect, screening.questions["saddle"].text]
    await answer(h, "no", "no", "no", "no", "no")
    await h.send("none")
    assert h.texts()[-2:] == [expect, screening.conditions_question.text]
    await h.tap(screening.conditions["pregnancy"].label)
    await h.tap("Done")
    await h.send("ok")
    assert h.last().text == screening.go_on_question
    assert h.last().button_texts == ["Go on", "Not today"]


async def test_text_typed_in_a_rest_or_the_warm_up_offers_to_stop(harness: Harness) -> None:
    """In every timed step, typed text gets the offer to stop with the Stop button."""
    h = harness
    offer = en(h).safety.stop.offer.text
    await consent(h)
    await h.pass_safety_check()
    await h.tap("Not yet, guide me")
    await h.send("it burns")
    assert (h.last().text, h.last().button_texts) == (offer, ["⏹ Stop"])
    await h.advance(180)
    await h.tap("I'm warm")
    await h.send("ow")
    assert h.last().button_texts == ["Start hold", "⏹ Stop"]
    await h.tap("Start hold")
    await h.advance(31)
    await h.send("stop")
    assert (h.last().text, h.last().button_texts) == (offer, ["⏹ Stop"])


async def test_a_database_from_the_release_before_safety_upgrades_in_place(
    tmp_path: Path, content: Content
) -> None:
    """A chat mid-hold and a reminder stored by schema 3 load, carry on, and are not paused."""
    database = tmp_path / "stretchbot.sqlite3"
    with sqlite3.connect(database) as conn:
        conn.execute("CREATE TABLE schema_version (version INTEGER)")
        for version, script in enumerate(MIGRATIONS[:3], start=1):
            conn.executescript(script)
            conn.execute("INSERT INTO schema_version VALUES (?)", (version,))
        now = 1_790_000_000.0
        hold = (
            f'{{"phase":"hold","stretch":0,"started_at":{now - 10},"ends_at":{now + 20},'
            f'"wake_at":{now},"cues_said":0,"countdown_message_id":null,'
            f'"countdown_shown":30,"countdown_at":{now - 10}}}'
        )
        conn.execute(
            "INSERT INTO chats (chat_id, consent_version, consent_at, routine, wake_at, "
            "updated_at) VALUES (?, 'old', ?, ?, ?, ?)",
            (CHAT, now - 60, hold, now, now),
        )
        conn.execute(
            "INSERT INTO reminders (chat_id, local_time, days, next_due, created_at) "
            "VALUES (?, '07:30', 'every_day', ?, ?)",
            (CHAT, now + 3600, now),
        )
    h = Harness(tmp_path, content)
    h.server.add_chat(CHAT)  # the chat exists on Telegram, as it did before the upgrade
    await h.start()
    try:
        await h.advance(25)
        assert any(t.startswith(en(h).hold.finished) for t in h.texts())
        assert db(h, "SELECT MAX(version) FROM schema_version") == [(len(MIGRATIONS),)]
        assert db(h, "SELECT COUNT(*) FROM reminders") == [(1,)] and not paused(h)
    finally:
        await h.stop()
