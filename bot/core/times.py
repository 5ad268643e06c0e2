"""What users type for reminders, as values: a wall-clock time, a set of weekdays, /remind's
arguments. Pure: parse failures are exceptions with a machine `reason` and the offending text;
the bot maps reasons to texts from content.

The words read ("noon", "weekdays", "lunes") are data: a `Words` built from content (`words:`
in each language file), so a language is a YAML file, not code. The grammar around them (digits,
am/pm after the hour, ranges) is here. Knows nothing of Telegram, storage or clocks."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import time
from typing import Literal, TypeAlias

__all__ = [
    "EVERY_DAY",
    "WEEKDAYS",
    "WEEKENDS",
    "Days",
    "DaysParseError",
    "DaysReason",
    "Meaning",
    "RemindOff",
    "RemindRequest",
    "ScheduleParseError",
    "TimeParseError",
    "TimeReason",
    "Words",
    "fold",
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
# The words read
# --------------------------------------------------------------------------------------

Days: TypeAlias = frozenset[int]
"""Weekdays as :meth:`datetime.date.weekday` numbers: 0 = Monday ... 6 = Sunday."""

EVERY_DAY: Days = frozenset(range(7))
WEEKDAYS: Days = frozenset(range(5))
WEEKENDS: Days = frozenset({5, 6})

Marker: TypeAlias = Literal["am", "pm", "through", "at", "ignore", "off"]
"""What a word does that is not a time or days: "pm" after an hour, "to" in "mon to fri", "at"
before a time, "and" between days (ignored), "off" for /remind off."""

Meaning: TypeAlias = time | int | Days | Marker
"""A time of day ("noon"), a weekday number ("monday"), a set of days ("weekdays"), a marker."""


def fold(text: str) -> str:
    """Lower case, accents off, single spaces: "Miércoles" is read as "miercoles"."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(bare.lower().split())


@dataclass(frozen=True)
class Words:
    """The words the reader understands, folded (see :func:`fold`), each with its meaning.

    The lists come from content (`words:` in each language file): :meth:`build` makes one
    language's, and ``mine | english`` reads both, a word's meaning in ``mine`` winning. The
    grammar around them (digits, an am/pm word after the hour, ranges) is this module's.
    """

    meanings: Mapping[str, Meaning]
    # Where each word was listed ("words.days[0]"), for error messages.
    origins: Mapping[str, str] = field(default_factory=dict, compare=False)
    # The most words in one phrase ("todos los dias": 3), and am/pm words longest first.
    longest: int = field(init=False, compare=False)
    suffixes: tuple[tuple[str, Marker], ...] = field(init=False, compare=False)

    def __post_init__(self) -> None:
        longest = max((len(phrase.split()) for phrase in self.meanings), default=1)
        suffixes = sorted(
            ((p, m) for p, m in self.meanings.items() if m == "am" or m == "pm"),
            key=lambda item: -len(item[0]),
        )
        object.__setattr__(self, "longest", longest)
        object.__setattr__(self, "suffixes", tuple(suffixes))

    @classmethod
    def build(cls, lists: Iterable[tuple[str, Meaning, Iterable[str]]]) -> Words:
        """Words from (where, meaning, phrases) lists; ValueError for a word with two meanings."""
        meanings: dict[str, Meaning] = {}
        origins: dict[str, str] = {}
        for where, meaning, phrases in lists:
            for phrase in phrases:
                key = fold(phrase)
                if not key:
                    raise ValueError(f"{where}: an empty word")
                if key in meanings and meanings[key] != meaning:
                    raise ValueError(
                        f"{where}: {phrase!r} is also listed in {origins[key]}; "
                        "a word may have one meaning"
                    )
                meanings[key] = meaning
                origins.setdefault(key, where)
        return cls(meanings, origins)

    def __or__(self, other: Words) -> Words:
        """These words and ``other``'s; where both have a word, its meaning here."""
        return Words({**other.meanings, **self.meanings}, {**other.origins, **self.origins})

    def clashes(self, other: Words) -> list[str]:
        """The words ``other`` reads differently, each as "where: 'word' (other's where)"."""
        return [
            f"{self.origins.get(key, '?')}: {key!r} means something else in "
            f"{other.origins.get(key, '?')}"
            for key, meaning in self.meanings.items()
            if key in other.meanings and other.meanings[key] != meaning
        ]

    def at_start(self, said: Sequence[str], start: int = 0) -> tuple[int, Meaning] | None:
        """The longest phrase beginning at ``said[start]``: (how many words, its meaning)."""
        for width in range(min(self.longest, len(said) - start), 0, -1):
            meaning = self.meanings.get(fold(" ".join(said[start : start + width])))
            if meaning is not None:
                return width, meaning
        return None

    def at_end(self, said: Sequence[str]) -> tuple[int, Meaning] | None:
        """The longest phrase ending ``said``: (how many words, its meaning)."""
        for width in range(min(self.longest, len(said)), 0, -1):
            meaning = self.meanings.get(fold(" ".join(said[len(said) - width :])))
            if meaning is not None:
                return width, meaning
        return None


