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
    "PLACE_ZONES",
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
_UTC_KEY = "UTC"


def _normalise_place(text: str) -> str:
    """Lower-case, accents stripped, punctuation and underscores as single spaces."""
    decomposed = unicodedata.normalize("NFKD", text)
    ascii_only = "".join(c for c in decomposed if not unicodedata.combining(c)).lower()
    return " ".join(re.sub(r"[^a-z0-9]+", " ", ascii_only).split())


def _city_of(key: str) -> str:
    return _normalise_place(key.rsplit("/", 1)[-1])


# --- Curated places -------------------------------------------------------------------

# Well-known places that are not the city part of an IANA key, each with the one zone it
# uses. Cities and metro names ("mumbai", "san francisco", "nyc"), old spellings of key
# cities ("kiev", "calcutta", "saigon") and countries or regions that keep one clock
# ("germany", "uk", "california"). A country whose outlying islands differ is listed
# under its main zone (Spain -> Madrid, Portugal -> Lisbon, Chile -> Santiago, Ecuador
# -> Guayaquil, New Zealand -> Auckland); China and India officially use one zone.
# Kazakhstan is listed under Almaty: all its zones have been UTC+5 since March 2024.
_PLACES_BY_ZONE: Mapping[str, tuple[str, ...]] = {
    # South Asia
    "Asia/Kolkata": (
        "india", "bharat", "mumbai", "bombay", "delhi", "new delhi", "bangalore",
        "bengaluru", "chennai", "madras", "hyderabad", "pune", "ahmedabad", "calcutta",
        "jaipur", "lucknow", "surat", "kochi", "cochin", "chandigarh", "noida", "gurgaon",
        "gurugram", "indore", "nagpur", "goa", "kerala",
    ),
    "Asia/Karachi": ("pakistan", "lahore", "islamabad", "rawalpindi", "faisalabad"),
    "Asia/Dhaka": ("bangladesh", "dacca", "chittagong"),
    "Asia/Kathmandu": ("nepal", "katmandu"),
    "Asia/Colombo": ("sri lanka",),
    "Asia/Yangon": ("myanmar", "burma", "rangoon"),
    "Asia/Kabul": ("afghanistan",),
    # East and South-East Asia
    "Asia/Shanghai": (
        "china", "prc", "beijing", "peking", "shenzhen", "guangzhou", "canton", "chengdu",
        "chongqing", "wuhan", "hangzhou", "nanjing", "tianjin", "xian", "xi an", "suzhou",
        "harbin", "dongguan", "shenyang", "qingdao",
    ),
    "Asia/Hong_Kong": ("hongkong",),
    "Asia/Macau": ("macao",),
    "Asia/Taipei": ("taiwan", "kaohsiung", "taichung"),
    "Asia/Tokyo": (
        "japan", "osaka", "kyoto", "yokohama", "nagoya", "sapporo", "fukuoka", "kobe",
    ),
    "Asia/Seoul": ("korea", "south korea", "busan", "incheon", "daegu"),
    "Asia/Pyongyang": ("north korea",),
    "Asia/Kuala_Lumpur": ("malaysia", "penang", "johor bahru"),
    "Asia/Bangkok": ("thailand", "phuket", "chiang mai", "pattaya"),
    "Asia/Ho_Chi_Minh": ("vietnam", "viet nam", "saigon", "hanoi", "ho chi minh city", "hcmc"),
    "Asia/Manila": ("philippines", "quezon city", "cebu", "davao"),
    "Asia/Jakarta": ("bandung", "surabaya", "medan", "java", "sumatra"),
    "Asia/Makassar": ("bali", "denpasar"),
    "Asia/Ulaanbaatar": ("mongolia", "ulan bator"),
    # Central and West Asia
    "Asia/Almaty": ("kazakhstan", "astana", "nur sultan"),
    "Asia/Tashkent": ("uzbekistan", "samarkand"),
    "Asia/Tehran": ("iran", "mashhad", "isfahan", "shiraz"),
    "Asia/Baghdad": ("iraq", "basra", "erbil", "mosul"),
    "Asia/Riyadh": ("saudi arabia", "saudi", "ksa", "jeddah", "mecca", "makkah", "medina"),
    "Asia/Dubai": ("uae", "united arab emirates", "emirates", "abu dhabi", "sharjah"),
    "Asia/Qatar": ("doha",),
    "Asia/Jerusalem": ("israel", "tel aviv", "tel aviv yafo", "haifa"),
    "Asia/Beirut": ("lebanon",),
    "Asia/Amman": ("jordan",),
    "Asia/Damascus": ("syria",),
    "Asia/Yerevan": ("armenia",),
    "Asia/Baku": ("azerbaijan",),
    "Asia/Nicosia": ("cyprus", "limassol"),
    # Europe
    "Europe/London": (
        "uk", "united kingdom", "great britain", "britain", "england", "scotland", "wales",
        "northern ireland", "gb", "manchester", "birmingham", "liverpool", "leeds",
        "glasgow", "edinburgh", "bristol", "sheffield", "cardiff", "belfast", "oxford",
        "cambridge", "nottingham", "leicester",
    ),
    "Europe/Dublin": ("ireland", "eire", "cork", "galway"),
    "Europe/Berlin": (
        "germany", "deutschland", "munich", "munchen", "frankfurt", "frankfurt am main",
        "hamburg", "cologne", "koln", "stuttgart", "dusseldorf", "leipzig", "dresden",
        "hanover", "hannover", "nuremberg", "nurnberg", "bremen", "bonn", "essen",
        "dortmund",
    ),
    "Europe/Paris": (
        "france", "lyon", "marseille", "toulouse", "nice", "bordeaux", "lille",
        "strasbourg", "nantes",
    ),
    "Europe/Madrid": (
        "spain", "espana", "barcelona", "valencia", "seville", "sevilla", "bilbao",
        "malaga", "zaragoza", "mallorca", "ibiza",
    ),
    "Europe/Rome": (
        "italy", "italia", "milan", "milano", "naples", "napoli", "turin", "torino",
        "florence", "firenze", "venice", "venezia", "bologna", "genoa", "palermo",
    ),
    "Europe/Amsterdam": (
        "netherlands", "the netherlands", "holland", "rotterdam", "the hague", "den haag",
        "utrecht", "eindhoven",
    ),
    "Europe/Brussels": ("belgium", "antwerp", "ghent"),
    "Europe/Zurich": ("switzerland", "geneva", "basel", "bern", "lausanne"),
    "Europe/Vienna": ("austria", "salzburg", "graz", "innsbruck"),
    "Europe/Stockholm": ("sweden", "gothenburg", "malmo"),
    "Europe/Oslo": ("norway", "bergen"),
    "Europe/Copenhagen": ("denmark", "aarhus"),
    "Europe/Helsinki": ("finland", "espoo", "tampere"),
    "Atlantic/Reykjavik": ("iceland",),
    "Europe/Warsaw": ("poland", "krakow", "cracow", "wroclaw", "gdansk", "lodz", "poznan"),
    "Europe/Prague": ("czechia", "czech republic", "brno"),
    "Europe/Bratislava": ("slovakia",),
    "Europe/Budapest": ("hungary",),
    "Europe/Bucharest": ("romania", "cluj", "cluj napoca"),
    "Europe/Sofia": ("bulgaria",),
    "Europe/Athens": ("greece", "thessaloniki"),
    "Europe/Belgrade": ("serbia", "novi sad"),
    "Europe/Zagreb": ("croatia",),
    "Europe/Ljubljana": ("slovenia",),
    "Europe/Istanbul": ("turkey", "turkiye", "ankara", "izmir", "antalya", "bursa"),
    "Europe/Kyiv": ("ukraine", "kiev", "kharkiv", "kharkov", "odesa", "odessa", "lviv", "dnipro"),
    "Europe/Moscow": (
        "st petersburg", "saint petersburg", "sankt peterburg", "leningrad",
        "nizhny novgorod", "kazan", "sochi",
    ),
    "Europe/Minsk": ("belarus",),
    "Europe/Lisbon": ("portugal", "porto", "oporto"),
    "Europe/Vilnius": ("lithuania",),
    "Europe/Riga": ("latvia",),
    "Europe/Tallinn": ("estonia",),
    "Europe/Chisinau": ("moldova",),
    # Africa
    "Africa/Lagos": ("nigeria", "abuja", "ibadan", "kano"),
    "Africa/Cairo": ("egypt", "alexandria", "giza"),
    "Africa/Johannesburg": ("south africa", "cape town", "durban", "pretoria", "soweto"),
    "Africa/Nairobi": ("kenya", "mombasa"),
    "Africa/Addis_Ababa": ("ethiopia",),
    "Africa/Dar_es_Salaam": ("tanzania", "dodoma", "zanzibar"),
    "Africa/Kampala": ("uganda",),
    "Africa/Casablanca": ("morocco", "rabat", "marrakesh", "marrakech"),
    "Africa/Algiers": ("algeria",),
    "Africa/Tunis": ("tunisia",),
    "Africa/Accra": ("ghana", "kumasi"),
    "Africa/Abidjan": ("ivory coast", "cote d ivoire"),
    "Africa/Dakar": ("senegal",),
    "Africa/Luanda": ("angola",),
    "Africa/Harare": ("zimbabwe",),
    "Africa/Khartoum": ("sudan",),
    "Africa/Maputo": ("mozambique",),
    # North America
    "America/New_York": (
        "nyc", "new york city", "manhattan", "brooklyn", "queens", "bronx", "dc",
        "washington dc", "washington d c", "boston", "philadelphia", "philly", "miami",
        "atlanta", "baltimore", "pittsburgh", "charlotte", "orlando", "tampa",
        "jacksonville", "raleigh", "cleveland", "columbus", "cincinnati", "richmond",
        "buffalo", "newark", "jersey city", "new jersey", "florida", "massachusetts",
        "pennsylvania",
    ),
    "America/Chicago": (
        "houston", "dallas", "san antonio", "austin", "fort worth", "memphis", "nashville",
        "new orleans", "minneapolis", "st louis", "kansas city", "milwaukee",
        "oklahoma city", "omaha", "texas", "illinois",
    ),
    "America/Denver": ("salt lake city", "albuquerque", "el paso", "colorado", "utah"),
    "America/Phoenix": ("arizona", "tucson", "scottsdale", "mesa"),
    "America/Los_Angeles": (
        "la", "l a", "sf", "san francisco", "san diego", "san jose", "seattle",
        "sacramento", "oakland", "las vegas", "california", "silicon valley", "bay area",
        "hollywood", "oregon", "nevada",
    ),
    "America/Anchorage": ("alaska",),
    "Pacific/Honolulu": ("hawaii",),
    "America/Toronto": ("ottawa", "montreal", "quebec", "quebec city", "ontario", "mississauga"),
    "America/Vancouver": ("british columbia",),
    "America/Edmonton": ("calgary", "alberta"),
    "America/Winnipeg": ("manitoba",),
    "America/Halifax": ("nova scotia",),
    "America/St_Johns": ("newfoundland",),
    "America/Mexico_City": ("guadalajara", "puebla", "cdmx", "ciudad de mexico"),
    "America/Havana": ("cuba",),
    "America/Guatemala": ("guatemala city",),
    "America/Costa_Rica": ("san jose costa rica",),
    "America/Santo_Domingo": ("dominican republic",),
    "America/Puerto_Rico": ("san juan",),
    # South America
    "America/Sao_Paulo": (
        "rio", "rio de janeiro", "brasilia", "belo horizonte", "curitiba", "porto alegre",
        "campinas",
    ),
    "America/Bahia": ("salvador",),
    "America/Bogota": ("colombia", "medellin", "cali", "barranquilla", "cartagena"),
    "America/Lima": ("peru",),
    "America/Santiago": ("chile", "valparaiso"),
    "America/Argentina/Buenos_Aires": ("argentina",),
    "America/Argentina/Cordoba": ("rosario",),
    "America/Caracas": ("venezuela", "maracaibo"),
    "America/Guayaquil": ("ecuador", "quito"),
    "America/La_Paz": ("bolivia", "santa cruz de la sierra"),
    "America/Asuncion": ("paraguay",),
    "America/Montevideo": ("uruguay",),
    # Oceania
    "Australia/Sydney": ("canberra", "new south wales", "nsw", "wollongong"),
    "Australia/Melbourne": ("geelong",),
    "Australia/Brisbane": ("queensland", "gold coast", "sunshine coast"),
    "Australia/Perth": ("western australia",),
    "Australia/Adelaide": ("south australia",),
    "Australia/Hobart": ("tasmania",),
    "Australia/Darwin": ("northern territory",),
    "Pacific/Auckland": (
        "new zealand", "nz", "aotearoa", "wellington", "christchurch", "dunedin", "queenstown",
    ),
    "Pacific/Fiji": ("suva",),
    "Pacific/Port_Moresby": ("papua new guinea",),
}  # fmt: skip

