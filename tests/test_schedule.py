"""Tests for bot.core.times: parsing /remind and /timezone input and computing due instants."""

from __future__ import annotations

import zoneinfo
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.core import timezones
from bot.core.content import load_content
from bot.core.recurrence import late_policy, next_due, upcoming
from bot.core.times import (
    EVERY_DAY,
    WEEKDAYS,
    WEEKENDS,
    DaysParseError,
    RemindOff,
    RemindRequest,
    TimeParseError,
    format_days_key,
    parse_days,
    parse_days_key,
    parse_remind_args,
    parse_time,
)
from bot.core.timezones import (
    PLACE_ZONES,
    TimezoneFound,
    TimezoneIndex,
    TimezoneMissReason,
    TimezoneSuggestions,
    find_timezone,
    utc_offset_label,
)

# The English words read (content/en.yaml, `words`): the parsers take them as data.
WORDS = load_content().words("en")
BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
LORD_HOWE = ZoneInfo("Australia/Lord_Howe")
KIRITIMATI = ZoneInfo("Pacific/Kiritimati")
MON, TUE, WED, THU, FRI, SAT, SUN = range(7)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    """Build an aware UTC datetime."""
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def local(tz: ZoneInfo, year: int, month: int, day: int, hour: int, minute: int) -> datetime:
    """Build an aware datetime on the wall clock of ``tz`` (first occurrence if repeated)."""
    return datetime(year, month, day, hour, minute, tzinfo=tz)


def wall(instant: datetime, tz: ZoneInfo) -> tuple[date, time]:
    """The local date and wall-clock time of ``instant`` in ``tz``."""
    shown = instant.astimezone(tz)
    return shown.date(), shown.time()


def transitions(tz: ZoneInfo, year: int) -> list[datetime]:
    """UTC instants in ``year`` at which the UTC offset of ``tz`` changes (15-minute scan)."""
    found = []
    t = utc(year, 1, 1)
    previous = t.astimezone(tz).utcoffset()
    while t.year == year:
        offset = t.astimezone(tz).utcoffset()
        if offset != previous:
            found.append(t)
            previous = offset
        t += timedelta(minutes=15)
    return found


# --------------------------------------------------------------------------------------
# parse_time
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("07:30", time(7, 30)),
        ("7:30", time(7, 30)),
        ("0730", time(7, 30)),
        ("19.15", time(19, 15)),
        ("7pm", time(19, 0)),
        ("7 pm", time(19, 0)),
        ("7PM", time(19, 0)),
        ("7:30pm", time(19, 30)),
        ("7.30 am", time(7, 30)),
        ("7 p.m.", time(19, 0)),
        ("12am", time(0, 0)),
        ("12pm", time(12, 0)),
        ("12:30am", time(0, 30)),
        ("19h", time(19, 0)),
        ("19h30", time(19, 30)),
        ("noon", time(12, 0)),
        ("Midnight", time(0, 0)),
        ("00:00", time(0, 0)),
        ("23:59", time(23, 59)),
        ("19", time(19, 0)),
        ("  18:15  ", time(18, 15)),
    ],
)
def test_parse_time_accepts(text: str, expected: time) -> None:
    """Every supported 24-hour, 12-hour and word form parses to the right wall time."""
    assert parse_time(text, WORDS) == expected


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("25:99", "hour_out_of_range"),
        ("24:00", "hour_out_of_range"),
        ("2400", "hour_out_of_range"),
        ("7:60", "minute_out_of_range"),
        ("13pm", "hour_out_of_range_12h"),
        ("0am", "hour_out_of_range_12h"),
        ("7", "ambiguous_hour"),
        ("tomorrow-ish", "unrecognised"),
        ("7:5", "unrecognised"),
        ("19:15:00", "unrecognised"),
        ("19h pm", "unrecognised"),
        ("", "empty"),
        ("   ", "empty"),
    ],
)
def test_parse_time_rejects(text: str, reason: str) -> None:
    """Invalid times raise TimeParseError carrying a reason code and the original text."""
    with pytest.raises(TimeParseError) as caught:
        parse_time(text, WORDS)
    assert caught.value.reason == reason
    assert caught.value.text == text


# --------------------------------------------------------------------------------------
# parse_days / format_days_key
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tokens", "expected"),
    [
        ([], EVERY_DAY),
        (["every", "day"], EVERY_DAY),
        (["Every", "Day"], EVERY_DAY),
        (["daily"], EVERY_DAY),
        (["everyday"], EVERY_DAY),
        (["weekdays"], WEEKDAYS),
        (["WEEKENDS"], WEEKENDS),
        (["mon", "wed", "fri"], {MON, WED, FRI}),
        (["mon,wed,fri"], {MON, WED, FRI}),
        (["mon,", "wed,", "fri"], {MON, WED, FRI}),
        (["Monday", "tuesday"], {MON, TUE}),
        (["mon-fri"], WEEKDAYS),
        (["mon", "-", "wed"], {MON, TUE, WED}),
        (["fri-mon"], {FRI, SAT, SUN, MON}),
        (["tues", "thurs"], {TUE, THU}),
        (["on", "mondays", "and", "fridays"], {MON, FRI}),
        (["weekends", "mon"], {SAT, SUN, MON}),
        ("sun", {SUN}),
        (["mon", "to", "thu"], {MON, TUE, WED, THU}),
        (["Saturday", "through", "monday"], {SAT, SUN, MON}),
        (["each", "day"], EVERY_DAY),
    ],
)
def test_parse_days_accepts(tokens: list[str], expected: set[int]) -> None:
    """Day names, groups and ranges parse case-insensitively to weekday numbers."""
    assert parse_days(tokens, WORDS) == frozenset(expected)