# --------------------------------------------------------------------------------------
# Times of day
# --------------------------------------------------------------------------------------

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


def parse_time(text: str, words: Words) -> time:
    """Parse a wall-clock time of day as users type it.

    Accepted (case- and accent-insensitive, surrounding spaces ignored): 24-hour "07:30",
    "7:30", "19.15", "0730", "19h", "19h30"; 12-hour, an hour followed by one of the am/pm
    words of ``words`` ("7pm", "7 pm", "7:30pm", "7.30 am", "7 p.m.", "7 de la tarde"), with
    "12am" = 00:00 and "12pm" = 12:00; the time words of ``words`` ("noon", "mediodía");
    and a bare hour only where it cannot be misread ("0", "00", "13"-"23"). A bare "1"-"12"
    raises ``ambiguous_hour`` so the bot can ask "morning or evening?". Seconds are not
    accepted. Raises :class:`TimeParseError` otherwise.
    """
    s = fold(text)
    if not s:
        raise TimeParseError("empty", text)
    said = words.meanings.get(s)
    if isinstance(said, time):
        return said
    for suffix, marker in words.suffixes:  # "7 p.m.", "7 de la tarde": "7pm"
        head = s.removesuffix(suffix).rstrip()
        if head != s and head[-1:].isdigit():
            s = head + marker
            break

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

_DAY_KEYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")  # storage keys, not words read


def _day_number(said: str, meaning: Meaning | None, words: Words) -> int | None:
    """The weekday a word names: a day word, or its plural ("mondays", "sábados")."""
    if isinstance(meaning, int):
        return meaning
    if meaning is None and said.endswith("s"):
        singular = words.meanings.get(fold(said[:-1]))
        if isinstance(singular, int):
            return singular
    return None


def _span(first: int, last: int) -> set[int]:
    """The days from ``first`` to ``last`` inclusive, around the end of the week if need be."""
    return {(first + i) % 7 for i in range((last - first) % 7 + 1)}


def _read(said: Sequence[str], words: Words) -> list[tuple[str, Meaning | None]]:
    """The words typed as phrases, longest first, each with its meaning (None: unknown)."""
    read: list[tuple[str, Meaning | None]] = []
    i = 0
    while i < len(said):
        found = words.at_start(said, i)
        width, meaning = found if found is not None else (1, None)
        read.append((" ".join(said[i : i + width]), meaning))
        i += width
    return read


