"""Reminders through the emulated Bot API, on a fake clock: what the user sees, what is stored."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest

from bot.storage import StoreUnavailable
from bot.telegram import outbox
from tests.support.harness import CHAT, Harness

# Friday 27 March 2026, 06:00 UTC: 07:00 in Berlin, two days before its clocks go forward.
FRIDAY_0600_UTC = datetime(2026, 3, 27, 6, 0, tzinfo=UTC).timestamp()
REMINDER_BUTTONS = ["Start now", "In 15 min", "In 1 hour", "Skip today", "🛌 Rest day today"]


@pytest.fixture
def h(harness_on_both: Harness) -> Harness:
    """Every test here runs on SQLite and on PostgreSQL."""
    harness_on_both.clock.set(FRIDAY_0600_UTC)  # type: ignore[union-attr]
    return harness_on_both


def rows(h: Harness) -> list[tuple[str, str, str, float | None]]:
    """(local time, days, next due in UTC ISO, snooze) of every stored reminder."""
    found = h.sql("SELECT local_time, days, next_due, snooze_at FROM reminders ORDER BY id")
    return [
        (t, d, datetime.fromtimestamp(n, UTC).isoformat(timespec="minutes"), s)
        for t, d, n, s in found
    ]


def reminders_sent(h: Harness, chat_id: int = CHAT) -> int:
    variants = h.content.texts("en").reminders.messages
    return sum(m.text in variants for m in h.server.messages(chat_id))


def utc(h: Harness) -> str:
    return datetime.fromtimestamp(h.clock.now(), UTC).isoformat(timespec="minutes")


async def test_remind_by_text_assumes_a_zone_and_says_so(h: Harness) -> None:
    """/remind 07:30 sets a daily reminder, says which zone it assumed, asks for the real one."""
    await h.send("/remind 07:30")
    assert h.texts()[-2] == "Done: I'll remind you at 07:30 every day. Next: Fri 27 Mar, 07:30."
    assert h.texts()[-1].startswith("I've assumed your time zone is UTC (it's 06:00 there).")
    assert rows(h) == [("07:30", "every_day", "2026-03-27T07:30+00:00", None)]
    await h.send("berlin")
    assert h.last().text.startswith("Time zone set: Europe/Berlin (it's 07:00 there, UTC+01:00).")
    assert rows(h) == [("07:30", "every_day", "2026-03-27T06:30+00:00", None)]


async def test_a_reminder_arrives_at_its_time_with_its_buttons(h: Harness) -> None:
    """At 07:30 local the reminder arrives with start, snooze and skip; the next is tomorrow."""
    await h.send("/timezone Europe/Berlin")
    await h.send("/remind 07:30 weekdays")
    count = len(h.messages())
    await h.advance(29 * 60)
    assert len(h.messages()) == count
    await h.advance(60)
    assert h.last().button_texts == REMINDER_BUTTONS
    assert utc(h) == "2026-03-27T06:30+00:00"
    # Friday's done; the next weekday is Monday, after the change to summer time (UTC+2).
    assert rows(h) == [("07:30", "weekdays", "2026-03-30T05:30+00:00", None)]


async def test_snooze_sends_it_again_once_later(h: Harness) -> None:
    """ "In 15 min" brings the reminder back once, 15 minutes later, and not again."""
    await h.send("/remind 06:10")
    await h.advance(10 * 60)
    await h.tap("In 15 min")
    assert h.last().text == "OK, I'll remind you again at 06:25."
    await h.advance(14 * 60)
    assert reminders_sent(h) == 1
    await h.advance(60)
    assert reminders_sent(h) == 2 and h.last().button_texts == REMINDER_BUTTONS
    await h.advance(3 * 3600)
    assert reminders_sent(h) == 2


async def test_skip_today_drops_the_snooze_but_not_tomorrow(h: Harness) -> None:
    """ "Skip today" cancels today's snooze; tomorrow's reminder still comes."""
    await h.send("/remind 06:10")
    await h.advance(10 * 60)
    reminder = h.last()
    await h.tap("In 1 hour")
    assert reminder.buttons == []  # a choice made takes the buttons off; skip it as an old one
    await h.process(
        h.server.user_presses(CHAT, reminder.message_id, "sc1:skip:1", check_buttons=False)
    )
    assert h.last().text == "Skipped for today. This reminder comes next on Sat 28 Mar, 06:10."
    await h.advance(2 * 3600)
    assert reminders_sent(h) == 1
    await h.advance(22 * 3600)
    assert reminders_sent(h) == 2


async def test_set_a_reminder_with_buttons_alone(h: Harness) -> None:
    """/remind, a time button, "Choose days", two days ticked, Done."""
    await h.send("/timezone new york")
    await h.send("/remind")
    assert h.last().button_texts == ["07:00", "08:00", "12:30", "18:00", "20:00", "Another time"]
    await h.tap("18:00")
    assert h.last().text == h.content.texts("en").reminders.ask_days.format(time="18:00")
    await h.tap("Choose days")
    days = h.last()
    await h.tap("Mon", message_id=days.message_id)
    await h.tap("Wed", message_id=days.message_id)
    assert days.button_texts[:3] == ["✓ Mon", "Tue", "✓ Wed"]
    await h.tap("Done", message_id=days.message_id)
    assert h.last().text == "Done: I'll remind you at 18:00 on Mon, Wed. Next: Mon 30 Mar, 18:00."
    assert rows(h) == [("18:00", "mon,wed", "2026-03-30T22:00+00:00", None)]


async def test_another_time_takes_a_typed_time(h: Harness) -> None:
    """ "Another time" waits for a typed time; nonsense gets a hint, "7pm" works."""
    await h.send("/remind")
    await h.tap("Another time")
    await h.send("tomorrow-ish")
    assert h.last().text.startswith('I couldn\'t read "tomorrow-ish" as a time.')
    await h.send("7pm")
    await h.tap("Weekdays")
    assert h.texts()[-2] == "Done: I'll remind you at 19:00 on weekdays. Next: Fri 27 Mar, 19:00."


@pytest.mark.parametrize(
    ("command", "reply"),
    [
        ("/remind 25:99", 'I couldn\'t read "25:99" as a time. Try 07:30, 18:15 or 7pm'),
        ("/remind tomorrow-ish", 'I couldn\'t read "tomorrow-ish" as a time.'),
        ("/remind 7", 'Is "7" in the morning or the evening?'),
        ("/remind 07:30 someday", 'I couldn\'t read "someday" as days.'),
        ("/timezone Mars/Olympus", 'I don\'t know the time zone "Mars/Olympus".'),
        ("/remind off", "You have no reminders to switch off."),
        ("/reminders", "You have no reminders. Set one with /remind"),
    ],
)
async def test_bad_input_says_what_would_work(h: Harness, command: str, reply: str) -> None:
    """A malformed time, days or zone gets a reply with an example that works."""
    await h.send(command)
    assert h.last().text.startswith(reply)
    assert rows(h) == []


async def test_a_misspelled_zone_offers_suggestions(h: Harness) -> None:
    """/timezone berln suggests Europe/Berlin as a button."""
    await h.send("/timezone berln")
    assert h.last().text == 'I don\'t know the time zone "berln". Did you mean one of these?'
    await h.tap("Europe/Berlin")
    assert h.last().text.startswith("Time zone set: Europe/Berlin")


async def test_a_sixth_reminder_is_refused(h: Harness) -> None:
    """Five reminders are the most; a sixth is refused with a pointer to /reminders."""
    for hour in range(10, 15):
        await h.send(f"/remind {hour}:00")
    await h.send("/remind 16:00")
    assert h.last().text == h.content.texts("en").reminders.too_many.format(max=5)
    assert len(rows(h)) == 5


async def test_list_delete_and_all_off(h: Harness) -> None:
    """/reminders lists each with its next time and a delete button; /remind off clears all."""
    await h.send("/timezone Europe/Berlin")
    await h.send("/remind 07:30 weekdays")
    await h.send("/remind 18:15 mon wed fri")
    await h.send("/reminders")
    listing = h.last()
    assert listing.text == (
        "Your reminders (time zone Europe/Berlin):\n"
        "• 07:30 on weekdays (next: Fri 27 Mar, 07:30)\n"
        "• 18:15 on Mon, Wed, Fri (next: Fri 27 Mar, 18:15)"
    )
    await h.tap("Delete 07:30 on weekdays", message_id=listing.message_id)
    assert listing.button_texts == ["Delete 18:15 on Mon, Wed, Fri"]
    assert h.last().text == "Deleted the reminder at 07:30 on weekdays."
    await h.send("/remind off")
    assert h.last().text == h.content.texts("en").reminders.all_off.format(count=1)
    assert rows(h) == []


async def test_start_now_goes_through_consent_when_none_is_on_record(h: Harness) -> None:
    """ "Start now" on a reminder shows the disclaimer first to a user who never accepted it."""
    await h.send("/remind 06:05")
    await h.advance(5 * 60)
    await h.tap("Start now")
    assert h.last().button_texts == ["I understand, continue", "No thanks"]
    await h.tap("I understand, continue")
    assert h.last().button_texts == ["Yes", "No"]  # the safety check, then the warm-up
    await h.pass_safety_check()
    assert h.last().text.startswith("First, warm up")


async def test_a_restart_before_the_due_time_loses_nothing(h: Harness) -> None:
    """Stopped and started again before 07:30, the bot still sends the reminder once."""
    await h.send("/remind 06:30")
    await h.stop()
    await h.start()
    await h.advance(30 * 60)
    assert reminders_sent(h) == 1
    await h.stop()
    await h.start()
    await h.advance(60)
    assert reminders_sent(h) == 1


@pytest.mark.parametrize(("late_minutes", "sent"), [(15, 1), (16, 0)])
async def test_downtime_across_the_due_time(h: Harness, late_minutes: int, sent: int) -> None:
    """Back at most 15 minutes late, the reminder is sent; later, it is skipped; tomorrow stays."""
    await h.send("/remind 06:30")
    await h.stop()
    h.jump((30 + late_minutes) * 60)
    await h.start()
    await h.advance(0)
    assert reminders_sent(h) == sent
    assert rows(h) == [("06:30", "every_day", "2026-03-28T06:30+00:00", None)]


async def test_a_blocked_user_is_not_retried_and_comes_back_with_unblock(h: Harness) -> None:
    """A 403 pauses reminders and marks the user inactive; unblocking resumes them."""
    await h.send("/remind 06:30")
    h.server.user_blocks(CHAT)  # blocked, but the bot has not been told yet: the send gets 403
    await h.advance(30 * 60)
    assert [bool(active) for (active,) in h.sql("SELECT active FROM chats")] == [False]
    sends = len([c for c in h.server.calls if c[0] == "sendMessage"])
    await h.advance(3 * 24 * 3600)
    assert len([c for c in h.server.calls if c[0] == "sendMessage"]) == sends
    await h.process(h.server.user_unblocks(CHAT))
    assert rows(h)[0][2] == "2026-03-31T06:30+00:00"
    await h.advance(24 * 3600)
    assert reminders_sent(h) == 1


async def finish_the_routine(h: Harness) -> None:
    await h.send("/start")
    await h.tap("I understand, continue")
    await h.pass_safety_check()
    await h.tap("I'm warm")
    for _ in range(4):
        await h.tap("Start hold")
        await h.advance(45)


async def test_the_end_of_the_routine_offers_a_daily_reminder_at_this_time(h: Harness) -> None:
    """After the last stretch, a user with a zone and no reminder gets one button for now."""
    await h.send("/timezone Europe/Berlin")
    await finish_the_routine(h)
    assert utc(h) == "2026-03-27T06:03+00:00"
    assert h.last().button_texts == ["Yes, daily at 07:00"]  # local now, to the nearest 5 min
    await h.tap("Yes, daily at 07:00")
    assert rows(h) == [("07:00", "every_day", "2026-03-28T06:00+00:00", None)]


async def test_without_a_zone_the_offer_lets_the_user_pick_a_local_time(h: Harness) -> None:
    """Not knowing the user's time of day, the offer shows times to pick, in their own zone."""
    await finish_the_routine(h)
    assert h.last().text == h.content.texts("en").reminders.offer_daily_pick
    await h.tap("08:00")
    await h.send("/timezone Europe/Berlin")
    assert rows(h) == [
        ("08:00", "every_day", "2026-03-27T07:00+00:00", None)
    ]  # today, 08:00 Berlin


