"""What is kept about a chat: consent, where it is in the routine, its safety record.

Stored as a row by bot.storage (bot.storage.codec writes the routine's progress and the safety
record as versioned JSON).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import StrEnum

from bot.core.safety import Safety


class Phase(StrEnum):
    CONSENT = "consent"  # the disclaimer is shown; waiting for accept or decline
    WARM_UP_CHECK = "warm_up_check"  # "are you warm?"
    WARM_UP_GUIDE = "warm_up_guide"  # the warm-up timer runs
    READY = "ready"  # a stretch's instructions are shown; waiting for "Start hold"
    GET_READY = "get_ready"  # "Get into position": the hold starts by itself when this ends
    HOLD = "hold"  # the hold timer runs
    REST = "rest"  # between two stretches
    # Safety: the warning-sign check between consent and the warm-up, and what follows Stop.
    SCREEN = "screen"  # a yes/no question of the check (`question`: its index)
    CONDITIONS = "conditions"  # the check's tick-list (`ticks`: ticked so far)
    NOTICES = "notices"  # the notices for the ticks are shown: go on, or not today
    RECHECK = "recheck"  # "Anything new since last time?"
    STOPPED = "stopped"  # Stop was pressed (`question`: 0 numbness, 1 settling, 2 what next)
    # Progress: "How much does it hurt right now?" before the warm-up and after the summary.
    PAIN_BEFORE = "pain_before"
    PAIN_AFTER = "pain_after"


# The phases a Stop button is shown in, and where typed text is answered with an offer to stop.
TIMED = frozenset({Phase.WARM_UP_GUIDE, Phase.READY, Phase.GET_READY, Phase.HOLD, Phase.REST})
# The phases that run on a timer, which /pause stops with the exact time left.
PAUSABLE = frozenset({Phase.WARM_UP_GUIDE, Phase.GET_READY, Phase.HOLD, Phase.REST})


@dataclass(frozen=True)
class Prefs:
    """What a user chose in /settings; None (or absent) is the content's default."""

    holds: tuple[tuple[str, int], ...] = ()  # (exercise id, hold seconds)
    rest_seconds: int | None = None
    get_ready_seconds: int | None = None
    countdown_edits: bool = True  # False: cues only, no moving number
    ask_pain: bool | None = None  # the pain question before and after (None: content's)
    language: str | None = None  # chosen in /settings (None: Telegram's language_code)

    def hold_for(self, exercise_id: str) -> int | None:
        return next((s for e, s in self.holds if e == exercise_id), None)

    def with_hold(self, exercise_id: str, seconds: int) -> Prefs:
        holds = tuple((e, s) for e, s in self.holds if e != exercise_id)
        return replace(self, holds=(*holds, (exercise_id, seconds)))


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
    hold_seconds: int | None = None  # HOLD: its nominal length (the user's choice, +15 s)
    paused_left: float | None = None  # paused: the real seconds that were left
    paused_at: float | None = None
    held: tuple[int, ...] = ()  # the seconds each of `done` was held, in the same order

    @property
    def paused(self) -> bool:
        return self.paused_left is not None


@dataclass(frozen=True)
class PainMark:
    """One routine's pain scores (0-10; None: skipped or not asked)."""

    at: float
    before: int | None = None
    after: int | None = None


@dataclass(frozen=True)
class Progress:
    """The routine under way (its start, the pain before it) and the last routines' pain, which
    the advice to see a professional is judged on (the full history is kept by storage)."""

    begun_at: float | None = None
    pain_before: int | None = None
    recent: tuple[PainMark, ...] = ()  # oldest first
    advised_at: float | None = None  # when the advice to see a GP was last given


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
    prefs: Prefs = field(default_factory=Prefs)
    progress: Progress = field(default_factory=Progress)

    @property
    def wake_at(self) -> float | None:
        return self.routine.wake_at if self.routine else None