# Places that span several zones: answered with reason "ambiguous" and these zones, the
# most populous first (at most five, so the smallest zones of big countries are left out).
_PLACES_SEVERAL_ZONES: Mapping[str, tuple[str, ...]] = {
    **dict.fromkeys(
        ("usa", "us", "u s", "u s a", "united states", "united states of america", "america"),
        (
            "America/New_York",
            "America/Chicago",
            "America/Los_Angeles",
            "America/Denver",
            "America/Phoenix",
        ),
    ),
    "canada": (
        "America/Toronto",
        "America/Vancouver",
        "America/Edmonton",
        "America/Halifax",
        "America/Winnipeg",
    ),
    "australia": (
        "Australia/Sydney",
        "Australia/Melbourne",
        "Australia/Brisbane",
        "Australia/Perth",
        "Australia/Adelaide",
    ),
    **dict.fromkeys(
        ("russia", "russian federation"),
        (
            "Europe/Moscow",
            "Asia/Yekaterinburg",
            "Europe/Samara",
            "Asia/Novosibirsk",
            "Asia/Krasnoyarsk",
        ),
    ),
    **dict.fromkeys(
        ("brazil", "brasil"),
        ("America/Sao_Paulo", "America/Manaus", "America/Rio_Branco", "America/Noronha"),
    ),
    "mexico": (
        "America/Mexico_City",
        "America/Mazatlan",
        "America/Tijuana",
        "America/Hermosillo",
        "America/Cancun",
    ),
    "indonesia": ("Asia/Jakarta", "Asia/Makassar", "Asia/Jayapura"),
    # One name, several places.
    "washington": ("America/New_York", "America/Los_Angeles"),  # D.C. / the state
    "victoria": ("America/Vancouver", "Australia/Melbourne"),  # B.C. / the state
    "georgia": ("Asia/Tbilisi", "America/New_York"),  # the country / the state
    "portland": ("America/Los_Angeles", "America/New_York"),  # Oregon / Maine
}