@pytest.mark.parametrize(
    ("tokens", "reason", "text"),
    [
        (["tomorrow"], "unknown_day", "tomorrow"),
        (["mon", "funday"], "unknown_day", "funday"),
        (["mon-xyz"], "unknown_day", "xyz"),
        (["mon-"], "bad_range", "mon-"),
        (["mon-wed-fri"], "bad_range", "mon-wed-fri"),
        (["on"], "no_days", "on"),
        (["to", "fri"], "bad_range", "to"),
        (["mon", "to", "someday"], "unknown_day", "someday"),
    ],
)
def test_parse_days_rejects(tokens: list[str], reason: str, text: str) -> None:
    """Unknown day words and malformed ranges raise DaysParseError with a reason code."""
    with pytest.raises(DaysParseError) as caught:
        parse_days(tokens, WORDS)
    assert (caught.value.reason, caught.value.text) == (reason, text)


@pytest.mark.parametrize(
    ("days", "key"),
    [
        (EVERY_DAY, "every_day"),
        (WEEKDAYS, "weekdays"),
        (WEEKENDS, "weekends"),
        ({FRI, MON, WED}, "mon,wed,fri"),
        ({SUN}, "sun"),
        ({MON, TUE, WED, THU, FRI, SAT}, "mon,tue,wed,thu,fri,sat"),
    ],
)
def test_format_days_key_round_trips(days: set[int], key: str) -> None:
    """Day sets have one stable key, and parse_days_key reads it back."""
    assert format_days_key(days) == key
    assert parse_days_key(key) == frozenset(days)


@pytest.mark.parametrize("days", [set(), {7}, {-1}])
def test_format_days_key_rejects_invalid_sets(days: set[int]) -> None:
    """An empty set or a number outside 0-6 is a programming error."""
    with pytest.raises(ValueError):
        format_days_key(days)


@pytest.mark.parametrize("key", ["", "fri,mon", "mon,mon", "daily", "mon,tue,wed,thu,fri"])
def test_parse_days_key_rejects_non_canonical_keys(key: str) -> None:
    """Only keys that format_days_key produces are read back."""
    with pytest.raises(ValueError):
        parse_days_key(key)


# --------------------------------------------------------------------------------------
# parse_remind_args
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["07:30"], RemindRequest(time(7, 30), EVERY_DAY)),
        (["7pm", "weekdays"], RemindRequest(time(19, 0), WEEKDAYS)),
        (["18:15", "mon", "wed", "fri"], RemindRequest(time(18, 15), frozenset({MON, WED, FRI}))),
        (["7", "pm", "mon"], RemindRequest(time(19, 0), frozenset({MON}))),
        (["7:30", "a.m.", "every", "day"], RemindRequest(time(7, 30), EVERY_DAY)),
        (["7pm weekdays"], RemindRequest(time(19, 0), WEEKDAYS)),
        (["at", "noon", "weekends"], RemindRequest(time(12, 0), WEEKENDS)),
        (["weekdays", "7", "pm"], RemindRequest(time(19, 0), WEEKDAYS)),
        (["off"], RemindOff()),
        (["OFF"], RemindOff()),
    ],
)
def test_parse_remind_args_accepts(args: list[str], expected: RemindRequest | RemindOff) -> None:
    """The /remind argument list yields a time plus days, or RemindOff."""
    assert parse_remind_args(args, WORDS) == expected


@pytest.mark.parametrize(
    ("args", "error", "reason", "text"),
    [
        ([], TimeParseError, "empty", ""),
        (["tomorrow-ish"], TimeParseError, "unrecognised", "tomorrow-ish"),
        (["25:99", "mon"], TimeParseError, "hour_out_of_range", "25:99"),
        (["13", "pm"], TimeParseError, "hour_out_of_range_12h", "13 pm"),
        (["mon", "7"], TimeParseError, "ambiguous_hour", "7"),
        (["soon", "mon"], TimeParseError, "unrecognised", "soon"),
        (["7pm", "tomorrow"], DaysParseError, "unknown_day", "tomorrow"),
        (["off", "mon"], TimeParseError, "unrecognised", "off"),
    ],
)
def test_parse_remind_args_rejects(
    args: list[str], error: type[Exception], reason: str, text: str
) -> None:
    """Bad /remind arguments raise the time or days error for the offending part."""
    with pytest.raises(error) as caught:
        parse_remind_args(args, WORDS)
    assert isinstance(caught.value, TimeParseError | DaysParseError)
    assert (caught.value.reason, caught.value.text) == (reason, text)


def test_remind_request_days_key() -> None:
    """A RemindRequest exposes the storage key of its days."""
    assert RemindRequest(time(7, 0), frozenset({MON, WED})).days_key == "mon,wed"


# --------------------------------------------------------------------------------------
# next_due: ordinary weeks
# --------------------------------------------------------------------------------------


def test_next_due_every_day_later_today() -> None:
    """Before today's time, the reminder is due later the same local day."""
    assert next_due(time(7, 30), EVERY_DAY, BERLIN, utc(2026, 6, 10, 4, 0)) == utc(
        2026, 6, 10, 5, 30
    )


def test_next_due_every_day_tomorrow() -> None:
    """After today's time, the reminder is due at the same local time tomorrow."""
    assert next_due(time(7, 30), EVERY_DAY, BERLIN, utc(2026, 6, 10, 6, 0)) == utc(
        2026, 6, 11, 5, 30
    )


def test_next_due_returns_aware_utc() -> None:
    """The result is an aware datetime in UTC whatever zone `after` is given in."""
    due = next_due(time(7, 30), EVERY_DAY, BERLIN, local(NEW_YORK, 2026, 6, 10, 0, 0))
    assert due.tzinfo is UTC
    assert due == utc(2026, 6, 10, 5, 30)


def test_next_due_weekdays_friday_evening_goes_to_monday() -> None:
    """A weekday reminder asked for on Friday evening is next due on Monday."""
    friday_evening = local(BERLIN, 2026, 6, 12, 20, 0)
    due = next_due(time(18, 15), WEEKDAYS, BERLIN, friday_evening)
    assert wall(due, BERLIN) == (date(2026, 6, 15), time(18, 15))
    assert due.astimezone(BERLIN).weekday() == MON


