"""What is kept about a chat: consent, where it is in the routine, its safety record.

Stored as a row by bot.storage (bot.storage.codec writes the routine's progress and the safety
record as versioned JSON).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from bot.core.safety import Safety


class Phase(StrEnum):
    CONSENT = "consent"  # the disclaimer is shown; waiting for accept or decline
    WARM_UP_CHECK = "warm_up_check"  # "are you warm?"
    WARM_UP_GUIDE = "warm_up_guide"  # the warm-up timer runs
    READY = "ready"  # a stretch's instructions are shown; waiting for "Start hold"
    HOLD = "hold"  # the hold timer runs
    REST = "rest"  # between two stretches
    # Safety: the warning-sign check between consent and the warm-up, and what follows Stop.
    SCREEN = "screen"  # a yes/no question of the check (`question`: its index)
    CONDITIONS = "conditions"  # the check's tick-list (`ticks`: ticked so far)
    NOTICES = "notices"  # the notices for the ticks are shown: go on, or not today
    RECHECK = "recheck"  # "Anything new since last time?"
    STOPPED = "stopped"  # Stop was pressed (`question`: 0 numbness, 1 settling, 2 what next)


# The phases a Stop button is shown in, and where typed text is answered with an offer to stop.
TIMED = frozenset({Phase.WARM_UP_GUIDE, Phase.READY, Phase.HOLD, Phase.REST})


@dataclass(frozen=True)
class RoutineState:
    phase: Phase
    stretch: int = 0
    started_at: float | None = None
    ends_at: float | None = None
    wake_at: float | None = None
    cues_said: int = 0
    countdown_message_id: int | None = None
    countdown_shown: int | None = None  # the seconds the countdown message shows
    countdown_at: float | None = None  # when it was last sent or edited
    question: int = 0  # SCREEN, STOPPED: which question is asked
    ticks: tuple[str, ...] = ()  # CONDITIONS: the conditions ticked so far
    rounds: int = 0  # warm-up: guided rounds done
    done: tuple[int, ...] = ()  # the stretches held to the end in this routine


@dataclass(frozen=True)
class ChatState:
    """All that is kept about one chat."""

    locale: str | None = None
    consent_version: str | None = None
    consent_at: float | None = None
    declined_at: float | None = None
    routine: RoutineState | None = None
    safety: Safety = field(default_factory=Safety)
    reminders_paused: bool = False  # after a warning sign or a stopped routine
    timezone: str | None = None  # read only here (set by /timezone): the country's numbers
    last_press: int | None = None  # the message whose button was handled last

    @property
    def wake_at(self) -> float | None:
        return self.routine.wake_at if self.routine else None
