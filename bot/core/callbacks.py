"""Callback data: the small, versioned, namespaced strings behind inline buttons, as typed values.

`sc1:<action>[:<argument>]`, always under Telegram's 64-byte limit. Each action has one codec
that both writes its argument (the keyboard builder, through `Button.data`) and reads it back
(`decode`, for the handler), so the machines only ever see typed values: a stretch index, a
time, a yes/no answer. Data that does not parse is None: a button this version did not make.
Knows nothing of Telegram.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import time
from enum import StrEnum
from typing import Any, Generic, TypeVar

PREFIX = "sc1"
PATTERN = re.compile(rf"^{PREFIX}:([a-z_]+)(?::([A-Za-z0-9_./+-]{{1,48}}))?$")
MAX_BYTES = 64


class Action(StrEnum):
    ACCEPT = "accept"  # the disclaimer version the user read
    DECLINE = "decline"
    WARM = "warm"
    GUIDE_ME = "guide"
    START_HOLD = "hold"  # the index of the stretch it starts
    START_ROUTINE = "routine"
    # On the countdown (and the card): each carries the stretch index it belongs to.
    PAUSE = "pause"
    RESUME = "resume"
    EXTEND = "more"
    SKIP_SIDE = "sskip"
    # /settings (bot.core.settings_steps): a choice tapped (its key), done, and shortcuts.
    SETTING = "set"
    SETTINGS_DONE = "setdone"
    SETTINGS_TIMEZONE = "settz"
    SETTINGS_REMINDERS = "setrem"
    # Progress: a pain score 0-10 (before or after the routine), or skipping the question.
    PAIN = "pain"
    PAIN_SKIP = "painskip"
    # Your data: a rest day declared (keeps the streak), and /forget's confirmation.
    REST_DAY = "rest"
    FORGET = "forget"  # True: delete everything; False: keep it
    # Safety (bot.core.safety_steps): the warning-sign check and Stop
    SCREEN = "scr"  # Answer: a question of the check, yes or no
    TICK = "tick"  # a condition id, toggled in the tick-list
    TICKS_DONE = "tdone"
    TICKS_NONE = "tnone"
    RECHECK = "rchk"  # True: something is new
    GO_ON = "goon"  # go on after the notices of the check
    END_TODAY = "end"  # end the routine for today
    STOP = "stop"  # stop the stretch being done now
    STOP_ANSWER = "sans"  # Answer: "numb" or "settling", yes or no
    AFTER_STOP = "astop"  # "next" | "skip" | "end"
    # Reminders and time zones (bot.core.reminders)
    REMIND_TIME = "rtime"  # a time, or None for "another time" (typed)
    REMIND_DAYS = "rdays"  # DaysChoice: every_day | weekdays | choose, for a time
    REMIND_DAY = "rday"  # DayToggle: a weekday 0-6 toggled while choosing days, for a time
    REMIND_DAYS_DONE = "rdone"  # the time being set up
    REMIND_ADD = "radd"  # a time: a daily reminder offered after the routine
    REMIND_DELETE = "rdel"  # a reminder id
    SNOOZE = "snooze"  # Snooze: a reminder id and minutes
    SKIP_TODAY = "skip"  # a reminder id
    TIMEZONE = "tz"  # an IANA key


REMINDER_ACTIONS = frozenset(
    {
        Action.REMIND_TIME,
        Action.REMIND_DAYS,
        Action.REMIND_DAY,
        Action.REMIND_DAYS_DONE,
        Action.REMIND_ADD,
        Action.REMIND_DELETE,
        Action.SNOOZE,
        Action.SKIP_TODAY,
        Action.TIMEZONE,
    }
)


# --------------------------------------------------------------------------- typed arguments


@dataclass(frozen=True)
class Answer:
    """A yes/no answer to a named question."""

    question: str
    yes: bool


@dataclass(frozen=True)
class DaysChoice:
    choice: str  # "every_day" | "weekdays" | "choose"
    at: time


@dataclass(frozen=True)
class DayToggle:
    day: int  # 0 = Monday
    at: time


@dataclass(frozen=True)
class Snooze:
    reminder_id: int
    minutes: int


Value = None | str | int | bool | time | Answer | DaysChoice | DayToggle | Snooze
V = TypeVar("V")
_WORD = re.compile(r"^[a-z][a-z0-9_]{0,30}$")


@dataclass(frozen=True)
class Codec(Generic[V]):
    """How one action's argument is written into callback data and read back."""

    write: Callable[[V], str]
    read: Callable[[str], V | None]


def _hhmm(at: time) -> str:
    return f"{at.hour:02d}{at.minute:02d}"


def _read_time(text: str) -> time | None:
    if len(text) != 4 or not text.isdigit() or int(text[:2]) > 23 or int(text[2:]) > 59:
        return None
    return time(int(text[:2]), int(text[2:]))


def _read_int(text: str) -> int | None:
    return int(text) if text.isdigit() and len(text) <= 12 else None