@pytest.mark.parametrize(
    ("after_local", "expected_date"),
    [
        ((2026, 6, 8, 12, 0), date(2026, 6, 10)),  # Monday after the time -> Wednesday
        ((2026, 6, 10, 9, 0), date(2026, 6, 12)),  # Wednesday after -> Friday
        ((2026, 6, 12, 9, 0), date(2026, 6, 15)),  # Friday after -> next Monday
        ((2026, 6, 7, 12, 0), date(2026, 6, 8)),  # Sunday -> Monday
    ],
)
def test_next_due_chosen_days(
    after_local: tuple[int, int, int, int, int], expected_date: date
) -> None:
    """With chosen days (Mon, Wed, Fri), only those local dates are due."""
    after = local(BERLIN, *after_local)
    due = next_due(time(8, 0), frozenset({MON, WED, FRI}), BERLIN, after)
    assert wall(due, BERLIN) == (expected_date, time(8, 0))


def test_next_due_midnight() -> None:
    """A 00:00 reminder is due at the start of the next chosen local date."""
    due = next_due(time(0, 0), frozenset({SAT}), BERLIN, local(BERLIN, 2026, 6, 12, 23, 59))
    assert due == local(BERLIN, 2026, 6, 13, 0, 0)
    assert due == utc(2026, 6, 12, 22, 0)


def test_next_due_is_strictly_after() -> None:
    """If `after` is exactly a due instant, the next occurrence is returned."""
    first = next_due(time(7, 30), EVERY_DAY, BERLIN, utc(2026, 6, 10, 0, 0))
    second = next_due(time(7, 30), EVERY_DAY, BERLIN, first)
    assert second - first == timedelta(days=1)


def test_next_due_year_end() -> None:
    """A reminder on New Year's Eve evening is next due on 1 January of the next year."""
    due = next_due(time(7, 30), EVERY_DAY, BERLIN, utc(2026, 12, 31, 20, 0))
    assert due == utc(2027, 1, 1, 6, 30)


def test_next_due_year_end_weekly_skips_into_january() -> None:
    """A Monday-only reminder after the last Monday of the year lands in January."""
    due = next_due(time(9, 0), frozenset({MON}), NEW_YORK, utc(2026, 12, 29, 0, 0))
    assert wall(due, NEW_YORK) == (date(2027, 1, 4), time(9, 0))


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"after": datetime(2026, 6, 10, 4, 0)}, "aware"),
        ({"days": frozenset()}, "days"),
        ({"days": frozenset({7})}, "days"),
        ({"local_time": time(7, 30, tzinfo=UTC)}, "naive"),
    ],
)
def test_next_due_rejects_programming_errors(kwargs: dict[str, object], message: str) -> None:
    """Naive `after`, aware `local_time` and empty or invalid days raise ValueError."""
    arguments: dict[str, object] = {
        "local_time": time(7, 30),
        "days": EVERY_DAY,
        "tz": BERLIN,
        "after": utc(2026, 6, 10, 4, 0),
    }
    arguments.update(kwargs)
    with pytest.raises(ValueError, match=message):
        next_due(**arguments)  # type: ignore[arg-type]


def test_upcoming_lists_consecutive_occurrences() -> None:
    """upcoming() walks the schedule n times without repeating an instant."""
    dues = upcoming(time(18, 15), WEEKDAYS, BERLIN, local(BERLIN, 2026, 6, 12, 12, 0), 3)
    assert [wall(d, BERLIN)[0] for d in dues] == [
        date(2026, 6, 12),
        date(2026, 6, 15),
        date(2026, 6, 16),
    ]
    assert upcoming(time(18, 15), WEEKDAYS, BERLIN, utc(2026, 6, 12), 0) == []


# --------------------------------------------------------------------------------------
# next_due: daylight saving
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tz", "change_day"),
    [
        (BERLIN, date(2026, 3, 29)),
        (BERLIN, date(2026, 10, 25)),
        (NEW_YORK, date(2026, 3, 8)),
        (NEW_YORK, date(2026, 11, 1)),
    ],
)
def test_next_due_keeps_local_time_across_dst_change(tz: ZoneInfo, change_day: date) -> None:
    """A 07:30 reminder stays at 07:30 local on the day before, of and after a DST change."""
    start = datetime.combine(change_day - timedelta(days=2), time(12, 0), tzinfo=tz)
    dues = upcoming(time(7, 30), EVERY_DAY, tz, start, 3)
    expected_days = [change_day + timedelta(days=i) for i in (-1, 0, 1)]
    assert [wall(d, tz) for d in dues] == [(day, time(7, 30)) for day in expected_days]
    offsets = {d.astimezone(tz).utcoffset() for d in dues}
    assert len(offsets) == 2  # the UTC instant moved, the wall time did not


@pytest.mark.parametrize(
    ("tz", "change_day", "in_gap", "fires_at_local", "fires_at_utc"),
    [
        (BERLIN, date(2026, 3, 29), time(2, 30), time(3, 30), utc(2026, 3, 29, 1, 30)),
        (BERLIN, date(2026, 3, 29), time(2, 0), time(3, 0), utc(2026, 3, 29, 1, 0)),
        (NEW_YORK, date(2026, 3, 8), time(2, 30), time(3, 30), utc(2026, 3, 8, 7, 30)),
    ],
)
def test_next_due_time_in_spring_forward_gap_is_shifted_not_skipped(
    tz: ZoneInfo, change_day: date, in_gap: time, fires_at_local: time, fires_at_utc: datetime
) -> None:
    """A local time that does not exist on spring-forward day fires one gap length later."""
    after = datetime.combine(change_day, time(0, 0), tzinfo=tz)
    due = next_due(in_gap, EVERY_DAY, tz, after)
    assert due == fires_at_utc
    assert wall(due, tz) == (change_day, fires_at_local)
    following = next_due(in_gap, EVERY_DAY, tz, due)
    assert wall(following, tz) == (change_day + timedelta(days=1), in_gap)


