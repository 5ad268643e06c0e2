"""Pure reminder-time logic: parsing what users type and computing when reminders fire.

This module turns ``/remind`` and ``/timezone`` arguments into values (a wall-clock time,
a set of weekdays, an IANA time zone) and computes the UTC instants at which a daily
reminder is due. It must not know about Telegram, storage or clocks: there is no I/O
beyond reading the IANA database through :mod:`zoneinfo`/``tzdata``, and every "now" is a
parameter. It contains no user-facing sentences either: parse failures are raised as
exceptions carrying a machine ``reason`` code plus the offending text, and the bot maps
the codes to texts from its YAML content files.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
import zoneinfo
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import cache
from importlib import resources
from typing import Literal, TypeAlias
from zoneinfo import ZoneInfo

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
    "TimezoneFound",
    "TimezoneIndex",
    "TimezoneMatch",
    "TimezoneMissReason",
    "TimezoneSuggestions",
    "find_timezone",
    "format_days_key",
    "late_policy",
    "next_due",
    "parse_days",
    "parse_days_key",
    "parse_remind_args",
    "parse_time",
    "upcoming",
    "utc_offset_label",
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


# --------------------------------------------------------------------------------------
# When is the next reminder due?
# --------------------------------------------------------------------------------------


def _require_aware(value: datetime, name: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime, got {value!r}")


def _wall_instant(day: date, local_time: time, tz: ZoneInfo) -> datetime:
    # fold=0 gives exactly the documented DST policy (PEP 495): in a gap it applies the
    # offset from before the transition, which lands gap-length later on the wall clock;
    # in a repeated hour it picks the first occurrence.
    return datetime.combine(day, local_time, tzinfo=tz).astimezone(UTC)


def next_due(local_time: time, days: Collection[int], tz: ZoneInfo, after: datetime) -> datetime:
    """Return the first instant strictly after ``after`` at which a reminder is due.

    The reminder is due when the wall clock in ``tz`` shows ``local_time`` on a local
    date whose weekday (0 = Monday) is in ``days``. ``after`` must be timezone-aware
    (any zone); the result is an aware datetime in UTC. If ``after`` is exactly a due
    instant, the following occurrence is returned, so feeding the result back in walks
    the schedule.

    Daylight-saving rules:

    * DST changes never move a reminder off its local time: 07:30 stays 07:30 local on
      both sides of a change (its UTC instant moves instead).
    * Spring forward: a local time inside the gap does not exist that day. The reminder
      is not skipped; it fires shifted forward by the gap length (02:30 in Berlin on
      2026-03-29 fires at 03:30 CEST; 02:15 on a Lord Howe change day, whose gap is
      30 minutes, fires at 02:45).
    * Fall back: a local time inside the repeated hour exists twice; the reminder fires
      once, at the first occurrence (fold=0), never twice.
    * Any offset works, including half-hour DST shifts (Australia/Lord_Howe), UTC+14
      (Pacific/Kiritimati, where the UTC date is the previous day) and midnight; weeks
      and year ends are plain calendar arithmetic on local dates.

    Raises :class:`ValueError` for a naive ``after``, an aware ``local_time``, or an empty
    or out-of-range ``days``.
    """
    _require_aware(after, "after")
    if local_time.tzinfo is not None:
        raise ValueError("local_time must be a naive wall-clock time")
    chosen = frozenset(days)
    if not chosen or not chosen <= EVERY_DAY:
        raise ValueError(f"days must be a non-empty set of weekdays 0-6: {sorted(days)!r}")
    wall = local_time.replace(fold=0)

    # Scan a window of local dates wide enough that the answer is always inside it, and
    # take the earliest candidate: robust even if a zone skips a whole calendar day.
    start = after.astimezone(tz).date() - timedelta(days=2)
    best: datetime | None = None
    for offset in range(11):
        day = start + timedelta(days=offset)
        if day.weekday() not in chosen:
            continue
        candidate = _wall_instant(day, wall, tz)
        if candidate > after and (best is None or candidate < best):
            best = candidate
    if best is None:  # pragma: no cover - the window always contains an occurrence
        raise RuntimeError("no occurrence found in the search window")
    return best


def upcoming(
    local_time: time, days: Collection[int], tz: ZoneInfo, after: datetime, n: int
) -> list[datetime]:
    """Return the next ``n`` due instants (UTC) after ``after``, in order; see :func:`next_due`."""
    if n < 0:
        raise ValueError("n must be >= 0")
    result: list[datetime] = []
    cursor = after
    for _ in range(n):
        cursor = next_due(local_time, days, tz, cursor)
        result.append(cursor)
    return result


def late_policy(due: datetime, now: datetime, grace: timedelta) -> Literal["send", "skip"]:
    """Decide what to do with a reminder whose due instant has passed (e.g. after downtime).

    "send" if it is at most ``grace`` late (``now - due <= grace``, boundary included),
    otherwise "skip"; on "skip" the caller schedules the next occurrence instead. A
    reminder that is not late at all (``now <= due``) is "send": a job runner firing a
    few milliseconds early must not lose it. Both datetimes must be aware; ``grace``
    must not be negative.
    """
    _require_aware(due, "due")
    _require_aware(now, "now")
    if grace < timedelta(0):
        raise ValueError("grace must not be negative")
    return "send" if now - due <= grace else "skip"


# --------------------------------------------------------------------------------------
# Time zones
# --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TimezoneFound:
    """An exact match: ``key`` is the IANA key to store, ``zone`` the loaded zone."""

    key: str
    zone: ZoneInfo


TimezoneMissReason: TypeAlias = Literal[
    "empty",  # nothing was given
    "unknown",  # no such zone or city; ``suggestions`` holds close spellings, maybe none
    "ambiguous",  # a city name under several regions; pick one of ``suggestions``
    "abbreviation",  # "EST", "CET", "IST"...: says nothing about DST; pick a city
]


@dataclass(frozen=True, slots=True)
class TimezoneSuggestions:
    """No exact match; ``suggestions`` holds up to 5 IANA keys to offer, best first."""

    query: str
    reason: TimezoneMissReason
    suggestions: tuple[str, ...]


TimezoneMatch: TypeAlias = TimezoneFound | TimezoneSuggestions

_MAX_SUGGESTIONS = 5
_GEOGRAPHIC_REGIONS = frozenset(
    {
        "Africa",
        "America",
        "Antarctica",
        "Arctic",
        "Asia",
        "Atlantic",
        "Australia",
        "Europe",
        "Indian",
        "Pacific",
    }
)
_EXCLUDED_KEYS = frozenset({"Factory", "localtime", "posixrules", "posix", "right"})

# Abbreviations that name one thing: accepted as exact zones.
_UNAMBIGUOUS_ABBREVIATIONS: Mapping[str, str] = {
    "UTC": "UTC",
    "UCT": "UTC",
    "Z": "UTC",
    "ZULU": "UTC",
    "GMT": "GMT",
}
# Abbreviations that name an offset rather than a place (or several places): never an
# exact match, because they say nothing about whether or when DST applies.
_ABBREVIATION_SUGGESTIONS: Mapping[str, tuple[str, ...]] = {
    **dict.fromkeys(("EST", "EDT", "ET"), ("America/New_York", "America/Toronto")),
    **dict.fromkeys(
        ("CST", "CDT", "CT"),
        ("America/Chicago", "America/Mexico_City", "Asia/Shanghai", "America/Havana"),
    ),
    **dict.fromkeys(
        ("MST", "MDT", "MT"), ("America/Denver", "America/Phoenix", "America/Edmonton")
    ),
    **dict.fromkeys(
        ("PST", "PDT", "PT"), ("America/Los_Angeles", "America/Vancouver", "America/Tijuana")
    ),
    **dict.fromkeys(("AKST", "AKDT"), ("America/Anchorage",)),
    **dict.fromkeys(("HST", "HDT"), ("Pacific/Honolulu",)),
    **dict.fromkeys(("BST",), ("Europe/London", "Asia/Dhaka")),
    **dict.fromkeys(("IST",), ("Asia/Kolkata", "Europe/Dublin", "Asia/Jerusalem")),
    **dict.fromkeys(
        ("CET", "CEST", "MET", "MEST"),
        ("Europe/Berlin", "Europe/Paris", "Europe/Madrid", "Europe/Rome", "Europe/Warsaw"),
    ),
    **dict.fromkeys(
        ("EET", "EEST"),
        ("Europe/Athens", "Europe/Helsinki", "Europe/Kyiv", "Europe/Bucharest", "Africa/Cairo"),
    ),
    **dict.fromkeys(("WET", "WEST"), ("Europe/Lisbon", "Atlantic/Canary")),
    **dict.fromkeys(("MSK",), ("Europe/Moscow",)),
    **dict.fromkeys(("JST",), ("Asia/Tokyo",)),
    **dict.fromkeys(("KST",), ("Asia/Seoul",)),
    **dict.fromkeys(
        ("AEST", "AEDT"), ("Australia/Sydney", "Australia/Melbourne", "Australia/Brisbane")
    ),
    **dict.fromkeys(("ACST", "ACDT"), ("Australia/Adelaide", "Australia/Darwin")),
    **dict.fromkeys(("AWST",), ("Australia/Perth",)),
    **dict.fromkeys(("NZST", "NZDT"), ("Pacific/Auckland",)),
}


def _normalise_place(text: str) -> str:
    """Lower-case, accents stripped, punctuation and underscores as single spaces."""
    decomposed = unicodedata.normalize("NFKD", text)
    ascii_only = "".join(c for c in decomposed if not unicodedata.combining(c)).lower()
    return " ".join(re.sub(r"[^a-z0-9]+", " ", ascii_only).split())


def _city_of(key: str) -> str:
    return _normalise_place(key.rsplit("/", 1)[-1])


class TimezoneIndex:
    """Lookup tables over a set of IANA keys; :func:`find_timezone` uses the installed set.

    ``links`` maps alias keys to their target keys (the ``L`` lines of ``tzdata.zi``);
    it is used to tell a truly ambiguous city name from one zone listed under two names,
    and to turn legacy keys such as "US/Eastern" into their Region/City target.
    """

    def __init__(self, keys: Iterable[str], links: Mapping[str, str]) -> None:
        self._keys = frozenset(k for k in keys if k not in _EXCLUDED_KEYS)
        self._links = dict(links)
        self._by_lower = {k.lower(): k for k in self._keys}
        by_city: dict[str, set[str]] = {}
        for key in self._keys:
            if key.split("/", 1)[0] not in _GEOGRAPHIC_REGIONS:
                continue
            city = _city_of(key)
            for name in {city, city.replace(" ", "")}:
                by_city.setdefault(name, set()).add(key)
        self._by_city = {name: tuple(sorted(keys)) for name, keys in by_city.items()}
        self._city_names = sorted(self._by_city)

    def _canonical(self, key: str) -> str:
        seen: set[str] = set()
        while key in self._links and key not in seen:
            seen.add(key)
            key = self._links[key]
        return key

    def _one_per_zone(self, keys: Sequence[str]) -> tuple[str, ...]:
        """Collapse keys that alias one zone, keeping the canonical one when it is listed.

        E.g. America/Buenos_Aires and America/Argentina/Buenos_Aires -> the latter. A
        lone alias is kept as it is: Europe/Amsterdam stays, although tzdata links it
        to Europe/Brussels.
        """
        groups: dict[str, list[str]] = {}
        for key in keys:
            groups.setdefault(self._canonical(key), []).append(key)
        return tuple(
            target if target in members else sorted(members)[0]
            for target, members in sorted(groups.items())
        )

    def _found(self, key: str) -> TimezoneFound:
        return TimezoneFound(key=key, zone=ZoneInfo(key))

    def _exact_key(self, query: str) -> str | None:
        key = self._by_lower.get("_".join(query.split()).lower())
        if key is None:
            return None
        if key.split("/", 1)[0] not in _GEOGRAPHIC_REGIONS and key not in ("UTC", "GMT"):
            # Legacy names ("US/Eastern", "Japan", "EST5EDT") -> the Region/City zone
            # they alias. Region/City links are kept as typed: some join different
            # cities (Europe/Amsterdam -> Europe/Brussels) and would confuse users.
            target = self._canonical(key)
            if target in self._keys:
                return target
        return key

    def _by_city_name(self, query: str) -> TimezoneMatch | None:
        name = _normalise_place(query)
        keys = self._by_city.get(name) or self._by_city.get(name.replace(" ", ""))
        if not keys:
            return None
        chosen = self._one_per_zone(keys)
        if len(chosen) == 1:
            return self._found(chosen[0])
        return TimezoneSuggestions(query, "ambiguous", chosen[:_MAX_SUGGESTIONS])

    def _similar(self, query: str) -> tuple[str, ...]:
        names: list[str] = []
        for part in (query, query.rsplit("/", 1)[-1]):
            names += difflib.get_close_matches(
                _normalise_place(part), self._city_names, n=_MAX_SUGGESTIONS, cutoff=0.75
            )
        suggestions: list[str] = []
        for name in names:
            for key in self._one_per_zone(self._by_city[name]):
                if key not in suggestions:
                    suggestions.append(key)
        return tuple(suggestions[:_MAX_SUGGESTIONS])

    def find(self, query: str) -> TimezoneMatch:
        """See :func:`find_timezone`."""
        text = " ".join(query.split())
        if not text:
            return TimezoneSuggestions(query, "empty", ())
        upper = text.upper()
        if upper in _UNAMBIGUOUS_ABBREVIATIONS:
            return self._found(_UNAMBIGUOUS_ABBREVIATIONS[upper])
        if upper in _ABBREVIATION_SUGGESTIONS:
            offered = tuple(k for k in _ABBREVIATION_SUGGESTIONS[upper] if k in self._keys)
            return TimezoneSuggestions(query, "abbreviation", offered)
        if (key := self._exact_key(text)) is not None:
            return self._found(key)
        candidates = [text]
        if "/" in text:
            candidates.append(text.rsplit("/", 1)[-1])
        if "," in text:  # "Berlin, Germany"
            candidates.append(text.split(",", 1)[0])
        for candidate in candidates:
            if (match := self._by_city_name(candidate)) is not None:
                return match
        return TimezoneSuggestions(query, "unknown", self._similar(text))


def _tzdata_links() -> dict[str, str]:
    """Alias -> target from the tzdata package's ``tzdata.zi``; empty if unavailable."""
    try:
        source = resources.files("tzdata").joinpath("zoneinfo", "tzdata.zi")
        lines = source.read_text(encoding="utf-8").splitlines()
    except (ModuleNotFoundError, OSError):
        return {}
    links: dict[str, str] = {}
    for line in lines:
        fields = line.split()
        if len(fields) == 3 and fields[0] == "L":
            links[fields[2]] = fields[1]
    return links