def _build_places(
    one: Mapping[str, tuple[str, ...]], several: Mapping[str, tuple[str, ...]]
) -> dict[str, tuple[str, ...]]:
    table: dict[str, tuple[str, ...]] = {}
    entries = [(name, (zone,)) for zone, names in one.items() for name in names]
    for raw, zones in [*entries, *several.items()]:
        name = _normalise_place(raw)
        if name in table or name != raw:
            raise ValueError(f"place listed twice or not normalised: {raw!r}")
        table[name] = zones
    return table


PLACE_ZONES: Mapping[str, tuple[str, ...]] = _build_places(_PLACES_BY_ZONE, _PLACES_SEVERAL_ZONES)
"""Curated place names -> zones, consulted before the city parts of IANA keys.

Keys are normalised names (lower case, ASCII, single spaces; see ``_normalise_place``):
cities, metro areas and short forms ("nyc", "la", "sf", "dc") that are not the city of
a key, old spellings of key cities, and countries or regions. One zone means an exact
match; several (countries spanning zones, names shared by distant places) mean reason
"ambiguous" with those zones offered, most populous first. Typed without spaces
("sanfrancisco") the names match too.
"""

# Zones in rough order of how many people live in them: the order in which zones are
# offered for a UTC offset, and the tie-break for similar spellings.
_MAJOR_ZONES: tuple[str, ...] = (
    "Asia/Kolkata", "Asia/Shanghai", "America/New_York", "Asia/Jakarta", "Asia/Karachi",
    "America/Sao_Paulo", "Africa/Lagos", "Asia/Dhaka", "Europe/Moscow", "America/Chicago",
    "America/Mexico_City", "Asia/Tokyo", "Asia/Manila", "Africa/Cairo", "Africa/Nairobi",
    "Asia/Ho_Chi_Minh", "Asia/Tehran", "Europe/Istanbul", "Europe/Berlin", "Asia/Bangkok",
    "Europe/London", "Europe/Paris", "America/Los_Angeles", "Europe/Rome",
    "Africa/Johannesburg", "Asia/Seoul", "America/Bogota", "Europe/Madrid",
    "America/Argentina/Buenos_Aires", "Africa/Algiers", "Asia/Baghdad", "Europe/Kyiv",
    "America/Toronto", "Africa/Casablanca", "Asia/Riyadh", "Asia/Tashkent",
    "Asia/Singapore", "America/Lima", "Asia/Kabul", "Europe/Warsaw", "Asia/Yangon",
    "America/Caracas", "Australia/Sydney", "Asia/Taipei", "Asia/Kathmandu", "Asia/Colombo",
    "America/Santiago", "Europe/Bucharest", "Asia/Almaty", "America/Denver",
    "America/Phoenix", "America/Guatemala", "America/Guayaquil", "Asia/Dubai",
    "Europe/Athens", "Australia/Melbourne", "Europe/Lisbon", "America/Havana",
    "Europe/Prague", "Europe/Budapest", "Europe/Minsk", "America/Vancouver",
    "Asia/Yekaterinburg", "Asia/Novosibirsk", "Europe/Samara", "Asia/Krasnoyarsk",
    "Asia/Vladivostok", "Asia/Irkutsk", "America/Halifax", "America/St_Johns",
    "America/Anchorage", "Pacific/Honolulu", "Asia/Jerusalem", "Europe/Helsinki",
    "Europe/Dublin", "Pacific/Auckland", "Australia/Brisbane", "Australia/Perth",
    "Australia/Adelaide", "Australia/Darwin", "Asia/Hong_Kong", "America/Manaus",
    "America/Noronha", "Atlantic/Azores", "Atlantic/Cape_Verde", "Asia/Kamchatka",
    "Pacific/Fiji", "Pacific/Tongatapu", "Pacific/Kiritimati", "Pacific/Chatham",
    "Pacific/Pago_Pago", "Pacific/Marquesas", "Australia/Eucla", "Pacific/Norfolk",
    "Asia/Tbilisi", "Asia/Baku", "Asia/Yerevan", "Indian/Maldives", "Asia/Magadan",
    "Pacific/Noumea", "Pacific/Guam", "Pacific/Tahiti", "America/Adak", "Pacific/Gambier",
    "America/Nuuk", "Atlantic/South_Georgia", "Pacific/Niue",
)  # fmt: skip