@pytest.mark.parametrize(
    ("tz", "change_day", "repeated", "first_utc"),
    [
        (BERLIN, date(2026, 10, 25), time(2, 30), utc(2026, 10, 25, 0, 30)),
        (NEW_YORK, date(2026, 11, 1), time(1, 30), utc(2026, 11, 1, 5, 30)),
    ],
)
def test_next_due_time_in_repeated_hour_fires_once_at_first_occurrence(
    tz: ZoneInfo, change_day: date, repeated: time, first_utc: datetime
) -> None:
    """A local time that occurs twice on fall-back day fires only at its first occurrence."""
    after = datetime.combine(change_day, time(0, 0), tzinfo=tz)
    due = next_due(repeated, EVERY_DAY, tz, after)
    assert due == first_utc
    second_occurrence = datetime.combine(change_day, repeated.replace(fold=1), tzinfo=tz)
    assert second_occurrence.astimezone(UTC) == due + timedelta(hours=1)
    following = next_due(repeated, EVERY_DAY, tz, due)
    assert wall(following, tz) == (change_day + timedelta(days=1), repeated)
    # Even asking from inside the repeated hour does not yield the second occurrence.
    assert next_due(repeated, EVERY_DAY, tz, due + timedelta(minutes=1)) == following


def test_lord_howe_2026_changes_are_half_hour_shifts() -> None:
    """Australia/Lord_Howe changes its offset twice in 2026, each time by 30 minutes."""
    changes = transitions(LORD_HOWE, 2026)
    assert len(changes) == 2
    for instant in changes:
        before = (instant - timedelta(minutes=15)).astimezone(LORD_HOWE).utcoffset()
        after = instant.astimezone(LORD_HOWE).utcoffset()
        assert before is not None and after is not None
        assert abs(after - before) == timedelta(minutes=30)


def test_next_due_lord_howe_gap_shifts_by_thirty_minutes() -> None:
    """On Lord Howe's spring-forward day, 02:15 (in the 30-minute gap) fires at 02:45."""
    spring = next(
        t for t in transitions(LORD_HOWE, 2026) if t.astimezone(LORD_HOWE).dst() != timedelta(0)
    )
    change_day = spring.astimezone(LORD_HOWE).date()
    after = datetime.combine(change_day, time(0, 0), tzinfo=LORD_HOWE)
    due = next_due(time(2, 15), EVERY_DAY, LORD_HOWE, after)
    assert wall(due, LORD_HOWE) == (change_day, time(2, 45))
    assert due.astimezone(LORD_HOWE).utcoffset() == timedelta(hours=11)


def test_next_due_lord_howe_repeated_half_hour_fires_once() -> None:
    """On Lord Howe's fall-back day, 01:45 occurs twice and fires at the first (+11:00)."""
    autumn = next(
        t for t in transitions(LORD_HOWE, 2026) if t.astimezone(LORD_HOWE).dst() == timedelta(0)
    )
    change_day = autumn.astimezone(LORD_HOWE).date()
    after = datetime.combine(change_day, time(0, 0), tzinfo=LORD_HOWE)
    due = next_due(time(1, 45), EVERY_DAY, LORD_HOWE, after)
    assert wall(due, LORD_HOWE) == (change_day, time(1, 45))
    assert due.astimezone(LORD_HOWE).utcoffset() == timedelta(hours=11)
    following = next_due(time(1, 45), EVERY_DAY, LORD_HOWE, due)
    assert wall(following, LORD_HOWE) == (change_day + timedelta(days=1), time(1, 45))


def test_next_due_lord_howe_keeps_local_time_across_changes() -> None:
    """A 07:30 Lord Howe reminder stays at 07:30 local around both 2026 changes."""
    for change in transitions(LORD_HOWE, 2026):
        change_day = change.astimezone(LORD_HOWE).date()
        start = datetime.combine(change_day - timedelta(days=2), time(12, 0), tzinfo=LORD_HOWE)
        dues = upcoming(time(7, 30), EVERY_DAY, LORD_HOWE, start, 3)
        assert [wall(d, LORD_HOWE)[1] for d in dues] == [time(7, 30)] * 3
        assert dues[2] - dues[1] != dues[1] - dues[0]  # 23.5 h or 24.5 h around the change


def test_next_due_kiritimati_utc_date_is_previous_day() -> None:
    """In Pacific/Kiritimati (UTC+14) a Monday 07:30 reminder is due on Sunday in UTC."""
    due = next_due(time(7, 30), frozenset({MON}), KIRITIMATI, utc(2026, 6, 1, 0, 0))
    # 2026-06-01 00:00 UTC is already Monday 14:00 in Kiritimati, so next Monday.
    assert wall(due, KIRITIMATI) == (date(2026, 6, 8), time(7, 30))
    assert due == utc(2026, 6, 7, 17, 30)
    assert due.weekday() == SUN


def test_next_due_kiritimati_year_end() -> None:
    """Kiritimati reaches the new year while UTC is still on 31 December."""
    due = next_due(time(0, 0), EVERY_DAY, KIRITIMATI, utc(2026, 12, 31, 9, 0))
    assert due == utc(2026, 12, 31, 10, 0)
    assert wall(due, KIRITIMATI) == (date(2027, 1, 1), time(0, 0))


# --------------------------------------------------------------------------------------
# late_policy
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("late_by", "expected"),
    [
        (timedelta(0), "send"),
        (timedelta(minutes=29), "send"),
        (timedelta(minutes=30), "send"),
        (timedelta(minutes=30, seconds=1), "skip"),
        (timedelta(hours=9), "skip"),
        (-timedelta(milliseconds=5), "send"),
    ],
)
def test_late_policy(late_by: timedelta, expected: str) -> None:
    """A missed reminder is sent if at most `grace` late (boundary included), else skipped."""
    due = utc(2026, 6, 10, 5, 30)
    assert late_policy(due, due + late_by, timedelta(minutes=30)) == expected