def _read_word(text: str) -> str | None:
    return text if _WORD.match(text) else None


def _read_answer(text: str) -> Answer | None:
    question, _, yes = text.rpartition(".")
    return Answer(question, yes == "y") if _WORD.match(question) and yes in ("y", "n") else None


def _read_days(text: str) -> DaysChoice | None:
    choice, _, hhmm = text.partition(".")
    at = _read_time(hhmm)
    ok = choice in ("every_day", "weekdays", "choose") and at is not None
    return DaysChoice(choice, at) if ok and at is not None else None


def _read_day(text: str) -> DayToggle | None:
    day, _, hhmm = text.partition(".")
    at = _read_time(hhmm)
    ok = len(day) == 1 and day in "0123456" and at is not None
    return DayToggle(int(day), at) if ok and at is not None else None


def _read_snooze(text: str) -> Snooze | None:
    reminder, _, minutes = text.partition(".")
    r, m = _read_int(reminder), _read_int(minutes)
    return Snooze(r, m) if r is not None and m is not None else None


def _read_yes_no(text: str) -> bool | None:
    return {"y": True, "n": False}.get(text)


_NONE: Codec[None] = Codec(lambda _: "", lambda text: None)
_TIME: Codec[time] = Codec(_hhmm, _read_time)
_INT: Codec[int] = Codec(str, _read_int)
_WORDS: Codec[str] = Codec(str, _read_word)
_ANSWER: Codec[Answer] = Codec(lambda a: f"{a.question}.{'y' if a.yes else 'n'}", _read_answer)

CODECS: dict[Action, Codec[Any]] = {
    Action.ACCEPT: Codec(str, lambda t: t if re.fullmatch(r"[0-9a-f]{12}", t) else None),
    Action.START_HOLD: _INT,
    Action.PAUSE: _INT,
    Action.RESUME: _INT,
    Action.EXTEND: _INT,
    Action.SKIP_SIDE: _INT,
    Action.SETTING: _WORDS,
    Action.FORGET: Codec(lambda yes: "y" if yes else "n", _read_yes_no),
    Action.PAIN: Codec(str, lambda t: int(t) if t.isdigit() and int(t) <= 10 else None),
    Action.SCREEN: _ANSWER,
    Action.STOP_ANSWER: _ANSWER,
    Action.RECHECK: Codec(
        lambda yes: "y" if yes else "n", lambda t: {"y": True, "n": False}.get(t)
    ),
    Action.AFTER_STOP: Codec(str, lambda t: t if t in ("next", "skip", "end") else None),
    Action.TICK: _WORDS,
    Action.REMIND_TIME: Codec(lambda at: "other" if at is None else _hhmm(at), _read_time),
    Action.REMIND_ADD: _TIME,
    Action.REMIND_DAYS: Codec(lambda d: f"{d.choice}.{_hhmm(d.at)}", _read_days),
    Action.REMIND_DAY: Codec(lambda d: f"{d.day}.{_hhmm(d.at)}", _read_day),
    Action.REMIND_DAYS_DONE: _TIME,
    Action.REMIND_DELETE: _INT,
    Action.SNOOZE: Codec(lambda s: f"{s.reminder_id}.{s.minutes}", _read_snooze),
    Action.SKIP_TODAY: _INT,
    Action.TIMEZONE: Codec(
        str, lambda t: t if re.fullmatch(r"[A-Za-z0-9_./+-]{1,48}", t) else None
    ),
}
# "Another time" is REMIND_TIME with no time: the only argument that may be absent on purpose.
_OPTIONAL = frozenset({Action.REMIND_TIME})


@dataclass(frozen=True)
class Button:
    """An inline button as a machine asks for it: a label, and what pressing it means."""

    label: str
    action: Action
    value: Value = None
    row: int | None = None  # buttons with the same row share a keyboard row

    @property
    def data(self) -> str:
        return encode(self.action, self.value)


def encode(action: Action, value: Value = None) -> str:
    codec = CODECS.get(action)
    arg = "" if codec is None or (value is None and action not in _OPTIONAL) else codec.write(value)
    if action in _OPTIONAL and value is None:
        arg = "other"
    data = f"{PREFIX}:{action.value}" + (f":{arg}" if arg else "")
    if len(data.encode()) > MAX_BYTES or not PATTERN.match(data):
        raise ValueError(f"callback data {data!r} does not fit the format")
    return data


def decode(data: str | None) -> tuple[Action, Value] | None:
    """The action and its typed argument, or None for data this version did not make."""
    match = PATTERN.match(data or "")
    if not match:
        return None
    try:
        action = Action(match.group(1))
    except ValueError:
        return None
    arg = match.group(2) or ""
    codec = CODECS.get(action)
    if codec is None:
        return (action, None) if not arg else None
    if action in _OPTIONAL and arg == "other":
        return action, None
    value: Value = codec.read(arg) if arg else None
    return None if value is None else (action, value)