# --- Abbreviations and offsets ------------------------------------------------------------

# Names of UTC itself (compared upper-case, spaces removed): the exact zone "UTC".
_UTC_NAMES = frozenset(
    {"UTC", "UCT", "Z", "ZULU", "UNIVERSAL", "ETC/UTC", "ETC/UCT", "ETC/UNIVERSAL", "ETC/ZULU"}
)
# Abbreviations (compared upper-case, spaces removed) that name an offset rather than a
# place, or several places: never an exact match, because they say nothing about whether
# or when DST applies. "GMT" is UK winter time as often as it is UTC, so it is one too.
_ABBREVIATION_SUGGESTIONS: Mapping[str, tuple[str, ...]] = {
    **dict.fromkeys(
        (
            *("GMT", "GREENWICH", "GMT0", "GMT+0", "GMT-0"),
            *("ETC/GMT", "ETC/GMT0", "ETC/GMT+0", "ETC/GMT-0", "ETC/GREENWICH"),
        ),
        ("Europe/London", "UTC", "Europe/Dublin", "Europe/Lisbon", "Africa/Abidjan"),
    ),
    **dict.fromkeys(("EST", "EDT", "ET", "EST5EDT"), ("America/New_York", "America/Toronto")),
    **dict.fromkeys(
        ("CST", "CDT", "CT", "CST6CDT"),
        ("America/Chicago", "Asia/Shanghai", "America/Mexico_City", "America/Havana"),
    ),
    **dict.fromkeys(
        ("MST", "MDT", "MT", "MST7MDT"),
        ("America/Denver", "America/Phoenix", "America/Edmonton"),
    ),
    **dict.fromkeys(
        ("PST", "PDT", "PT", "PST8PDT"),
        ("America/Los_Angeles", "America/Vancouver", "America/Tijuana"),
    ),
    **dict.fromkeys(("AKST", "AKDT"), ("America/Anchorage",)),
    **dict.fromkeys(("HST", "HDT"), ("Pacific/Honolulu",)),
    **dict.fromkeys(("AST", "ADT"), ("America/Halifax", "America/Puerto_Rico", "Asia/Riyadh")),
    **dict.fromkeys(("NST", "NDT"), ("America/St_Johns",)),
    **dict.fromkeys(("BST",), ("Europe/London",)),
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
    **dict.fromkeys(("TRT",), ("Europe/Istanbul",)),
    **dict.fromkeys(("SAST",), ("Africa/Johannesburg",)),
    **dict.fromkeys(("WAT",), ("Africa/Lagos",)),
    **dict.fromkeys(("CAT",), ("Africa/Maputo", "Africa/Harare", "Africa/Lusaka")),
    **dict.fromkeys(("EAT",), ("Africa/Nairobi", "Africa/Addis_Ababa", "Africa/Dar_es_Salaam")),
    **dict.fromkeys(("GST",), ("Asia/Dubai",)),
    **dict.fromkeys(("IRST", "IRDT"), ("Asia/Tehran",)),
    **dict.fromkeys(("PKT",), ("Asia/Karachi",)),
    **dict.fromkeys(("NPT",), ("Asia/Kathmandu",)),
    **dict.fromkeys(("ICT",), ("Asia/Bangkok", "Asia/Ho_Chi_Minh")),
    **dict.fromkeys(("WIB",), ("Asia/Jakarta",)),
    **dict.fromkeys(("WITA",), ("Asia/Makassar",)),
    **dict.fromkeys(("WIT",), ("Asia/Jayapura",)),
    **dict.fromkeys(("SGT",), ("Asia/Singapore",)),
    **dict.fromkeys(("MYT",), ("Asia/Kuala_Lumpur",)),
    **dict.fromkeys(("PHT", "PHST"), ("Asia/Manila",)),
    **dict.fromkeys(("HKT",), ("Asia/Hong_Kong",)),
    **dict.fromkeys(("JST",), ("Asia/Tokyo",)),
    **dict.fromkeys(("KST",), ("Asia/Seoul",)),
    **dict.fromkeys(
        ("AEST", "AEDT"),
        ("Australia/Sydney", "Australia/Melbourne", "Australia/Brisbane", "Australia/Hobart"),
    ),
    **dict.fromkeys(("ACST", "ACDT"), ("Australia/Adelaide", "Australia/Darwin")),
    **dict.fromkeys(("AWST",), ("Australia/Perth",)),
    **dict.fromkeys(("NZST", "NZDT"), ("Pacific/Auckland",)),
    **dict.fromkeys(("ART",), ("America/Argentina/Buenos_Aires",)),
    **dict.fromkeys(("BRT",), ("America/Sao_Paulo",)),
    **dict.fromkeys(("CLT", "CLST"), ("America/Santiago",)),
    **dict.fromkeys(("COT",), ("America/Bogota",)),
    **dict.fromkeys(("PET",), ("America/Lima",)),
    **dict.fromkeys(("VET",), ("America/Caracas",)),
}