def test_late_policy_rejects_negative_grace() -> None:
    """A negative grace period is a programming error."""
    with pytest.raises(ValueError):
        late_policy(utc(2026, 1, 1), utc(2026, 1, 1), timedelta(seconds=-1))


# --------------------------------------------------------------------------------------
# find_timezone / utc_offset_label
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "key"),
    [
        ("Europe/Berlin", "Europe/Berlin"),
        ("europe/berlin", "Europe/Berlin"),
        ("AMERICA/NEW YORK", "America/New_York"),
        ("berlin", "Europe/Berlin"),
        ("  Berlin  ", "Europe/Berlin"),
        ("new york", "America/New_York"),
        ("New York", "America/New_York"),
        ("newyork", "America/New_York"),
        ("sao paulo", "America/Sao_Paulo"),
        ("São Paulo", "America/Sao_Paulo"),
        ("kyiv", "Europe/Kyiv"),
        ("kiev", "Europe/Kyiv"),
        ("buenos aires", "America/Argentina/Buenos_Aires"),
        ("Berlin, Germany", "Europe/Berlin"),
        ("amsterdam", "Europe/Amsterdam"),
        ("UTC", "UTC"),
        ("utc", "UTC"),
        ("US/Eastern", "America/New_York"),
        ("Pacific/Kiritimati", "Pacific/Kiritimati"),
        ("Nueva York", "America/New_York"),
        ("Londres", "Europe/London"),
        ("Ciudad de México", "America/Mexico_City"),
        ("Tenerife", "Atlantic/Canary"),
    ],
)
def test_find_timezone_exact(query: str, key: str) -> None:
    """IANA keys (any case), city names (with spaces or accents, in English or Spanish) and UTC
    match exactly."""
    match = find_timezone(query)
    assert isinstance(match, TimezoneFound)
    assert match.key == key
    assert match.zone == ZoneInfo(key)


@pytest.mark.parametrize(
    ("query", "reason", "must_suggest"),
    [
        ("berln", "unknown", "Europe/Berlin"),
        ("new yrok", "unknown", "America/New_York"),
        ("Europe/Berln", "unknown", "Europe/Berlin"),
        ("EST", "abbreviation", "America/New_York"),
        ("cet", "abbreviation", "Europe/Berlin"),
        ("IST", "abbreviation", "Asia/Kolkata"),
        ("San José", "ambiguous", "America/Costa_Rica"),
        ("Estados Unidos", "ambiguous", "America/New_York"),
    ],
)
def test_find_timezone_suggests(query: str, reason: str, must_suggest: str) -> None:
    """Misspellings and ambiguous abbreviations give up to five suggestions, not a match."""
    match = find_timezone(query)
    assert isinstance(match, TimezoneSuggestions)
    assert match.reason == reason
    assert must_suggest in match.suggestions
    assert 0 < len(match.suggestions) <= 5


@pytest.mark.parametrize(("query", "reason"), [("Mars/Olympus", "unknown"), ("", "empty")])
def test_find_timezone_nonsense(query: str, reason: TimezoneMissReason) -> None:
    """Nonsense finds no zone and offers no suggestions."""
    assert find_timezone(query) == TimezoneSuggestions(query, reason, ())


def test_find_timezone_ambiguous_city_gives_suggestions() -> None:
    """A city name under several regions that are different zones is ambiguous."""
    index = TimezoneIndex(
        ["America/Springfield", "Europe/Springfield", "Asia/Nicosia", "Europe/Nicosia"],
        {"Europe/Nicosia": "Asia/Nicosia"},
    )
    assert index.find("springfield") == TimezoneSuggestions(
        "springfield", "ambiguous", ("America/Springfield", "Europe/Springfield")
    )


@pytest.mark.parametrize("query", ["nicosia", "istanbul", "indianapolis"])
def test_find_timezone_aliases_of_one_zone_are_not_ambiguous(query: str) -> None:
    """A city listed under two keys that tzdata links to one zone matches exactly."""
    assert isinstance(find_timezone(query), TimezoneFound)


def _default_index() -> TimezoneIndex:
    """The index find_timezone uses, built over the installed tz database."""
    return timezones._default_index()


def _offered(match: TimezoneFound | TimezoneSuggestions) -> tuple[str, ...]:
    """Every key a match returns: the found key, or the suggestions."""
    return (match.key,) if isinstance(match, TimezoneFound) else match.suggestions


def _offsets_2026(key: str) -> set[timedelta | None]:
    """The UTC offsets of ``key`` in mid-January and mid-July 2026."""
    zone = ZoneInfo(key)
    return {utc(2026, month, 15, 12).astimezone(zone).utcoffset() for month in (1, 7)}


