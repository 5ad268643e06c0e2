"""The countdown of a hold: when the next edit, cue or end is due, and what the message shows.

Edits fall on a grid counted back from the end (30, 25, ... 0 s left), never closer than the
countdown interval: Telegram throttles frequent edits. Real seconds are the plan's, scaled by
the speed setting; what the user reads is always the nominal seconds. Pure.
"""

from __future__ import annotations

import math

from bot.core.plan import Plan
from bot.core.state import RoutineState


class Countdown:
    def __init__(self, plan: Plan) -> None:
        self.plan = plan

    def length(self, routine: RoutineState) -> int:
        """The hold's nominal seconds (a hold stored by an older release: the content's)."""
        return routine.hold_seconds or self.plan.stretches[routine.stretch].hold_seconds

    def next_wake(self, routine: RoutineState, now: float, *, edits: bool = True) -> float:
        """The next moment something happens in a hold: a countdown edit, a cue, or its end.

        Countdown edits fall on a grid counted back from the end (30, 25, ... 0 s left), never
        sooner than `countdown_every` after the last one: Telegram throttles frequent edits.
        Without edits (the user's choice) only cues and the end wake the hold.
        """
        assert routine.started_at is not None and routine.ends_at is not None
        candidates = [routine.ends_at]
        if edits:
            tick = self.plan.real(self.plan.countdown_every)
            steps_left = math.ceil((routine.ends_at - now) / tick - 1e-9) - 1
            next_tick = routine.ends_at - max(steps_left, 0) * tick
            earliest = (routine.countdown_at or routine.started_at) + tick
            while next_tick < earliest - 1e-9:
                next_tick += tick
            candidates.append(next_tick)
        cues = self.plan.cues_for(self.length(routine))
        if routine.cues_said < len(cues):
            candidates.append(routine.started_at + self.plan.real(cues[routine.cues_said].offset))
        # The end always counts, also when it is now (a hold paused as it ended, then resumed):
        # at epoch seconds a float's step is about 2.4e-7, so a tolerance of 1e-9 vanishes and
        # an end due this very moment was passed over for a countdown tick 5 s after it.
        return min([routine.ends_at, *(c for c in candidates[1:] if c > now - 1e-6)])

    def grid_at(self, routine: RoutineState, now: float) -> float:
        """The countdown's grid point at or just before `now` (counted back from the end)."""
        assert routine.ends_at is not None
        tick = self.plan.real(self.plan.countdown_every)
        return routine.ends_at - math.ceil((routine.ends_at - now) / tick - 1e-6) * tick

    def may_edit(self, routine: RoutineState, now: float) -> bool:
        if routine.countdown_message_id is None:
            return False
        last = routine.countdown_at or routine.started_at or now
        return now - last >= self.plan.real(self.plan.countdown_every) - 1e-6

    def value(self, routine: RoutineState, now: float) -> int:
        """Nominal seconds left, rounded up to the countdown's step (the speed scales real time)."""
        assert routine.ends_at is not None
        every = self.plan.countdown_every
        left = (routine.ends_at - now) * self.plan.speed
        return max(0, math.ceil(left / every - 1e-6) * every)