# A typed UTC offset ("UTC+2", "GMT-05:00", "+0530", "utc + 5.30"), after removing spaces
# and lower-casing; and an Etc key ("Etc/GMT+2"), whose sign is inverted (POSIX: UTC-2).
_RE_OFFSET = re.compile(r"(?:utc|gmt|z)?(?P<sign>[+-])(?P<h>[0-9]{1,2})(?:[:.h]?(?P<m>[0-9]{2}))?")
_RE_ETC_OFFSET = re.compile(r"etc/gmt(?P<sign>[+-])(?P<h>[0-9]{1,2})")
_DASHES = str.maketrans({"\u2212": "-", "\u2013": "-", "\u2014": "-"})
# Without an ``at`` instant, a zone is "at" an offset if it is so in mid-January or
# mid-July 2026 (standard time first, then summer time): deterministic, and
# covers both hemispheres' daylight saving.
_OFFSET_REFERENCE = (
    datetime(2026, 1, 15, 12, 0, tzinfo=UTC),
    datetime(2026, 7, 15, 12, 0, tzinfo=UTC),
)


def _typed_offsets(compact: str) -> tuple[timedelta, ...] | None:
    """The offsets a compact lower-case query could mean, as written first; None if none.

    "etc/gmt+2" gives (+2 h, -2 h): as written, then in its POSIX meaning. Readings
    outside -12:00..+14:00 or with minutes over 59 are dropped, possibly leaving none.
    """
    etc = _RE_ETC_OFFSET.fullmatch(compact)
    match = etc or _RE_OFFSET.fullmatch(compact)
    if match is None:
        return None
    minutes = int(match.groupdict().get("m") or 0)
    offset = timedelta(hours=int(match["h"]), minutes=minutes)
    if match["sign"] == "-":
        offset = -offset
    readings = (offset, -offset) if etc and offset else (offset,)
    return tuple(
        r for r in readings if minutes <= 59 and timedelta(hours=-12) <= r <= timedelta(hours=14)
    )