@pytest.mark.parametrize(
    ("query", "key"),
    [
        ("delhi", "Asia/Kolkata"),
        ("New Delhi", "Asia/Kolkata"),
        ("mumbai", "Asia/Kolkata"),
        ("bangalore", "Asia/Kolkata"),
        ("beijing", "Asia/Shanghai"),
        ("san francisco", "America/Los_Angeles"),
        ("sanfrancisco", "America/Los_Angeles"),
        ("boston", "America/New_York"),
        ("seattle", "America/Los_Angeles"),
        ("miami", "America/New_York"),
        ("houston", "America/Chicago"),
        ("dallas", "America/Chicago"),
        ("atlanta", "America/New_York"),
        ("munich", "Europe/Berlin"),
        ("München", "Europe/Berlin"),
        ("frankfurt", "Europe/Berlin"),
        ("milan", "Europe/Rome"),
        ("barcelona", "Europe/Madrid"),
        ("wellington", "Pacific/Auckland"),
        ("ottawa", "America/Toronto"),
        ("edinburgh", "Europe/London"),
        ("NYC", "America/New_York"),
        ("LA", "America/Los_Angeles"),
        ("SF", "America/Los_Angeles"),
        ("DC", "America/New_York"),
        ("Washington, D.C.", "America/New_York"),
        ("st petersburg", "Europe/Moscow"),
        ("St. Petersburg", "Europe/Moscow"),
        ("saint petersburg", "Europe/Moscow"),
        ("saint louis", "America/Chicago"),
        ("salvador", "America/Bahia"),
        ("germany", "Europe/Berlin"),
        ("india", "Asia/Kolkata"),
        ("uk", "Europe/London"),
        ("United Kingdom", "Europe/London"),
        ("england", "Europe/London"),
        ("scotland", "Europe/London"),
        ("wales", "Europe/London"),
        ("china", "Asia/Shanghai"),
        ("japan", "Asia/Tokyo"),
        ("spain", "Europe/Madrid"),
        ("france", "Europe/Paris"),
        ("italy", "Europe/Rome"),
        ("netherlands", "Europe/Amsterdam"),
        ("poland", "Europe/Warsaw"),
        ("ukraine", "Europe/Kyiv"),
        ("turkey", "Europe/Istanbul"),
        ("south africa", "Africa/Johannesburg"),
        ("egypt", "Africa/Cairo"),
        ("nigeria", "Africa/Lagos"),
        ("kenya", "Africa/Nairobi"),
        ("israel", "Asia/Jerusalem"),
        ("saudi arabia", "Asia/Riyadh"),
        ("UAE", "Asia/Dubai"),
        ("singapore", "Asia/Singapore"),
        ("south korea", "Asia/Seoul"),
        ("korea", "Asia/Seoul"),
        ("thailand", "Asia/Bangkok"),
        ("vietnam", "Asia/Ho_Chi_Minh"),
        ("philippines", "Asia/Manila"),
        ("new zealand", "Pacific/Auckland"),
        ("argentina", "America/Argentina/Buenos_Aires"),
        ("colombia", "America/Bogota"),
        ("peru", "America/Lima"),
        ("chile", "America/Santiago"),
        ("ireland", "Europe/Dublin"),
        ("portugal", "Europe/Lisbon"),
        ("Victoria, Canada", "America/Vancouver"),
        ("Mumbai, India", "Asia/Kolkata"),
    ],
)
def test_find_timezone_curated_places(query: str, key: str) -> None:
    """Well-known cities, short forms and single-zone countries that are not keys match."""
    match = find_timezone(query)
    assert isinstance(match, TimezoneFound)
    assert match.key == key


@pytest.mark.parametrize(
    ("query", "suggestions"),
    [
        (
            "usa",
            (
                "America/New_York",
                "America/Chicago",
                "America/Los_Angeles",
                "America/Denver",
                "America/Phoenix",
            ),
        ),
        ("united states", ("America/New_York", "America/Chicago", "America/Los_Angeles")),
        ("US", ("America/New_York", "America/Chicago", "America/Los_Angeles")),
        ("canada", ("America/Toronto", "America/Vancouver", "America/Edmonton")),
        ("australia", ("Australia/Sydney", "Australia/Melbourne", "Australia/Brisbane")),
        ("russia", ("Europe/Moscow", "Asia/Yekaterinburg")),
        ("brazil", ("America/Sao_Paulo", "America/Manaus")),
        ("mexico", ("America/Mexico_City",)),
        ("indonesia", ("Asia/Jakarta", "Asia/Makassar", "Asia/Jayapura")),
        ("washington", ("America/New_York", "America/Los_Angeles")),
        ("victoria", ("America/Vancouver", "Australia/Melbourne")),
        ("Smalltown, USA", ("America/New_York", "America/Chicago")),
    ],
)
def test_find_timezone_places_spanning_zones_are_ambiguous(
    query: str, suggestions: tuple[str, ...]
) -> None:
    """Countries and names spanning several zones offer their main zones, most populous first."""
    match = find_timezone(query)
    assert isinstance(match, TimezoneSuggestions)
    assert match.reason == "ambiguous"
    assert match.suggestions[: len(suggestions)] == suggestions
    assert len(match.suggestions) <= 5


@pytest.mark.parametrize(
    ("query", "key"),
    [
        ("Australia/Victoria", "Australia/Melbourne"),
        ("Australia/LHI", "Australia/Lord_Howe"),
        ("Brazil/East", "America/Sao_Paulo"),
        ("Canada/Eastern", "America/Toronto"),
        ("US/Pacific", "America/Los_Angeles"),
        ("Europe/Kiev", "Europe/Kyiv"),
        ("Asia/Calcutta", "Asia/Kolkata"),
        ("GB", "Europe/London"),
        ("Navajo", "America/Denver"),
    ],
)
def test_find_timezone_legacy_key_resolves_to_its_target(query: str, key: str) -> None:
    """A legacy alias typed as a full key is accepted as the zone it links to."""
    match = find_timezone(query)
    assert isinstance(match, TimezoneFound)
    assert match.key == key


@pytest.mark.parametrize(
    ("query", "key"),
    [
        ("amsterdam", "Europe/Amsterdam"),
        ("Europe/Amsterdam", "Europe/Amsterdam"),
        ("oslo", "Europe/Oslo"),
        ("stockholm", "Europe/Stockholm"),
        ("kuala lumpur", "Asia/Kuala_Lumpur"),
    ],
)
def test_find_timezone_keeps_current_place_keys_that_are_links(query: str, key: str) -> None:
    """A link listed in zone.tab is the current key of its place and is returned as is."""
    match = find_timezone(query)
    assert isinstance(match, TimezoneFound)
    assert match.key == key


