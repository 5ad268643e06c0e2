"""What users type for reminders, as values: a wall-clock time, a set of weekdays, /remind's
arguments. Pure: parse failures are exceptions with a machine `reason` and the offending text;
the bot maps reasons to texts from content. Knows nothing of Telegram, storage or clocks."""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import time
from typing import Literal, TypeAlias

__all__ = [
    "EVERY_DAY",
    "WEEKDAYS",
    "WEEKENDS",
    "Days",
    "DaysParseError",
    "DaysReason",
    "RemindOff",
    "RemindRequest",
    "ScheduleParseError",
    "TimeParseError",
    "TimeReason",
    "format_days_key",
    "parse_days",
    "parse_days_key",
    "parse_remind_args",
    "parse_time",
]

# --------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------

TimeReason: TypeAlias = Literal[
    "empty",  # nothing was given
    "unrecognised",  # not a time in any accepted form
    "hour_out_of_range",  # 24-hour clock hour outside 0-23 ("25:00", "24:00")
    "hour_out_of_range_12h",  # am/pm hour outside 1-12 ("13pm", "0am")
    "minute_out_of_range",  # minutes outside 0-59 ("7:60")
    "ambiguous_hour",  # bare "7": could be 07:00 or 19:00
]

DaysReason: TypeAlias = Literal[
    "unknown_day",  # a word that is not a day, day group or range ("tomorrow")
    "bad_range",  # a malformed range ("mon-", "mon-wed-fri")
    "no_days",  # only filler words ("on", "and") and no day at all
]


class ScheduleParseError(ValueError):
    """Base class: user input that could not be parsed; ``reason`` is a machine code."""

    reason: str
    text: str

    def __init__(self, reason: str, text: str) -> None:
        super().__init__(f"{reason}: {text!r}")
        self.reason = reason
        self.text = text


class TimeParseError(ScheduleParseError):
    """A time of day could not be parsed; ``reason`` is one of :data:`TimeReason`."""

    reason: TimeReason

    def __init__(self, reason: TimeReason, text: str) -> None:
        super().__init__(reason, text)
        self.reason = reason


class DaysParseError(ScheduleParseError):
    """A day selection could not be parsed; ``reason`` is one of :data:`DaysReason`."""

    reason: DaysReason

    def __init__(self, reason: DaysReason, text: str) -> None:
        super().__init__(reason, text)
        self.reason = reason


# --------------------------------------------------------------------------------------
# Times of day
# --------------------------------------------------------------------------------------

_WORD_TIMES: Mapping[str, time] = {
    "noon": time(12, 0),
    "midday": time(12, 0),
    "midnight": time(0, 0),
}
_AMPM_WORDS = frozenset({"am", "pm", "a.m.", "p.m.", "a.m", "p.m"})

_RE_12H = re.compile(r"(?P<h>[0-9]{1,2})(?:[:.](?P<m>[0-9]{2}))?\s*(?P<ampm>am|pm)")
_RE_24H = re.compile(r"(?P<h>[0-9]{1,2})[:.h](?P<m>[0-9]{2})")
_RE_H_SUFFIX = re.compile(r"(?P<h>[0-9]{1,2})h")
_RE_COMPACT = re.compile(r"(?P<h>[0-9]{2})(?P<m>[0-9]{2})")
_RE_BARE = re.compile(r"(?P<h>[0-9]{1,2})")


def _clock(hour: int, minute: int, text: str) -> time:
    if not 0 <= hour <= 23:
        raise TimeParseError("hour_out_of_range", text)
    if not 0 <= minute <= 59:
        raise TimeParseError("minute_out_of_range", text)
    return time(hour, minute)