def parse_days(tokens: Sequence[str], words: Words) -> Days:
    """Parse the day part of ``/remind`` into a set of weekday numbers (0 = Monday).

    Case- and accent-insensitive, with the words of ``words``. Nothing at all means all
    seven days, as do the every-day words ("every day", "todos los días"); the weekday and
    weekend words ("weekdays", "entre semana") are Monday-Friday and Saturday-Sunday. Day
    names ("mon", "monday", "mié", plurals "mondays", "sábados") are separated by spaces or
    commas ("mon wed fri", "mon,wed,fri"). Ranges are inclusive and wrap around the week end
    ("mon-fri", "fri-mon" = Fri, Sat, Sun, Mon; with a range word, "lunes a viernes"). Groups,
    names and ranges may be combined and are unioned. Words to ignore ("on", "and", "y") are
    ignored. Raises :class:`DaysParseError` otherwise.
    """
    if isinstance(tokens, str):  # a bare string is a Sequence[str] of characters
        tokens = [tokens]
    s = " ".join(tokens).lower()
    s = re.sub(r"[,;/+]", " ", s)
    s = re.sub(r"\s*[-\u2013\u2014]\s*", "-", s)  # "mon - fri", en/em dashes
    read = _read(s.split(), words)
    if not read:
        return EVERY_DAY

    days: set[int] = set()
    saw_day = False
    i = 0
    while i < len(read):
        said, meaning = read[i]
        i += 1
        if meaning in ("ignore", "at"):
            continue
        saw_day = True
        if isinstance(meaning, frozenset):
            days |= meaning
        elif (first := _day_number(said, meaning, words)) is not None:
            if i + 1 < len(read) and read[i][1] == "through":  # "lunes a viernes"
                last = _day_number(*read[i + 1], words)
                if last is None:
                    raise DaysParseError("unknown_day", read[i + 1][0])
                days |= _span(first, last)
                i += 2
            else:
                days.add(first)
        elif meaning == "through":
            raise DaysParseError("bad_range", said)
        elif meaning is None and "-" in said:
            parts = said.split("-")
            if len(parts) != 2 or not all(parts):
                raise DaysParseError("bad_range", said)
            first_day, last_day = (
                _day_number(p, words.meanings.get(fold(p)), words) for p in parts
            )
            if first_day is None:
                raise DaysParseError("unknown_day", parts[0])
            if last_day is None:
                raise DaysParseError("unknown_day", parts[1])
            days |= _span(first_day, last_day)
        else:
            raise DaysParseError("unknown_day", said)
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


def _time_at_front(tokens: Sequence[str], words: Words) -> tuple[time, list[str]]:
    found = words.at_start(tokens)
    width = found[0] if found is not None and isinstance(found[1], time) else 1
    after = words.at_start(tokens, width)
    if after is not None and after[1] in ("am", "pm"):  # "7 pm", "7 de la tarde"
        width += after[0]
    return parse_time(" ".join(tokens[:width]), words), list(tokens[width:])


def _time_at_back(tokens: Sequence[str], words: Words) -> tuple[time, list[str]]:
    found = words.at_end(tokens)
    width = 1
    if found is not None and found[1] in ("am", "pm") and found[0] < len(tokens):
        width = found[0] + 1  # the hour, and its am/pm words
    elif found is not None and isinstance(found[1], time):
        width = found[0]
    return parse_time(" ".join(tokens[-width:]), words), list(tokens[:-width])


def parse_remind_args(args: Sequence[str], words: Words) -> RemindRequest | RemindOff:
    """Parse the whole ``/remind`` argument list, with the words of ``words``.

    An off word alone ("off", "stop") gives :class:`RemindOff`. Otherwise a time (see
    :func:`parse_time`; "7 pm" may be split over several arguments, and a leading "at" word
    is ignored) followed by optional days (see :func:`parse_days`): "7pm weekdays",
    "18:15 mon wed fri", "7 pm mon", "19:00 entre semana". The time may also come last
    ("weekdays 7pm"). Arguments are re-split on whitespace, so ``["7pm weekdays"]`` works
    too. Raises :class:`TimeParseError` (reason "empty" for no arguments) or
    :class:`DaysParseError`.
    """
    tokens = " ".join(args).split()
    if not tokens:
        raise TimeParseError("empty", "")
    if words.meanings.get(fold(" ".join(tokens))) == "off":
        return RemindOff()
    found = words.at_start(tokens)
    if found is not None and found[1] == "at":  # "at 7pm", "a las 19:00"
        tokens = tokens[found[0] :]
        if not tokens:
            raise TimeParseError("empty", "")
    try:
        at, rest = _time_at_front(tokens, words)
    except TimeParseError as front_error:
        if front_error.reason != "unrecognised" or len(tokens) < 2:
            raise
        try:
            at, rest = _time_at_back(tokens, words)
        except TimeParseError as back_error:
            if back_error.reason != "unrecognised":
                raise
            raise front_error from None
    return RemindRequest(time=at, days=parse_days(rest, words))