@pytest.mark.parametrize(
    ("query", "unwanted"),
    [
        ("delhi", "Australia/LHI"),
        ("lhi", "Australia/LHI"),
        ("victoria", "Australia/Victoria"),
        ("west", "Australia/West"),
        ("north", "Australia/North"),
        ("east", "Brazil/East"),
        ("eastern", "Canada/Eastern"),
        ("pacific", "US/Pacific"),
        ("china", "Asia/Chita"),
        ("china", "Europe/Chisinau"),
        ("st petersburg", "America/Indiana/Petersburg"),
        ("salvador", "America/El_Salvador"),
    ],
)
def test_find_timezone_reviewer_misses_are_gone(query: str, unwanted: str) -> None:
    """Legacy alias keys and lookalike city names are no longer offered for these inputs."""
    assert unwanted not in _offered(find_timezone(query))


@pytest.mark.parametrize("query", ["UTC", "utc", "Z", "Zulu", "UCT", "Etc/UTC", "etc/utc"])
def test_find_timezone_utc_names_are_exact(query: str) -> None:
    """The names of UTC itself set the zone "UTC"."""
    match = find_timezone(query)
    assert isinstance(match, TimezoneFound)
    assert match.key == "UTC"


@pytest.mark.parametrize(
    ("query", "first", "also"),
    [
        ("GMT", "Europe/London", ("UTC",)),
        ("gmt", "Europe/London", ("UTC",)),
        ("Etc/GMT", "Europe/London", ("UTC",)),
        ("BST", "Europe/London", ()),
        ("SGT", "Asia/Singapore", ()),
        ("HKT", "Asia/Hong_Kong", ()),
        ("IST", "Asia/Kolkata", ("Europe/Dublin", "Asia/Jerusalem")),
        ("JST", "Asia/Tokyo", ()),
        ("KST", "Asia/Seoul", ()),
        ("AEST", "Australia/Sydney", ()),
        ("AEDT", "Australia/Sydney", ()),
        ("CET", "Europe/Berlin", ("Europe/Paris",)),
        ("CEST", "Europe/Berlin", ("Europe/Paris",)),
        ("EST", "America/New_York", ()),
        ("EDT", "America/New_York", ()),
        ("CST", "America/Chicago", ("Asia/Shanghai",)),
        ("CDT", "America/Chicago", ()),
        ("MST", "America/Denver", ("America/Phoenix",)),
        ("PST", "America/Los_Angeles", ()),
        ("PDT", "America/Los_Angeles", ()),
        ("EST5EDT", "America/New_York", ()),
    ],
)
def test_find_timezone_abbreviations_offer_places(
    query: str, first: str, also: tuple[str, ...]
) -> None:
    """Abbreviations, GMT included, are never exact: the likeliest places are offered first."""
    match = find_timezone(query)
    assert isinstance(match, TimezoneSuggestions)
    assert match.reason == "abbreviation"
    assert match.suggestions[0] == first
    assert set(also) <= set(match.suggestions)
    assert len(match.suggestions) <= 5


def test_find_timezone_bst_offers_only_london() -> None:
    """BST is British Summer Time: London is the one place offered."""
    assert find_timezone("BST") == TimezoneSuggestions("BST", "abbreviation", ("Europe/London",))


@pytest.mark.parametrize(
    ("query", "hours", "must_offer"),
    [
        ("UTC+2", 2, "Africa/Johannesburg"),
        ("GMT+2", 2, "Europe/Berlin"),
        ("utc + 2", 2, "Africa/Cairo"),
        ("+02:00", 2, "Europe/Kyiv"),
        ("UTC-5", -5, "America/New_York"),
        ("UTC\u22125", -5, "America/Bogota"),
        ("GMT-3", -3, "America/Sao_Paulo"),
        ("UTC+5:30", 5.5, "Asia/Kolkata"),
        ("+0545", 5.75, "Asia/Kathmandu"),
        ("UTC+8", 8, "Asia/Shanghai"),
        ("UTC+0", 0, "UTC"),
        ("UTC+14", 14, "Pacific/Kiritimati"),
    ],
)
def test_find_timezone_offsets_offer_zones_at_that_offset(
    query: str, hours: float, must_offer: str
) -> None:
    """A typed UTC offset is never set as a fixed zone: zones at that offset are offered."""
    match = find_timezone(query)
    assert isinstance(match, TimezoneSuggestions)
    assert match.reason == "abbreviation"
    assert must_offer in match.suggestions
    assert 0 < len(match.suggestions) <= 5
    for key in match.suggestions:
        assert timedelta(hours=hours) in _offsets_2026(key)


@pytest.mark.parametrize(
    ("query", "first"),
    [("UTC-5", "America/New_York"), ("UTC+5:30", "Asia/Kolkata"), ("UTC+0", "UTC")],
)
def test_find_timezone_offset_suggestions_start_with_the_biggest_zone(
    query: str, first: str
) -> None:
    """The most populous zone at an offset is offered first."""
    match = find_timezone(query)
    assert isinstance(match, TimezoneSuggestions)
    assert match.suggestions[0] == first


def test_find_timezone_etc_gmt_offers_both_readings() -> None:
    """Etc/GMT+2 means UTC-2 in POSIX but reads as UTC+2: zones for both are offered."""
    match = find_timezone("Etc/GMT+2")
    assert isinstance(match, TimezoneSuggestions)
    assert match.reason == "abbreviation"
    offsets = [_offsets_2026(key) for key in match.suggestions]
    assert timedelta(hours=2) in offsets[0]
    assert any(timedelta(hours=-2) in found for found in offsets)


def test_find_timezone_etc_gmt_minus_14_is_kiritimati() -> None:
    """Etc/GMT-14 can only mean UTC+14, so Kiritimati is offered."""
    assert find_timezone("Etc/GMT-14") == TimezoneSuggestions(
        "Etc/GMT-14", "abbreviation", ("Pacific/Kiritimati",)
    )