def parse_time(text: str) -> time:
    """Parse a wall-clock time of day as users type it.

    Accepted (case-insensitive, surrounding spaces ignored): 24-hour "07:30", "7:30",
    "19.15", "0730", "19h", "19h30"; 12-hour "7pm", "7 pm", "7:30pm", "7.30 am",
    "7 p.m.", with "12am" = 00:00 and "12pm" = 12:00; the words "noon", "midday",
    "midnight"; and a bare hour only where it cannot be misread ("0", "00", "13"-"23").
    A bare "1"-"12" raises ``ambiguous_hour`` so the bot can ask "morning or evening?".
    Seconds are not accepted. Raises :class:`TimeParseError` otherwise.
    """
    s = " ".join(text.lower().split())
    if not s:
        raise TimeParseError("empty", text)
    s = s.replace("a.m.", "am").replace("p.m.", "pm").replace("a.m", "am").replace("p.m", "pm")
    if s in _WORD_TIMES:
        return _WORD_TIMES[s]

    if m := _RE_12H.fullmatch(s):
        hour = int(m["h"])
        minute = int(m["m"]) if m["m"] else 0
        if not 1 <= hour <= 12:
            raise TimeParseError("hour_out_of_range_12h", text)
        hour = hour % 12 + (12 if m["ampm"] == "pm" else 0)
        return _clock(hour, minute, text)
    if (m := _RE_24H.fullmatch(s)) or (m := _RE_COMPACT.fullmatch(s)):
        return _clock(int(m["h"]), int(m["m"]), text)
    if m := _RE_H_SUFFIX.fullmatch(s):
        return _clock(int(m["h"]), 0, text)
    if m := _RE_BARE.fullmatch(s):
        hour = int(m["h"])
        if 1 <= hour <= 12:
            raise TimeParseError("ambiguous_hour", text)
        return _clock(hour, 0, text)
    raise TimeParseError("unrecognised", text)


# --------------------------------------------------------------------------------------
# Days of the week
# --------------------------------------------------------------------------------------

Days: TypeAlias = frozenset[int]
"""Weekdays as :meth:`datetime.date.weekday` numbers: 0 = Monday ... 6 = Sunday."""

EVERY_DAY: Days = frozenset(range(7))
WEEKDAYS: Days = frozenset(range(5))
WEEKENDS: Days = frozenset({5, 6})

_DAY_KEYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DAY_NAMES: Mapping[str, int] = {
    **{name: i for i, name in enumerate(_DAY_KEYS)},
    **{
        name: i
        for i, name in enumerate(
            ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
        )
    },
    **{name: i for i, name in enumerate(("mo", "tu", "we", "th", "fr", "sa", "su"))},
    "tues": 1,
    "weds": 2,
    "thur": 3,
    "thurs": 3,
}
_DAY_GROUPS: Mapping[str, Days] = {
    "everyday": EVERY_DAY,
    "daily": EVERY_DAY,
    "weekdays": WEEKDAYS,
    "weekday": WEEKDAYS,
    "workdays": WEEKDAYS,
    "weekends": WEEKENDS,
    "weekend": WEEKENDS,
}
_DAY_FILLERS = frozenset({"and", "&", "on", "at", "every", "each"})


def _day_number(word: str) -> int | None:
    if word in _DAY_NAMES:
        return _DAY_NAMES[word]
    if word.endswith("s") and word[:-1] in _DAY_NAMES:  # "mondays"
        return _DAY_NAMES[word[:-1]]
    return None


def parse_days(tokens: Sequence[str]) -> Days:
    """Parse the day part of ``/remind`` into a set of weekday numbers (0 = Monday).

    Case-insensitive. Nothing at all, "every day", "everyday" or "daily" mean all seven
    days; "weekdays" is Monday-Friday and "weekends" Saturday-Sunday. Day names may be
    short or long ("mon", "monday", "tues", "thurs", plural "mondays"), separated by
    spaces or commas ("mon wed fri", "mon,wed,fri"). Ranges are inclusive and wrap
    around the week end ("mon-fri", "fri-mon" = Fri, Sat, Sun, Mon). Groups, names and
    ranges may be combined and are unioned. Filler words ("on", "and", "every") are
    ignored. Raises :class:`DaysParseError` otherwise.
    """
    if isinstance(tokens, str):  # a bare string is a Sequence[str] of characters
        tokens = [tokens]
    s = " ".join(tokens).lower()
    s = re.sub(r"[,;/+]", " ", s)
    s = re.sub(r"\s*[-\u2013\u2014]\s*", "-", s)  # "mon - fri", en/em dashes
    s = re.sub(r"\b(?:every|each)\s+day\b", "everyday", s)
    words = s.split()
    if not words:
        return EVERY_DAY

    days: set[int] = set()
    saw_day = False
    for word in words:
        if word in _DAY_FILLERS:
            continue
        saw_day = True
        if word in _DAY_GROUPS:
            days |= _DAY_GROUPS[word]
        elif "-" in word:
            parts = word.split("-")
            if len(parts) != 2 or not all(parts):
                raise DaysParseError("bad_range", word)
            first, last = (_day_number(p) for p in parts)
            if first is None:
                raise DaysParseError("unknown_day", parts[0])
            if last is None:
                raise DaysParseError("unknown_day", parts[1])
            span = (last - first) % 7
            days.update((first + i) % 7 for i in range(span + 1))
        elif (number := _day_number(word)) is not None:
            days.add(number)
        else:
            raise DaysParseError("unknown_day", word)
    if not saw_day:
        raise DaysParseError("no_days", " ".join(tokens))
    return frozenset(days)


