"""Callback data: the small, versioned, namespaced strings behind inline buttons.

One definition serves the keyboard builder and the handler's pattern: `sc1:<action>[:<arg>]`,
parsed strictly and always under Telegram's 64-byte limit. Knows nothing of Telegram.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

PREFIX = "sc1"
PATTERN = re.compile(rf"^{PREFIX}:([a-z_]+)(?::([A-Za-z0-9_./+-]{{1,48}}))?$")
MAX_BYTES = 64


class Action(StrEnum):
    ACCEPT = "accept"  # arg: the disclaimer version the user read
    DECLINE = "decline"
    WARM = "warm"
    GUIDE_ME = "guide"
    START_HOLD = "hold"  # arg: the index of the stretch it starts
    START_ROUTINE = "routine"
    # Safety (bot.core.routine): the warning-sign check and Stop
    SCREEN = "scr"  # arg: question id "." y|n
    TICK = "tick"  # arg: a condition id, toggled in the tick-list
    TICKS_DONE = "tdone"
    TICKS_NONE = "tnone"
    RECHECK = "rchk"  # arg: y (something is new) | n
    GO_ON = "goon"  # go on after the notices of the check
    END_TODAY = "end"  # end the routine for today
    STOP = "stop"  # stop the stretch being done now
    STOP_ANSWER = "sans"  # arg: numb|settling "." y|n
    AFTER_STOP = "astop"  # arg: next | skip | end
    # Reminders and time zones (bot.runtime.reminders)
    REMIND_TIME = "rtime"  # arg: HHMM, or "other" for a typed time
    REMIND_DAYS = "rdays"  # arg: every_day | weekdays | choose
    REMIND_DAY = "rday"  # arg: 0-6, toggles a day while choosing days
    REMIND_DAYS_DONE = "rdone"
    REMIND_ADD = "radd"  # arg: HHMM, a daily reminder offered after the routine
    REMIND_DELETE = "rdel"  # arg: reminder id
    SNOOZE = "snooze"  # arg: reminder id "." minutes
    SKIP_TODAY = "skip"  # arg: reminder id
    TIMEZONE = "tz"  # arg: an IANA key


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


@dataclass(frozen=True)
class Button:
    """An inline button as the routine asks for it: a label and what pressing it means."""

    label: str
    action: Action
    arg: str = ""
    row: int | None = None  # buttons with the same row share a keyboard row

    @property
    def data(self) -> str:
        return encode(self.action, self.arg)


def encode(action: Action, arg: str = "") -> str:
    data = f"{PREFIX}:{action.value}" + (f":{arg}" if arg else "")
    if len(data.encode()) > MAX_BYTES or not PATTERN.match(data):
        raise ValueError(f"callback data {data!r} does not fit the format")
    return data


def decode(data: str | None) -> tuple[Action, str] | None:
    """The action and argument of a button, or None for data this version did not make."""
    match = PATTERN.match(data or "")
    if not match:
        return None
    try:
        action = Action(match.group(1))
    except ValueError:
        return None
    return action, match.group(2) or ""
