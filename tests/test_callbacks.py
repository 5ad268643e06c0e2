"""Button data: every typed argument is written and read back by one codec, and the format is
the one earlier releases put on buttons that are still in people's chats."""

from __future__ import annotations

from datetime import time

import pytest

from bot.core.callbacks import (
    MAX_BYTES,
    Action,
    Answer,
    Button,
    DaysChoice,
    DayToggle,
    Snooze,
    Value,
    decode,
    encode,
)


@pytest.mark.parametrize(
    ("action", "value", "data"),
    [
        (Action.ACCEPT, "c19430fd5296", "sc1:accept:c19430fd5296"),
        (Action.START_HOLD, 3, "sc1:hold:3"),
        (Action.WARM, None, "sc1:warm"),
        (Action.SCREEN, Answer("saddle", True), "sc1:scr:saddle.y"),
        (Action.STOP_ANSWER, Answer("settling", False), "sc1:sans:settling.n"),
        (Action.RECHECK, False, "sc1:rchk:n"),
        (Action.AFTER_STOP, "skip", "sc1:astop:skip"),
        (Action.TICK, "hip_surgery", "sc1:tick:hip_surgery"),
        (Action.REMIND_TIME, time(7, 30), "sc1:rtime:0730"),
        (Action.REMIND_TIME, None, "sc1:rtime:other"),
        (Action.REMIND_DAYS, DaysChoice("weekdays", time(18, 15)), "sc1:rdays:weekdays.1815"),
        (Action.REMIND_DAY, DayToggle(4, time(7, 0)), "sc1:rday:4.0700"),
        (Action.REMIND_DAYS_DONE, time(7, 0), "sc1:rdone:0700"),
        (Action.SNOOZE, Snooze(12, 15), "sc1:snooze:12.15"),
        (Action.SKIP_TODAY, 12, "sc1:skip:12"),
        (
            Action.TIMEZONE,
            "America/Argentina/Buenos_Aires",
            "sc1:tz:America/Argentina/Buenos_Aires",
        ),
    ],
)
def test_every_argument_round_trips_in_the_released_format(
    action: Action, value: Value, data: str
) -> None:
    """What a button carries reads back as the same typed value, in the format already out."""
    assert encode(action, value) == data == Button("label", action, value).data
    assert decode(data) == (action, value)


@pytest.mark.parametrize(
    "data",
    [
        None,
        "",
        "something:else",
        "sc2:hold:3",  # another format version
        "sc1:nosuchaction",
        "sc1:hold:three",
        "sc1:hold",  # an argument missing
        "sc1:warm:1",  # an argument where none belongs
        "sc1:scr:saddle.maybe",
        "sc1:rtime:2460",
        "sc1:rday:7.0700",
        "sc1:snooze:12",
    ],
)
def test_data_this_version_did_not_make_is_refused(data: str | None) -> None:
    """Anything else is an old or foreign button: None, never a guess."""
    assert decode(data) is None


def test_data_never_exceeds_telegrams_limit() -> None:
    """An argument too long for the 64 bytes Telegram allows is refused when the button is made."""
    with pytest.raises(ValueError, match="does not fit"):
        encode(Action.TIMEZONE, "A" * (MAX_BYTES - 5))
