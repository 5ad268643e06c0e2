"""The plan of the routine: its stretches, holds and cues, compiled from content.

Every duration is scaled by the speed setting here, once. Knows nothing of Telegram, storage
or clocks.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.content import Content


@dataclass(frozen=True)
class Stretch:
    """One side of one exercise: a step of the plan."""

    index: int
    exercise_id: str
    side: int
    hold_seconds: int  # the content's default
    min_seconds: int = 0
    max_seconds: int = 0
    picture: str | None = None  # its picture's id (content/pictures/)

    def clamp(self, seconds: int) -> int:
        """A hold time within this exercise's range."""
        return max(self.min_seconds, min(self.max_seconds or seconds, seconds))


@dataclass(frozen=True)
class Cue:
    text_key: str
    offset: float  # nominal seconds after the hold starts


@dataclass(frozen=True)
class Plan:
    """The routine compiled from content, with every duration scaled by the speed setting."""

    stretches: tuple[Stretch, ...]
    warm_up_seconds: int
    rest_seconds: int
    countdown_every: int
    cue_timings: tuple[tuple[str, float | None, int | None], ...]
    speed: float = 1.0
    get_ready_seconds: int = 0
    extend_seconds: int = 15

    def real(self, nominal_seconds: float) -> float:
        """Real seconds for a duration written in content."""
        return nominal_seconds / self.speed

    def cues_for(self, hold_seconds: int) -> tuple[Cue, ...]:
        """The cues of a hold of this length, in order."""
        cues = []
        for key, fraction, seconds_left in self.cue_timings:
            offset = hold_seconds * fraction if fraction else hold_seconds - (seconds_left or 0)
            if 0 < offset < hold_seconds:
                cues.append(Cue(key, offset))
        return tuple(sorted(cues, key=lambda c: c.offset))


def compile_plan(content: Content, speed: float = 1.0) -> Plan:
    spec = content.routine
    stretches = [
        (
            ex.id,
            side,
            ex.hold.seconds,
            ex.hold.min_seconds,
            ex.hold.max_seconds,
            ex.pictures[side] if ex.pictures else None,
        )
        for ex in spec.exercises
        for side in range(ex.sides)
    ]
    return Plan(
        stretches=tuple(Stretch(i, *s) for i, s in enumerate(stretches)),
        get_ready_seconds=spec.get_ready_seconds,
        extend_seconds=spec.extend_seconds,
        warm_up_seconds=spec.warm_up_seconds,
        rest_seconds=spec.rest_seconds,
        countdown_every=spec.countdown_every_seconds,
        cue_timings=tuple((c.text, c.fraction, c.seconds_left) for c in spec.cues),
        speed=speed,
    )