# --- Index ------------------------------------------------------------------------------


class TimezoneIndex:
    """Lookup tables over a set of IANA keys; :func:`find_timezone` uses the installed set.

    ``links`` maps alias keys to their target keys (the ``L`` lines of ``tzdata.zi``).
    ``locations`` lists the keys of ``zone.tab``: a link listed there is the current key
    of a place ("Europe/Amsterdam", "Europe/Oslo") and is kept, because tzdata may split
    it off again if its rules ever diverge. Every other link is a *legacy alias*
    ("Australia/Victoria", "US/Pacific", "Europe/Kiev", "Asia/Calcutta"): it never counts
    as a city and is never suggested, but typed as a full key it resolves to its target.
    ``Etc/`` keys are never returned, except as the zone "UTC".
    """

    def __init__(
        self,
        keys: Iterable[str],
        links: Mapping[str, str],
        locations: Collection[str] = (),
    ) -> None:
        all_keys = frozenset(k for k in keys if k not in _EXCLUDED_KEYS)
        self._links = dict(links)
        located = frozenset(locations)
        self.legacy_aliases = frozenset(
            k for k in all_keys if k in self._links and k not in located and k != _UTC_KEY
        )
        """Links that are neither a current place key nor "UTC"; never returned as such."""
        self.storable = frozenset(
            k
            for k in all_keys
            if k.split("/", 1)[0] in _GEOGRAPHIC_REGIONS and k not in self.legacy_aliases
        ) | {_UTC_KEY}
        """Every key :meth:`find` may return, found or suggested."""
        self._by_lower = {k.lower(): k for k in all_keys}
        by_city: dict[str, set[str]] = {}
        for key in self.storable - {_UTC_KEY}:
            city = _city_of(key)
            for name in {city, city.replace(" ", "")}:
                by_city.setdefault(name, set()).add(key)
        self._by_city = {name: tuple(sorted(keys)) for name, keys in by_city.items()}
        # A place naming a zone this index lacks is left out whole, so that an ambiguous
        # place never turns into an exact match.
        places = {
            name: zones
            for name, zones in PLACE_ZONES.items()
            if all(z in self.storable for z in zones)
        }
        for name, zones in list(places.items()):
            places.setdefault(name.replace(" ", ""), zones)
        self._places = places
        self._names = sorted(set(self._by_city) | set(self._places))
        rank = {key: i for i, key in enumerate(_MAJOR_ZONES)}
        self._rank = rank
        rest = sorted(k for k in self.storable if k not in rank and k != _UTC_KEY)
        self._offset_candidates = tuple(
            k for k in (_UTC_KEY, *_MAJOR_ZONES, *rest) if k in self.storable
        )

    # -- helpers -------------------------------------------------------------------------

    def _canonical(self, key: str) -> str:
        seen: set[str] = set()
        while key in self._links and key not in seen:
            seen.add(key)
            key = self._links[key]
        return key

    def _one_per_zone(self, keys: Sequence[str]) -> tuple[str, ...]:
        """Collapse keys that alias one zone, keeping the canonical one when it is listed."""
        groups: dict[str, list[str]] = {}
        for key in keys:
            groups.setdefault(self._canonical(key), []).append(key)
        return tuple(
            target if target in members else sorted(members)[0]
            for target, members in sorted(groups.items())
        )

    def _found(self, key: str) -> TimezoneFound:
        return TimezoneFound(key=key, zone=ZoneInfo(key))

    def _answer(self, query: str, zones: Sequence[str]) -> TimezoneMatch:
        if len(zones) == 1:
            return self._found(zones[0])
        return TimezoneSuggestions(query, "ambiguous", tuple(zones[:_MAX_SUGGESTIONS]))

    def _exact_key(self, text: str) -> str | None:
        key = self._by_lower.get("_".join(text.split()).lower())
        if key is None or key in self.storable:
            return key
        if key.startswith("Etc/"):
            return None
        target = self._canonical(key)  # "US/Eastern" -> "America/New_York"
        return target if target in self.storable else None

    def _zones_for(self, name: str) -> tuple[str, ...] | None:
        """Zones for a normalised place name: curated places first, then key cities."""
        variants = [name, name.replace(" ", "")]
        for long, short in (("saint ", "st "), ("st ", "saint ")):
            if name.startswith(long):
                variants.append(short + name[len(long) :])
        for variant in variants:
            if variant in self._places:
                return self._places[variant]
        for variant in variants:
            if variant in self._by_city:
                return self._one_per_zone(self._by_city[variant])
        return None

    def _name_rank(self, name: str) -> tuple[int, int, str]:
        """Sort key for names: the most populous zone first, then shorter names."""
        zones = self._zones_for(name) or ()
        best = min((self._rank.get(z, len(self._rank)) for z in zones), default=len(self._rank))
        return best, len(name), name

    def _similar(self, text: str) -> tuple[str, ...]:
        """Up to 5 keys for names close to ``text``: name prefixes first, then difflib."""
        parts = [_normalise_place(text)]
        if "/" in text:
            parts.append(_normalise_place(text.rsplit("/", 1)[-1]))
        if "," in text:
            parts.append(_normalise_place(text.split(",", 1)[0]))
        names: list[str] = []
        for part in parts:
            if len(part) >= 3:
                names += sorted((n for n in self._names if n.startswith(part)), key=self._name_rank)
        for part in parts:
            for form in dict.fromkeys((part, part.replace(" ", ""))):
                names += difflib.get_close_matches(
                    form, self._names, n=2 * _MAX_SUGGESTIONS, cutoff=0.75
                )
        # Each name's main zone first, then the other zones of names spanning several.
        per_name = [self._zones_for(name) or () for name in dict.fromkeys(names)]
        ordered = [zones[0] for zones in per_name if zones]
        ordered += [key for zones in per_name for key in zones[1:]]
        return tuple(dict.fromkeys(ordered))[:_MAX_SUGGESTIONS]

    def _zones_at(self, offset: timedelta, at: datetime | None) -> list[str]:
        """Zones at ``offset``: at ``at`` if given and any is, else in January or July."""
        if at is not None:
            now = [
                k
                for k in self._offset_candidates
                if at.astimezone(ZoneInfo(k)).utcoffset() == offset
            ]
            if now:
                return now
        standard: list[str] = []
        summer: list[str] = []
        others: list[str] = []
        for key in self._offset_candidates:
            local = [instant.astimezone(ZoneInfo(key)) for instant in _OFFSET_REFERENCE]
            major = key == _UTC_KEY or key in self._rank
            if any(t.utcoffset() == offset and not t.dst() for t in local):
                (standard if major else others).append(key)
            elif any(t.utcoffset() == offset for t in local):
                (summer if major else others).append(key)
        # Major zones first, keeping up to two where this is summer time (Berlin for
        # "UTC+2"), then the rest in order.
        chosen = standard[: _MAX_SUGGESTIONS - min(2, len(summer))]
        chosen += summer[: _MAX_SUGGESTIONS - len(chosen)]
        return chosen + [k for k in (*standard, *summer, *others) if k not in chosen]

    def _by_offset(
        self, query: str, offsets: Sequence[timedelta], at: datetime | None
    ) -> TimezoneSuggestions:
        if not offsets:
            return TimezoneSuggestions(query, "unknown", ())
        per_offset = [self._zones_at(offset, at) for offset in offsets]
        # Both readings of "Etc/GMT+2": three places as written, then two at its POSIX sense.
        quota = [3, 2] if len(per_offset) == 2 else [_MAX_SUGGESTIONS]
        picked: list[str] = []
        for zones, share in zip(per_offset, quota, strict=True):
            picked += [k for k in zones if k not in picked][:share]
        for zones in per_offset:
            picked += [k for k in zones if k not in picked]
        return TimezoneSuggestions(query, "abbreviation", tuple(picked[:_MAX_SUGGESTIONS]))

    # -- lookup --------------------------------------------------------------------------

    def find(self, query: str, *, at: datetime | None = None) -> TimezoneMatch:
        """See :func:`find_timezone`."""
        text = " ".join(query.translate(_DASHES).split())
        if not text:
            return TimezoneSuggestions(query, "empty", ())
        compact = text.replace(" ", "")
        upper = compact.upper()
        if upper in _UTC_NAMES:
            return self._found(_UTC_KEY)
        if upper in _ABBREVIATION_SUGGESTIONS:
            offered = tuple(k for k in _ABBREVIATION_SUGGESTIONS[upper] if k in self.storable)
            return TimezoneSuggestions(query, "abbreviation", offered)
        if (offsets := _typed_offsets(compact.lower())) is not None:
            return self._by_offset(query, offsets, at)
        if (zones := self._zones_for(_normalise_place(text))) is not None:
            return self._answer(query, zones)
        if (key := self._exact_key(text)) is not None:
            return self._found(key)
        if "/" in text:  # "Region/City" with a city we know under another region
            city = self._zones_for(_normalise_place(text.rsplit("/", 1)[-1]))
            if city is not None:
                return self._answer(query, city)
        if "," in text:  # "Berlin, Germany", "Victoria, Canada", "Smalltown, USA"
            city = self._zones_for(_normalise_place(text.split(",", 1)[0]))
            country = self._zones_for(_normalise_place(text.rsplit(",", 1)[-1]))
            if city is not None and country is not None and len(city) > 1:
                city = tuple(z for z in city if z in country) or city
            if (zones := city or country) is not None:
                return self._answer(query, zones)
        return TimezoneSuggestions(query, "unknown", self._similar(text))