@cache
def _default_index() -> TimezoneIndex:
    return TimezoneIndex(zoneinfo.available_timezones(), _tzdata_links())


def find_timezone(query: str) -> TimezoneMatch:
    """Resolve what a user typed after ``/timezone`` to an IANA zone, or suggestions.

    Tried in order:

    1. "UTC", "GMT" (and "Z", "Zulu", "UCT") -> exact. Other abbreviations ("EST",
       "CET", "IST", "PST", ...) are never exact, because they name an offset and not
       a place's DST rules, or several places: reason "abbreviation" with city zones.
    2. An IANA key, case-insensitive, spaces allowed for underscores ("europe/berlin",
       "America/New York"). Legacy keys ("US/Eastern", "Japan") give their target
       Region/City key; Region/City aliases ("Europe/Kiev") are kept as typed.
    3. A city: the last part of a Region/City key, case- and accent-insensitive, with
       spaces or without ("berlin", "new york", "newyork", "são paulo", "kiev", "kyiv").
       If the name belongs to one zone listed under several keys the canonical key
       wins; if it belongs to different zones -> reason "ambiguous" with those keys.
       For "City, Country" and "Region/City" the city part is tried as well.
    4. Otherwise reason "unknown" with up to 5 close spellings of city names (difflib,
       so "berln" suggests Europe/Berlin); the tuple may be empty ("Mars/Olympus").

    Fixed offsets such as "UTC+2" and country names are not recognised.
    """
    return _default_index().find(query)


def utc_offset_label(tz: ZoneInfo, at: datetime) -> str:
    """Return ``tz``'s UTC offset at the aware instant ``at``, e.g. "UTC+01:00", "UTC-03:30".

    Seconds are appended only when non-zero (historical local mean time).
    """
    _require_aware(at, "at")
    offset = at.astimezone(tz).utcoffset() or timedelta(0)
    sign = "-" if offset < timedelta(0) else "+"
    seconds = abs(int(offset.total_seconds()))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    label = f"UTC{sign}{hours:02d}:{minutes:02d}"
    return f"{label}:{secs:02d}" if secs else label