def format_days_key(days: Collection[int]) -> str:
    """Return the stable storage/display key for a day set.

    "every_day", "weekdays" or "weekends" for those exact sets, otherwise the short day
    names in week order joined by commas, e.g. "mon,wed,fri" or "sat" (Monday first).
    Raises :class:`ValueError` for an empty set or numbers outside 0-6.
    """
    chosen = frozenset(days)
    if not chosen or not chosen <= EVERY_DAY:
        raise ValueError(f"not a non-empty set of weekdays 0-6: {sorted(days)!r}")
    if chosen == EVERY_DAY:
        return "every_day"
    if chosen == WEEKDAYS:
        return "weekdays"
    if chosen == WEEKENDS:
        return "weekends"
    return ",".join(_DAY_KEYS[d] for d in sorted(chosen))


def parse_days_key(key: str) -> Days:
    """Inverse of :func:`format_days_key`, for reading stored keys back.

    Raises :class:`ValueError` if ``key`` is not a key that function produces.
    """
    groups: Mapping[str, Days] = {
        "every_day": EVERY_DAY,
        "weekdays": WEEKDAYS,
        "weekends": WEEKENDS,
    }
    if key in groups:
        return groups[key]
    try:
        days = frozenset(_DAY_KEYS.index(part) for part in key.split(","))
    except ValueError:
        raise ValueError(f"not a days key: {key!r}") from None
    if format_days_key(days) != key:
        raise ValueError(f"not a canonical days key: {key!r}")
    return days


# --------------------------------------------------------------------------------------
# /remind arguments
# --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RemindRequest:
    """``/remind <time> [days]``: remind daily at ``time`` (local wall clock) on ``days``."""

    time: time
    days: Days

    @property
    def days_key(self) -> str:
        """The :func:`format_days_key` of ``days``."""
        return format_days_key(self.days)


@dataclass(frozen=True, slots=True)
class RemindOff:
    """``/remind off``: switch reminders off."""


_OFF_WORDS = frozenset({"off", "stop"})


def _time_at_front(tokens: Sequence[str]) -> tuple[time, list[str]]:
    width = 2 if len(tokens) >= 2 and tokens[1].lower() in _AMPM_WORDS else 1
    return parse_time(" ".join(tokens[:width])), list(tokens[width:])


def _time_at_back(tokens: Sequence[str]) -> tuple[time, list[str]]:
    width = 2 if len(tokens) >= 2 and tokens[-1].lower() in _AMPM_WORDS else 1
    return parse_time(" ".join(tokens[-width:])), list(tokens[:-width])


def parse_remind_args(args: Sequence[str]) -> RemindRequest | RemindOff:
    """Parse the whole ``/remind`` argument list.

    "off" (or "stop") alone gives :class:`RemindOff`. Otherwise a time (see
    :func:`parse_time`; "7 pm" may be split over two arguments, and a leading "at" is
    ignored) followed by optional days (see :func:`parse_days`): "7pm weekdays",
    "18:15 mon wed fri", "7 pm mon". The time may also come last ("weekdays 7pm").
    Arguments are re-split on whitespace, so ``["7pm weekdays"]`` works too.
    Raises :class:`TimeParseError` (reason "empty" for no arguments) or
    :class:`DaysParseError`.
    """
    tokens = " ".join(args).split()
    if not tokens:
        raise TimeParseError("empty", "")
    if len(tokens) == 1 and tokens[0].lower() in _OFF_WORDS:
        return RemindOff()
    if tokens[0].lower() == "at":
        tokens = tokens[1:]
        if not tokens:
            raise TimeParseError("empty", "")
    try:
        at, rest = _time_at_front(tokens)
    except TimeParseError as front_error:
        if front_error.reason != "unrecognised" or len(tokens) < 2:
            raise
        try:
            at, rest = _time_at_back(tokens)
        except TimeParseError as back_error:
            if back_error.reason != "unrecognised":
                raise
            raise front_error from None
    return RemindRequest(time=at, days=parse_days(rest))