def tzdata_lines(name: str) -> list[str]:
    """Lines of a file shipped in the tzdata package's ``zoneinfo``; empty if unavailable."""
    try:
        source = resources.files("tzdata").joinpath("zoneinfo", name)
        return source.read_text(encoding="utf-8").splitlines()
    except (ModuleNotFoundError, OSError):
        return []


def _tzdata_links() -> dict[str, str]:
    """Alias -> target from the tzdata package's ``tzdata.zi``; empty if unavailable."""
    links: dict[str, str] = {}
    for line in tzdata_lines("tzdata.zi"):
        fields = line.split()
        if len(fields) == 3 and fields[0] == "L":
            links[fields[2]] = fields[1]
    return links


def _tzdata_locations() -> frozenset[str]:
    """The keys listed in the tzdata package's ``zone.tab`` (one per place and country)."""
    return frozenset(
        fields[2]
        for line in tzdata_lines("zone.tab")
        if not line.startswith("#") and len(fields := line.split("\t")) >= 3
    )


@cache
def _default_index() -> TimezoneIndex:
    return TimezoneIndex(zoneinfo.available_timezones(), _tzdata_links(), _tzdata_locations())


def find_timezone(query: str, *, at: datetime | None = None) -> TimezoneMatch:
    """Resolve what a user typed after ``/timezone`` to an IANA zone, or suggestions.

    Tried in order (names are compared case-, accent- and punctuation-insensitively):

    1. "UTC" (and "Z", "Zulu", "UCT", "Etc/UTC") -> exact zone "UTC". Abbreviations,
       "GMT" included ("EST", "CET", "IST", "BST", "SGT", ...), are never exact,
       because they name an offset and not a place's DST rules, or several places:
       reason "abbreviation" with city zones, the likeliest first.
    2. A UTC offset ("UTC+2", "GMT-5", "+05:30", "Etc/GMT+2") is never set as a fixed
       offset without daylight saving either: reason "abbreviation" with up to 5 major
       zones at that offset, at the aware instant ``at`` if given (and any zone is),
       otherwise in January or July (standard time first). "Etc/GMT+2" means UTC-2 in
       POSIX but users read it as UTC+2: zones for both are offered, as written first.
       An impossible offset ("UTC+20") is reason "unknown" with no suggestions.
    3. A curated place (:data:`PLACE_ZONES`): city, metro name or short form ("mumbai",
       "nyc", "sf"), old spelling ("kiev"), country or region ("germany", "uk").
       Places spanning several zones ("usa", "australia", "washington") give reason
       "ambiguous" with the main zones, most populous first.
    4. An IANA key, spaces allowed for underscores ("europe/berlin", "America/New York").
       Legacy aliases ("US/Eastern", "Australia/Victoria", "Europe/Kiev") give their
       target key; current place keys ("Europe/Amsterdam") are kept as typed.
    5. A city: the last part of a place key ("berlin", "new york", "newyork",
       "são paulo"; "saint"/"st" interchangeable). One zone listed under several keys
       gives the canonical key; different zones give reason "ambiguous". For
       "Region/City" the city part is tried, and for "City, Country" the city, narrowed
       by or else replaced with the country.
    6. Otherwise reason "unknown" with up to 5 keys for names starting with the text,
       then close spellings (difflib); the tuple may be empty ("Mars/Olympus").

    Legacy aliases and ``Etc/`` keys other than UTC are never returned.
    """
    return _default_index().find(query, at=at)


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