@pytest.mark.parametrize("query", ["UTC+20", "GMT-13", "UTC+7:61"])
def test_find_timezone_impossible_offset_is_unknown(query: str) -> None:
    """An offset no place on Earth uses finds nothing and offers nothing."""
    assert find_timezone(query) == TimezoneSuggestions(query, "unknown", ())


@pytest.mark.parametrize(
    ("at", "first", "absent"),
    [
        (utc(2026, 7, 1), "Europe/Berlin", "Europe/Kyiv"),
        (utc(2026, 1, 15), "Africa/Cairo", "Europe/Berlin"),
    ],
)
def test_find_timezone_offset_at_an_instant(at: datetime, first: str, absent: str) -> None:
    """Given ``at``, only zones at the typed offset at that instant are offered."""
    match = find_timezone("UTC+2", at=at)
    assert isinstance(match, TimezoneSuggestions)
    assert match.suggestions[0] == first
    assert absent not in match.suggestions
    assert all(
        at.astimezone(ZoneInfo(k)).utcoffset() == timedelta(hours=2) for k in match.suggestions
    )


@pytest.mark.parametrize(
    "query", sorted(k for k in zoneinfo.available_timezones() if k.startswith("Etc/"))
)
def test_find_timezone_never_returns_etc_keys(query: str) -> None:
    """Etc keys other than UTC are never found nor suggested, whatever is typed."""
    match = find_timezone(query)
    assert not isinstance(match, TimezoneFound) or match.key == "UTC"
    assert not any(k.startswith("Etc/") for k in _offered(match))


def test_place_table_is_consistent() -> None:
    """Every curated place names at most five current, loadable zones and is found as listed."""
    index = _default_index()
    assert len(PLACE_ZONES) >= 300
    for name, zones in PLACE_ZONES.items():
        assert 1 <= len(zones) <= 5, name
        assert set(zones) <= index.storable, name
        expected: TimezoneFound | TimezoneSuggestions = (
            TimezoneFound(zones[0], ZoneInfo(zones[0]))
            if len(zones) == 1
            else TimezoneSuggestions(name, "ambiguous", zones)
        )
        assert find_timezone(name) == expected


def _sweep_queries() -> list[str]:
    """Every curated name, plus misspellings dropping its first, middle or last letter."""
    queries: list[str] = []
    for name in PLACE_ZONES:
        queries.append(name)
        for i in {0, len(name) // 2, len(name) - 1}:
            queries.append(name[:i] + name[i + 1 :])
    return [q for q in dict.fromkeys(queries) if q.strip()]


def test_find_timezone_sweep_never_offers_legacy_or_etc_keys() -> None:
    """Over curated names and their misspellings, no result is a legacy alias or Etc key."""
    index = _default_index()
    queries = _sweep_queries()
    assert len(queries) > 1000
    for query in queries:
        for key in _offered(find_timezone(query)):
            assert key not in index.legacy_aliases, (query, key)
            assert key in index.storable, (query, key)
            assert not key.startswith("Etc/"), (query, key)


def test_find_timezone_misspelled_places_offer_their_zone() -> None:
    """Dropping one letter of a curated name of six letters or more still offers its zone."""
    for name, zones in PLACE_ZONES.items():
        if len(name) < 6:
            continue
        for i in {0, len(name) // 2, len(name) - 1}:
            query = name[:i] + name[i + 1 :]
            assert zones[0] in _offered(find_timezone(query)), (name, query)


@pytest.mark.parametrize(
    ("query", "first"),
    [
        ("mumbia", "Asia/Kolkata"),
        ("bejing", "Asia/Shanghai"),
        ("san fran", "America/Los_Angeles"),
        ("los", "America/Los_Angeles"),
        ("chna", "Asia/Shanghai"),
    ],
)
def test_find_timezone_similar_ranks_prefixes_and_big_places_first(query: str, first: str) -> None:
    """Unknown text offers names starting with it, then close spellings, biggest places first."""
    match = find_timezone(query)
    assert isinstance(match, TimezoneSuggestions)
    assert match.reason == "unknown"
    assert match.suggestions[0] == first


def test_timezone_index_legacy_links_are_not_cities() -> None:
    """In a custom index, a link outside ``locations`` is no city but resolves as a key."""
    index = TimezoneIndex(
        ["Europe/Brussels", "Europe/Amsterdam", "Australia/Melbourne", "Australia/Chisholm"],
        {"Europe/Amsterdam": "Europe/Brussels", "Australia/Chisholm": "Australia/Melbourne"},
        {"Europe/Brussels", "Europe/Amsterdam", "Australia/Melbourne"},
    )
    assert index.find("amsterdam") == TimezoneFound(
        "Europe/Amsterdam", ZoneInfo("Europe/Amsterdam")
    )
    assert index.find("chisholm") == TimezoneSuggestions("chisholm", "unknown", ())
    found = index.find("Australia/Chisholm")
    assert isinstance(found, TimezoneFound)
    assert found.key == "Australia/Melbourne"


@pytest.mark.parametrize(
    ("tz", "at", "label"),
    [
        (BERLIN, utc(2026, 1, 15), "UTC+01:00"),
        (BERLIN, utc(2026, 7, 15), "UTC+02:00"),
        (NEW_YORK, utc(2026, 1, 15), "UTC-05:00"),
        (LORD_HOWE, utc(2026, 1, 15), "UTC+11:00"),
        (LORD_HOWE, utc(2026, 7, 15), "UTC+10:30"),
        (KIRITIMATI, utc(2026, 7, 15), "UTC+14:00"),
        (ZoneInfo("America/St_Johns"), utc(2026, 1, 15), "UTC-03:30"),
        (ZoneInfo("UTC"), utc(2026, 1, 15), "UTC+00:00"),
    ],
)
def test_utc_offset_label(tz: ZoneInfo, at: datetime, label: str) -> None:
    """The label shows the zone's signed offset at the given instant."""
    assert utc_offset_label(tz, at) == label