async def test_no_reminder_is_offered_to_a_user_who_has_one(h: Harness) -> None:
    """A user with a reminder finishes the routine with the summary, and no offer."""
    await h.send("/remind 20:00")
    await finish_the_routine(h)
    assert h.last().text.startswith("Well done, that's the routine")


async def test_a_reminder_keeps_its_local_time_across_the_spring_change(h: Harness) -> None:
    """07:30 in Berlin arrives at 07:30 local on the days before, of and after the DST change."""
    sent_at: list[str] = []
    variants = h.content.texts("en").reminders.messages
    h.server.add_listener(
        lambda e: sent_at.append(utc(h)) if e.message and e.message.text in variants else None
    )
    await h.send("/timezone Europe/Berlin")
    await h.send("/remind 07:30")
    await h.advance(3 * 24 * 3600 + 3600)  # to Monday 07:00 UTC
    assert sent_at == [
        "2026-03-27T06:30+00:00",  # Friday, CET (UTC+1)
        "2026-03-28T06:30+00:00",  # Saturday
        "2026-03-29T05:30+00:00",  # Sunday: the clocks went forward at 02:00; CEST (UTC+2)
        "2026-03-30T05:30+00:00",  # Monday
    ]


async def test_a_reminder_cut_off_by_a_shutdown_is_sent_after_the_restart(
    h: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A send still waiting on Telegram when the bot stops gives its claim back; none is lost."""
    await h.send("/remind 06:30")
    h.jump(30 * 60)
    answer = h.server.handle

    async def telegram_hangs(url: str, method: str, data: Any) -> tuple[int, bytes]:
        if url.endswith("/sendMessage"):
            await asyncio.Event().wait()
        return await answer(url, method, data)

    monkeypatch.setattr(h.server, "handle", telegram_hangs)
    assert h.bot is not None
    h.bot.timers.start()  # the real timer loop finds the reminder due and starts sending
    await asyncio.sleep(0.05)
    await h.bot.timers.stop(grace=0.05)  # the send does not finish in time: it is cancelled
    await h.stop()
    assert rows(h) == [("06:30", "every_day", "2026-03-27T06:30+00:00", None)]
    monkeypatch.setattr(h.server, "handle", answer)
    await h.start()
    await h.advance(0)
    assert reminders_sent(h) == 1


async def test_after_days_away_todays_reminder_is_still_sent_within_grace(h: Harness) -> None:
    """Down for two days and back 5 minutes after today's time: today's reminder goes out."""
    await h.send("/remind 06:30")
    await h.stop()
    h.jump(2 * 24 * 3600 + 35 * 60)
    await h.start()
    await h.advance(0)
    assert reminders_sent(h) == 1
    assert rows(h) == [("06:30", "every_day", "2026-03-30T06:30+00:00", None)]


async def test_a_snooze_missed_by_hours_is_not_sent(h: Harness) -> None:
    """A snoozed reminder that fell due while the bot was down for hours is skipped."""
    await h.send("/remind 06:10")
    await h.advance(10 * 60)
    await h.tap("In 15 min")
    await h.stop()
    h.jump(6 * 3600)
    await h.start()
    await h.advance(0)
    assert reminders_sent(h) == 1
    assert rows(h)[0][3] is None


async def test_telegram_away_at_the_due_time_is_retried_within_grace(
    h: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Sends that fail at 06:30 are tried again each minute; the reminder arrives once, late."""
    monkeypatch.setattr(outbox, "RETRY_PAUSES", (0.0, 0.0))
    await h.send("/remind 06:30")
    await h.advance(29 * 60)
    h.server.inject_error("sendMessage", status=502, description="Bad Gateway", times=6)
    await h.advance(60)
    assert reminders_sent(h) == 0
    await h.advance(60)
    assert reminders_sent(h) == 0
    await h.advance(60)
    assert reminders_sent(h) == 1 and utc(h) == "2026-03-27T06:32+00:00"
    await h.advance(3600)
    assert reminders_sent(h) == 1


async def test_waiting_for_a_zone_ends_with_a_routine_button(h: Harness) -> None:
    """After the assumed-zone question, pressing on with the routine reads text as usual again."""
    await h.send("/remind 06:05")
    await h.advance(5 * 60)
    await h.tap("Start now")
    await h.tap("I understand, continue")
    await h.send("how long does this take?")
    assert h.texts()[-2] == h.content.texts("en").replies.expect_answer
    assert h.last().button_texts == ["Yes", "No"]


async def test_waiting_for_a_typed_time_expires(h: Harness) -> None:
    """ "Another time" waits ten minutes for a time; later text is read as usual."""
    await h.send("/remind")
    await h.tap("Another time")
    h.jump(11 * 60)
    await h.send("ok")
    assert h.last().text.startswith("Type /routine to start the stretching routine")


async def test_off_instead_of_a_time_cancels_the_set_up(h: Harness) -> None:
    """ "off" typed where a time is expected is answered and ends the set-up."""
    await h.send("/remind")
    await h.tap("Another time")
    await h.send("off")
    assert h.last().text == "OK, no new reminder."
    await h.send("7pm")
    assert h.last().text.startswith("Type /routine")


async def test_days_buttons_of_an_older_set_up_keep_their_own_time(h: Harness) -> None:
    """ "Every day" under "at 18:00" makes an 18:00 reminder even after a newer set-up began."""
    await h.send("/remind")
    await h.tap("18:00")
    older = h.last()
    await h.send("/remind")
    await h.tap("07:00")
    await h.tap("Every day", message_id=older.message_id)
    assert h.texts()[-2].startswith("Done: I'll remind you at 18:00 every day.")


async def test_skip_on_yesterdays_reminder_skips_todays(h: Harness) -> None:
    """ "Skip today" pressed before today's time, on yesterday's reminder, skips today's."""
    await h.send("/remind 06:30")
    await h.advance(30 * 60)
    yesterday = h.last()
    h.clock.set(datetime(2026, 3, 28, 5, 50, tzinfo=UTC).timestamp())  # type: ignore[union-attr]
    await h.tap("Skip today", message_id=yesterday.message_id)
    assert h.last().text == "Skipped for today. This reminder comes next on Sun 29 Mar, 06:30."
    await h.advance(3600)
    assert reminders_sent(h) == 1


async def test_an_overlapping_reminder_is_a_duplicate(h: Harness) -> None:
    """The same time on a day another reminder already covers is refused."""
    await h.send("/remind 06:10")
    await h.send("/remind 6:10am weekdays")
    assert h.last().text == "You already have a reminder at 06:10 every day."
    assert len(rows(h)) == 1


async def test_deleting_from_an_older_listing_shows_the_current_one(h: Harness) -> None:
    """Deleting the same reminder from a second listing keeps that listing's other buttons."""
    await h.send("/remind 07:00")
    await h.send("/remind 08:00")
    await h.send("/reminders")
    first = h.last()
    await h.send("/reminders")
    second = h.last()
    await h.tap("Delete 07:00 every day", message_id=first.message_id)
    await h.tap("Delete 07:00 every day", message_id=second.message_id)
    assert h.server.callback_answers[-1]["text"] == h.content.texts("en").reminders.gone
    assert second.button_texts == ["Delete 08:00 every day"]


@pytest.mark.parametrize("data", ["sc1:snooze:1.999999999999", "sc1:snooze:1", "sc1:skip:1.15"])
async def test_made_up_snooze_data_is_refused(h: Harness, data: str) -> None:
    """Callback data no button of ours carries changes nothing."""
    await h.send("/remind 06:10")
    await h.advance(10 * 60)
    reminder = h.last()
    await h.process(h.server.user_presses(CHAT, reminder.message_id, data, check_buttons=False))
    assert h.server.callback_answers[-1]["text"] == h.content.texts("en").replies.stale_button
    assert rows(h) == [("06:10", "every_day", "2026-03-28T06:10+00:00", None)]


async def test_a_sixth_reminder_by_buttons_is_refused_at_once(h: Harness) -> None:
    """With five reminders, /remind says so before asking for a time."""
    for hour in range(10, 15):
        await h.send(f"/remind {hour}:00")
    await h.send("/remind")
    assert h.last().text.startswith("You already have 5 reminders")
    assert h.last().buttons == []


async def test_a_chat_that_cannot_be_had_at_the_due_time_gets_its_reminder_a_minute_later(
    h: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The chat's lease cannot be taken when the reminder is due (the database away, the chat
    held by another replica for too long): not lost, tried again a minute later, sent once."""
    await h.send("/remind 06:30")
    await h.advance(29 * 60)
    assert h.bot is not None
    store = h.bot.store
    real_lease = store.lease
    refusals = [1]

    def lease(chat_id: int) -> Any:
        if refusals and refusals.pop():
            raise StoreUnavailable("chat held by another replica")
        return real_lease(chat_id)

    monkeypatch.setattr(store, "lease", lease)
    await h.advance(60)
    assert reminders_sent(h) == 0
    await h.advance(60)
    assert reminders_sent(h) == 1 and utc(h) == "2026-03-27T06:31+00:00"
    await h.advance(3600)
    assert reminders_sent(h) == 1
