"""Progress a person can see and hand over, and their data theirs: pain before and after, the
history, /progress (chart, streak), /export (CSV), /privacy, /forget and the inactive sweep.
With the shipped content (the pain question on, a 10 s get-ready count)."""

from __future__ import annotations

import csv
import io
import sqlite3
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from PIL import Image

from bot.core.content import Content
from bot.core.history import Routine, report
from bot.media.chart import Labels, draw
from tests.support.harness import CHAT, Harness

DAY = 86400.0


@pytest.fixture
async def h(tmp_path: Path, shipped_content: Content) -> AsyncIterator[Harness]:
    harness = Harness(tmp_path, shipped_content)
    await harness.start()
    yield harness
    await harness.stop()
    assert harness.server.spec_violations == [] and harness.server.protocol_errors == []
    assert harness.server.unanswered_callbacks == set()


def rows(h: Harness, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(h.database) as db:
        return db.execute(sql).fetchall()


async def routine(h: Harness, before: str | None, after: str | None, *, first: bool) -> None:
    """One whole routine, with pain scores (None: Skip)."""
    if first:
        await h.send("/start")
        await h.tap("I understand, continue")
        await h.pass_safety_check()
    else:
        await h.send("/routine")
        await h.tap("No, nothing new")
    assert h.last().text.startswith("Before we start: how much does it hurt right now?")
    await h.tap(before or "Skip")
    await h.tap("I'm warm")
    for _ in range(4):
        await h.tap("Start hold")
        await h.advance(10 + 30 + 15)
    assert h.last().text.startswith("And now, after the stretches: how much does it hurt?")
    await h.tap(after or "Skip")


async def test_pain_before_and_after_are_asked_and_the_routine_is_kept(h: Harness) -> None:
    await h.send("/start")
    await h.tap("I understand, continue")
    await h.pass_safety_check()
    question = h.last()
    assert question.button_texts == [*map(str, range(11)), "Skip"]
    assert [len(row) for row in question.buttons] == [6, 5, 1]  # 0-5, 6-10, Skip
    await h.tap("6")
    assert h.last().text.startswith("First, warm up")
    await h.tap("I'm warm")
    for _ in range(4):
        await h.tap("Start hold")
        await h.advance(10 + 30 + 15)
    assert h.texts()[-2].startswith("Well done, that's the routine")
    await h.tap("3")
    assert h.texts()[-2] == "Thanks. Type /progress to see how it's going."
    assert h.last().text.startswith("Shall I remind you every day")  # then the offer
    ((outcome, holds, before, after, ended),) = rows(
        h, "SELECT outcome, holds, pain_before, pain_after, ended_at FROM routines"
    )
    assert (outcome, holds, before, after) == (
        "finished",
        "[[0, 30], [1, 30], [2, 30], [3, 30]]",
        6,
        3,
    )
    assert ended is not None


async def test_a_routine_cancelled_or_ended_is_kept_with_how_it_ended(h: Harness) -> None:
    await h.to_first_card()
    await h.send("/cancel")
    h.jump(60)
    await h.send("/routine")
    await h.tap("No, nothing new")
    await h.tap("Skip")
    await h.tap("I'm warm")
    await h.tap("⏹ Stop")
    await h.tap("No")  # no numbness
    await h.tap("Yes, it's settling")
    await h.tap("End for today")
    assert [r[0] for r in rows(h, "SELECT outcome FROM routines ORDER BY begun_at")] == [
        "cancelled",
        "stopped",
    ]


async def test_worse_after_than_before_twice_in_a_row_advises_a_gp_once(h: Harness) -> None:
    def advice() -> list[str]:
        return [t for t in h.texts() if t.startswith("Your pain was worse after the stretches")]

    await routine(h, "3", "5", first=True)
    assert advice() == []
    await routine(h, "4", "6", first=False)
    (said,) = advice()
    assert said.startswith("Your pain was worse after the stretches than before, 2 times in a row.")
    assert "Please see a GP or a physiotherapist before you carry on" in said
    await routine(h, "4", "7", first=False)  # the same day: not said again within a week
    assert len(advice()) == 1


async def test_pain_no_better_over_three_weeks_advises_a_gp(h: Harness) -> None:
    await routine(h, "5", "4", first=True)
    for _ in range(3):
        h.jump(7 * DAY)
        await h.advance(0)
        await routine(h, "5", "4", first=False)
        await h.tap("No thanks") if "No thanks" in h.last().button_texts else None
    assert any(
        t.startswith("Your pain has not got better over the last 21 days") for t in h.texts()
    )


async def test_settings_turn_the_pain_question_off(h: Harness) -> None:
    await h.send("/settings")
    await h.tap("Pain question: on")
    await h.send("/start")
    await h.tap("I understand, continue")
    await h.pass_safety_check()
    assert h.last().text.startswith("First, warm up")


async def test_progress_with_no_data_then_a_chart_the_streak_and_a_rest_day(h: Harness) -> None:
    await h.send("/progress")
    assert h.last().text.startswith("Nothing to show yet.")
    await routine(h, "6", "3", first=True)
    await h.send("/progress")
    chart = h.last()
    assert chart.photo_bytes is not None
    assert Image.open(io.BytesIO(chart.photo_bytes)).size == (1000, 700)
    assert chart.caption == (
        "Routines in the last 30 days: 1. Days in a row: 1.\n"
        "Pain after is 3 points lower than before, on average."
    )
    h.jump(DAY)
    await h.tap("🛌 Rest day today", message_id=chart.message_id)
    assert h.server.callback_answers[-1]["text"] == "Rest day noted: your streak carries on."
    assert len(rows(h, "SELECT day FROM rest_days")) == 1
    await h.send("/progress")
    assert "Days in a row: 2." in (h.last().caption or "")


def test_the_report_is_drawn_from_the_expected_points() -> None:
    """Days in the user's zone, averages per day, the streak through a rest day."""
    zone = ZoneInfo("America/New_York")
    now = 1_795_000_000.0  # 2026-11-18 08:26 in New York
    routines = [
        Routine(now - 2 * DAY, True, 6, 4),
        Routine(now - 2 * DAY + 60, True, 4, 2),  # the same day: averaged
        Routine(now - 1 * DAY, False, 5, None),  # not finished: no day done
        Routine(now, True, 3, 1),
    ]
    shown = report(routines, [date(2026, 11, 17)], now, zone, window=30)
    last = shown.days[-3:]
    assert [d.day for d in last] == [date(2026, 11, 16), date(2026, 11, 17), date(2026, 11, 18)]
    assert [(d.done, d.rest, d.pain_before, d.pain_after) for d in last] == [
        (True, False, 5, 3),
        (False, True, 5, None),
        (True, False, 3, 1),
    ]
    assert (shown.routines, shown.streak, shown.change) == (3, 3, -2)
    png = draw(shown, Labels("t", "b", "a", "d", "r", "p"))
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and Image.open(io.BytesIO(png)).size == (1000, 700)


async def test_export_is_a_csv_of_every_routine_and_the_safety_answers(h: Harness) -> None:
    await routine(h, "6", "3", first=True)
    await h.send("/timezone Europe/Berlin")
    await h.send("/export")
    sent = h.last()
    assert sent.document == "stretch-coach.csv" and sent.document_bytes is not None
    table = list(csv.reader(io.StringIO(sent.document_bytes.decode("utf-8-sig"))))
    assert table[0] == [
        "record", "date", "time", "outcome", "holds", "pain_before", "pain_after", "stops",
        "detail",
    ]  # fmt: skip
    routine_row = table[1]
    assert routine_row[0] == "routine" and routine_row[3] == "finished"
    assert routine_row[4].startswith("Exercise 1: seated twist, Right knee bent: 30 s; ")
    assert routine_row[5:8] == ["6", "3", "0"]
    kinds = [r[0] for r in table[2:]]
    assert ["screening", "conditions=none"] in [[r[0], r[8]] for r in table]
    assert "consent" in kinds
    assert ["setting", "", "", "", "", "", "", "", "time zone = Europe/Berlin"] in table


async def test_privacy_says_what_is_kept_and_for_how_long(h: Harness) -> None:
    await h.send("/privacy")
    assert "kept for 365 days in case you come back" in h.last().text


async def test_forget_deletes_every_row_about_the_user(h: Harness) -> None:
    await routine(h, "6", "3", first=True)
    await h.tap("Yes, daily at 20:00") if any(
        b.startswith("Yes, daily") for b in h.last().button_texts
    ) else None
    await h.send("/progress")
    await h.tap("🛌 Rest day today")
    other = CHAT + 1
    await h.to_first_card(other)  # somebody else, who stays
    await h.send("/forget")
    await h.tap("Keep my data")
    assert h.last().text == "Nothing was deleted."
    assert rows(h, f"SELECT COUNT(*) FROM chats WHERE chat_id = {CHAT}") == [(1,)]
    await h.send("/forget")
    await h.tap("Delete everything")
    assert h.last().text.startswith("Done: everything about you is deleted.")
    for table in ("chats", "reminders", "safety_log", "routines", "rest_days"):
        assert rows(h, f"SELECT COUNT(*) FROM {table} WHERE chat_id = {CHAT}") == [(0,)], table
    assert rows(h, f"SELECT COUNT(*) FROM chats WHERE chat_id = {other}") == [(1,)]
    await h.send("/start")  # from nothing: the disclaimer again
    assert h.last().button_texts == ["I understand, continue", "No thanks"]


async def test_the_data_of_users_who_blocked_the_bot_is_deleted_after_a_year(h: Harness) -> None:
    await h.to_first_card()
    await h.to_first_card(CHAT + 1)
    await h.process(h.server.user_blocks(CHAT))
    h.jump(364 * DAY)
    await h.advance(DAY - 60)
    assert rows(h, f"SELECT COUNT(*) FROM chats WHERE chat_id = {CHAT}") == [(1,)]
    await h.advance(2 * DAY)
    assert rows(h, f"SELECT COUNT(*) FROM chats WHERE chat_id = {CHAT}") == [(0,)]
    assert rows(h, f"SELECT COUNT(*) FROM safety_log WHERE chat_id = {CHAT}") == [(0,)]
    assert rows(h, f"SELECT COUNT(*) FROM chats WHERE chat_id = {CHAT + 1}") == [(1,)]
