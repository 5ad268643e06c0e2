"""The routine as a pure state machine: `Routine.advance(state, event, now) -> (state, effects)`.

A plan of stretches is compiled from content; a chat's state says where it is in the plan.
Events come from the user (commands, buttons, text) or from a timer (`Wake`); effects say
what to show (`Send`, `Edit`, `Toast`). Time is a parameter (epoch seconds), never read here.

This module knows nothing of Telegram, storage or clocks. The `mermaid` diagram of the flow is
in routine.mmd beside it.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field, replace
from enum import StrEnum
from typing import Any

from bot.callbacks import Action, Button
from bot.content import Content, Texts

# A cue or a hold end handled later than this (real seconds) was missed while the bot was
# away: stale cues are dropped and a finished hold is reported as "ended while you were away".
MIN_LATE_TOLERANCE = 2.0

# --------------------------------------------------------------------------- the plan


@dataclass(frozen=True)
class Stretch:
    """One side of one exercise: a step of the plan."""

    index: int
    exercise_id: str
    side: int
    hold_seconds: int


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

    def real(self, nominal_seconds: float) -> float:
        """Real seconds for a duration written in content."""
        return nominal_seconds / self.speed

    def cues_for(self, stretch: Stretch) -> tuple[Cue, ...]:
        cues = []
        for key, fraction, seconds_left in self.cue_timings:
            offset = (
                stretch.hold_seconds * fraction
                if fraction
                else stretch.hold_seconds - (seconds_left or 0)
            )
            if 0 < offset < stretch.hold_seconds:
                cues.append(Cue(key, offset))
        return tuple(sorted(cues, key=lambda c: c.offset))


def compile_plan(content: Content, speed: float = 1.0) -> Plan:
    spec = content.routine
    stretches = [
        (ex.id, side, ex.hold.seconds) for ex in spec.exercises for side in range(ex.sides)
    ]
    return Plan(
        stretches=tuple(Stretch(i, *s) for i, s in enumerate(stretches)),
        warm_up_seconds=spec.warm_up_seconds,
        rest_seconds=spec.rest_seconds,
        countdown_every=spec.countdown_every_seconds,
        cue_timings=tuple((c.text, c.fraction, c.seconds_left) for c in spec.cues),
        speed=speed,
    )


# --------------------------------------------------------------------------- state


class Phase(StrEnum):
    CONSENT = "consent"  # the disclaimer is shown; waiting for accept or decline
    WARM_UP_CHECK = "warm_up_check"  # "are you warm?"
    WARM_UP_GUIDE = "warm_up_guide"  # the warm-up timer runs
    READY = "ready"  # a stretch's instructions are shown; waiting for "Start hold"
    HOLD = "hold"  # the hold timer runs
    REST = "rest"  # between two stretches


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


@dataclass(frozen=True)
class ChatState:
    """All that is kept about one chat."""

    locale: str | None = None
    consent_version: str | None = None
    consent_at: float | None = None
    declined_at: float | None = None
    routine: RoutineState | None = None

    @property
    def wake_at(self) -> float | None:
        return self.routine.wake_at if self.routine else None


def dump_routine(routine: RoutineState | None) -> str | None:
    """The routine's progress as JSON for storage (None when no routine runs)."""
    return None if routine is None else json.dumps(asdict(routine), separators=(",", ":"))


def load_routine(raw: str | None) -> RoutineState | None:
    if not raw:
        return None
    data: dict[str, Any] = json.loads(raw)
    return RoutineState(**(data | {"phase": Phase(data["phase"])}))


# --------------------------------------------------------------------------- events & effects


@dataclass(frozen=True)
class Start:
    """/start"""

    first_name: str = ""


@dataclass(frozen=True)
class BeginRoutine:
    """/routine, or the "Start the routine" button."""


@dataclass(frozen=True)
class Press:
    """An inline button of ours was pressed."""

    action: Action
    arg: str = ""


@dataclass(frozen=True)
class StalePress:
    """A button whose data this version does not know (an old message, another bot version)."""


@dataclass(frozen=True)
class Cancel:
    """/cancel"""


@dataclass(frozen=True)
class Help:
    """/help"""


@dataclass(frozen=True)
class Unexpected:
    """Text, a sticker, an unknown command: anything the routine did not ask for."""


@dataclass(frozen=True)
class Edited:
    """The user edited an earlier message."""


@dataclass(frozen=True)
class Wake:
    """A timer of this chat is due; `at` is the due time it was armed for."""

    at: float


Event = Start | BeginRoutine | Press | StalePress | Cancel | Help | Unexpected | Edited | Wake


@dataclass(frozen=True)
class Send:
    text: str
    buttons: tuple[Button, ...] = ()
    countdown: bool = False  # remember the message id: later edits count down in it


@dataclass(frozen=True)
class Edit:
    message_id: int
    text: str


@dataclass(frozen=True)
class Toast:
    """The short notice shown when a button press is answered."""

    text: str


@dataclass(frozen=True)
class Finished:
    """The routine was done to the end (the reminders may offer to bring the user back)."""


Effect = Send | Edit | Toast | Finished


@dataclass
class _Out:
    effects: list[Effect] = field(default_factory=list)

    def send(self, text: str, *buttons: Button, countdown: bool = False) -> None:
        self.effects.append(Send(text, buttons, countdown))


# --------------------------------------------------------------------------- the machine


class Routine:
    """The flow of the routine for one content folder and speed."""

    def __init__(self, content: Content, plan: Plan) -> None:
        self.content = content
        self.plan = plan
        self.disclaimer_version = content.disclaimer_version()
        self.late_tolerance = max(plan.real(plan.countdown_every), MIN_LATE_TOLERANCE)

    def advance(self, state: ChatState, event: Event, now: float) -> tuple[ChatState, list[Effect]]:
        """Apply one event; return the new state and what to show."""
        texts = self.content.texts(state.locale)
        out = _Out()
        match event:
            case Start():
                state = self._start(state, event, now, texts, out)
            case BeginRoutine() | Press(action=Action.START_ROUTINE):
                state = self._begin(state, now, texts, out)
            case Press(action=Action.ACCEPT):
                state = self._accept(state, event.arg, now, texts, out)
            case Press(action=Action.DECLINE):
                state = self._decline(state, now, texts, out)
            case Press(action=Action.WARM) if _in(state, Phase.WARM_UP_CHECK):
                state = self._show_stretch(state, 0, texts, out)
            case Press(action=Action.GUIDE_ME) if _in(state, Phase.WARM_UP_CHECK):
                state = self._guide_warm_up(state, now, texts, out)
            case Press(action=Action.START_HOLD) if _in(state, Phase.READY) and (
                event.arg == str(_routine(state).stretch)
            ):
                state = self._start_hold(state, now, texts, out)
            case Press() | StalePress():
                out.effects.append(Toast(texts.replies.stale_button))
                self._prompt(state, now, texts, out)
            case Cancel():
                self._stop_countdown(state, texts, out)
                out.send(
                    texts.replies.cancelled if state.routine else texts.replies.nothing_to_cancel
                )
                state = replace(state, routine=None)
            case Help():
                out.send(texts.replies.help)
            case Unexpected():
                self._prompt(state, now, texts, out)
            case Edited():
                out.send(texts.replies.edited_message)
            case Wake():
                state = self._wake(state, event.at, now, texts, out)
        return state, out.effects

    # -- consent ---------------------------------------------------------------------------

    def _start(
        self, state: ChatState, event: Start, now: float, texts: Texts, out: _Out
    ) -> ChatState:
        """/start: welcome, then the disclaimer (or, when accepted, the way to the routine)."""
        if state.routine and state.routine.phase != Phase.CONSENT:
            out.send(texts.replies.routine_running)
            self._prompt(state, now, texts, out)
            return state
        if event.first_name:
            out.send(texts.replies.welcome.format(name=event.first_name))
        else:
            out.send(texts.replies.welcome_no_name)
        if self._has_consent(state):
            out.send(
                texts.replies.already_accepted,
                Button(texts.buttons.start_routine, Action.START_ROUTINE),
            )
            return replace(state, routine=None)
        return self._ask_consent(state, texts, out)

    def _begin(self, state: ChatState, now: float, texts: Texts, out: _Out) -> ChatState:
        """/routine: the warm-up check, once consent is on record."""
        if state.routine and state.routine.phase != Phase.CONSENT:
            out.send(texts.replies.routine_running)
            self._prompt(state, now, texts, out)
            return state
        if not self._has_consent(state):
            changed = state.consent_version is not None
            out.send(texts.replies.disclaimer_changed if changed else texts.replies.consent_needed)
            return self._ask_consent(state, texts, out)
        return self._warm_up_check(state, texts, out)

    def _ask_consent(self, state: ChatState, texts: Texts, out: _Out) -> ChatState:
        out.send(texts.disclaimer.text, *self._consent_buttons(texts))
        return replace(state, routine=RoutineState(Phase.CONSENT))

    def _accept(
        self, state: ChatState, version: str, now: float, texts: Texts, out: _Out
    ) -> ChatState:
        """Accept: stored with the time and the disclaimer version the user read."""
        if not _in(state, Phase.CONSENT):
            if self._has_consent(state) and version == self.disclaimer_version:
                out.effects.append(Toast(texts.replies.button_done))
                if state.routine is None:
                    out.send(texts.replies.already_accepted)
                else:
                    self._prompt(state, now, texts, out)
                return state
            out.effects.append(Toast(texts.replies.stale_button))
            self._prompt(state, now, texts, out)
            return state
        if version != self.disclaimer_version:
            out.send(texts.replies.disclaimer_changed)
            return self._ask_consent(state, texts, out)
        state = replace(
            state, consent_version=self.disclaimer_version, consent_at=now, declined_at=None
        )
        return self._warm_up_check(state, texts, out)

    def _decline(self, state: ChatState, now: float, texts: Texts, out: _Out) -> ChatState:
        """Decline: a kind goodbye; only the refusal is kept."""
        if not _in(state, Phase.CONSENT):
            out.effects.append(Toast(texts.replies.stale_button))
            self._prompt(state, now, texts, out)
            return state
        out.send(texts.replies.declined)
        return replace(state, routine=None, declined_at=now)

    def _has_consent(self, state: ChatState) -> bool:
        return state.consent_version == self.disclaimer_version

    def _consent_buttons(self, texts: Texts) -> tuple[Button, ...]:
        return (
            Button(texts.buttons.accept, Action.ACCEPT, self.disclaimer_version),
            Button(texts.buttons.decline, Action.DECLINE),
        )

    # -- warm-up ---------------------------------------------------------------------------

    def _warm_up_check(self, state: ChatState, texts: Texts, out: _Out) -> ChatState:
        out.send(texts.warm_up.check, *self._warm_up_buttons(texts))
        return replace(state, routine=RoutineState(Phase.WARM_UP_CHECK))

    def _warm_up_buttons(self, texts: Texts) -> tuple[Button, ...]:
        return (
            Button(texts.buttons.warm, Action.WARM),
            Button(texts.buttons.guide_me, Action.GUIDE_ME),
        )

    def _guide_warm_up(self, state: ChatState, now: float, texts: Texts, out: _Out) -> ChatState:
        seconds = self.plan.warm_up_seconds
        minutes = f"{seconds / 60:.1f}".removesuffix(".0")  # 180 s: "3"; 100 s: "1.7"
        out.send(texts.warm_up.guide.format(minutes=minutes, seconds=seconds))
        ends_at = now + self.plan.real(seconds)
        routine = RoutineState(
            Phase.WARM_UP_GUIDE, started_at=now, ends_at=ends_at, wake_at=ends_at
        )
        return replace(state, routine=routine)

    # -- stretches -------------------------------------------------------------------------

    def _names(self, stretch: Stretch, texts: Texts) -> tuple[str, str]:
        exercise = texts.exercises[stretch.exercise_id]
        return exercise.name, exercise.sides[stretch.side].title

    def _show_stretch(self, state: ChatState, index: int, texts: Texts, out: _Out) -> ChatState:
        """A stretch's own instructions and the button to start its hold."""
        stretch = self.plan.stretches[index]
        name, side = self._names(stretch, texts)
        instructions = texts.exercises[stretch.exercise_id].sides[stretch.side].instructions
        out.send(
            texts.hold.card.format(name=name, side=side, instructions=instructions),
            Button(texts.buttons.start_hold, Action.START_HOLD, str(index)),
        )
        return replace(state, routine=RoutineState(Phase.READY, stretch=index))

    def _start_hold(self, state: ChatState, now: float, texts: Texts, out: _Out) -> ChatState:
        routine = _routine(state)
        stretch = self.plan.stretches[routine.stretch]
        name, side = self._names(stretch, texts)
        seconds = stretch.hold_seconds
        out.send(texts.hold.started.format(name=name, side=side, seconds=seconds))
        out.send(
            texts.hold.countdown.format(name=name, side=side, seconds_left=seconds), countdown=True
        )
        routine = RoutineState(
            Phase.HOLD,
            stretch=stretch.index,
            started_at=now,
            ends_at=now + self.plan.real(seconds),
            countdown_shown=seconds,
            countdown_at=now,
        )
        return replace(state, routine=replace(routine, wake_at=self._next_hold_wake(routine, now)))

    def _next_hold_wake(self, routine: RoutineState, now: float) -> float:
        """The next moment something happens in a hold: a countdown edit, a cue, or its end.

        Countdown edits fall on a grid counted back from the end (30, 25, ... 0 s left), never
        sooner than `countdown_every` after the last one: Telegram throttles frequent edits.
        """
        assert routine.started_at is not None and routine.ends_at is not None
        tick = self.plan.real(self.plan.countdown_every)
        steps_left = math.ceil((routine.ends_at - now) / tick - 1e-9) - 1
        next_tick = routine.ends_at - max(steps_left, 0) * tick
        earliest = (routine.countdown_at or routine.started_at) + tick
        while next_tick < earliest - 1e-9:
            next_tick += tick
        candidates = [routine.ends_at, next_tick]
        cues = self.plan.cues_for(self.plan.stretches[routine.stretch])
        if routine.cues_said < len(cues):
            candidates.append(routine.started_at + self.plan.real(cues[routine.cues_said].offset))
        return min(c for c in candidates if c > now - 1e-9)

    def _grid_at(self, routine: RoutineState, now: float) -> float:
        """The countdown's grid point at or just before `now` (counted back from the end)."""
        assert routine.ends_at is not None
        tick = self.plan.real(self.plan.countdown_every)
        return routine.ends_at - math.ceil((routine.ends_at - now) / tick - 1e-6) * tick

    def _may_edit_countdown(self, routine: RoutineState, now: float) -> bool:
        if routine.countdown_message_id is None:
            return False
        last = routine.countdown_at or routine.started_at or now
        return now - last >= self.plan.real(self.plan.countdown_every) - 1e-6

    def _hold_tick(self, state: ChatState, now: float, texts: Texts, out: _Out) -> ChatState:
        routine = _routine(state)
        assert routine.started_at is not None and routine.ends_at is not None
        stretch = self.plan.stretches[routine.stretch]
        name, side = self._names(stretch, texts)
        if now >= routine.ends_at - 1e-9:
            if routine.countdown_shown != 0 and self._may_edit_countdown(routine, now):
                assert routine.countdown_message_id is not None
                text = texts.hold.countdown.format(name=name, side=side, seconds_left=0)
                out.effects.append(Edit(routine.countdown_message_id, text))
            if now - routine.ends_at > self.late_tolerance:
                out.send(texts.hold.ended_while_away.format(name=name, side=side))
            else:
                out.send(texts.hold.finished.format(name=name, side=side))
            return self._after_hold(state, stretch, now, texts, out)

        elapsed = now - routine.started_at
        cues = self.plan.cues_for(stretch)
        said = routine.cues_said
        while said < len(cues) and self.plan.real(cues[said].offset) <= elapsed + 1e-9:
            late = elapsed - self.plan.real(cues[said].offset)
            if late <= self.late_tolerance:
                seconds_left = round(stretch.hold_seconds - cues[said].offset)
                out.send(texts.hold.cues[cues[said].text_key].format(seconds_left=seconds_left))
            said += 1
        routine = replace(routine, cues_said=said)
        shown = self._countdown_value(routine, now)
        if shown != routine.countdown_shown and self._may_edit_countdown(routine, now):
            assert routine.countdown_message_id is not None
            text = texts.hold.countdown.format(name=name, side=side, seconds_left=shown)
            out.effects.append(Edit(routine.countdown_message_id, text))
            # The grid point, not `now`: a timer that fires a few ms late must not push the
            # next edit a whole step further.
            routine = replace(
                routine, countdown_shown=shown, countdown_at=self._grid_at(routine, now)
            )
        return replace(state, routine=replace(routine, wake_at=self._next_hold_wake(routine, now)))

    def _countdown_value(self, routine: RoutineState, now: float) -> int:
        """Nominal seconds left, rounded up to the countdown's step (the speed scales real time)."""
        assert routine.ends_at is not None
        every = self.plan.countdown_every
        left = (routine.ends_at - now) * self.plan.speed
        return max(0, math.ceil(left / every - 1e-6) * every)

    def _summary(self, texts: Texts) -> str:
        items = []
        for exercise in self.content.routine.exercises:
            name = texts.exercises[exercise.id].name
            items.append(texts.done_item.format(name=name, seconds=exercise.hold.seconds))
        return texts.done.format(count=len(self.plan.stretches), exercises="\n".join(items))

    def _after_hold(
        self, state: ChatState, stretch: Stretch, now: float, texts: Texts, out: _Out
    ) -> ChatState:
        following = stretch.index + 1
        if following >= len(self.plan.stretches):
            out.send(self._summary(texts))
            out.effects.append(Finished())
            return replace(state, routine=None)
        if self.plan.rest_seconds == 0:
            return self._show_stretch(state, following, texts, out)
        next_name, next_side = self._names(self.plan.stretches[following], texts)
        out.send(
            texts.rest.text.format(
                seconds=self.plan.rest_seconds, next_name=next_name, next_side=next_side
            )
        )
        ends_at = now + self.plan.real(self.plan.rest_seconds)
        routine = RoutineState(
            Phase.REST, stretch=stretch.index, started_at=now, ends_at=ends_at, wake_at=ends_at
        )
        return replace(state, routine=routine)

    def _stop_countdown(self, state: ChatState, texts: Texts, out: _Out) -> None:
        """A stopped hold's countdown says so instead of freezing at some number."""
        routine = state.routine
        if routine and routine.phase == Phase.HOLD and routine.countdown_message_id is not None:
            name, side = self._names(self.plan.stretches[routine.stretch], texts)
            stopped = texts.hold.stopped.format(name=name, side=side)
            out.effects.append(Edit(routine.countdown_message_id, stopped))

    # -- timers ----------------------------------------------------------------------------

    def _wake(self, state: ChatState, at: float, now: float, texts: Texts, out: _Out) -> ChatState:
        """A timer fired; one armed for an earlier state (cancelled, moved on) does nothing."""
        routine = state.routine
        if routine is None or routine.wake_at is None or abs(routine.wake_at - at) > 1e-6:
            return state
        if now < routine.wake_at - 1e-6:
            return state
        match routine.phase:
            case Phase.WARM_UP_GUIDE:
                out.send(texts.warm_up.guide_done, *self._warm_up_buttons(texts))
                return replace(state, routine=RoutineState(Phase.WARM_UP_CHECK))
            case Phase.HOLD:
                return self._hold_tick(state, now, texts, out)
            case Phase.REST:
                return self._show_stretch(state, routine.stretch + 1, texts, out)
        return replace(state, routine=replace(routine, wake_at=None))

    # -- saying what is expected now ---------------------------------------------------------

    def _prompt(self, state: ChatState, now: float, texts: Texts, out: _Out) -> None:
        """Tell the user what the bot expects now, with the buttons that fit."""
        routine = state.routine
        replies = texts.replies
        left = (
            0
            if routine is None or routine.ends_at is None or now is None
            else max(0, math.ceil((routine.ends_at - now) * self.plan.speed - 1e-6))
        )
        match routine.phase if routine else None:
            case None:
                out.send(replies.idle)
            case Phase.CONSENT:
                out.send(replies.expect_consent, *self._consent_buttons(texts))
            case Phase.WARM_UP_CHECK:
                out.send(replies.expect_warm_up, *self._warm_up_buttons(texts))
            case Phase.WARM_UP_GUIDE:
                out.send(replies.expect_warm_up_guide.format(seconds_left=left))
            case Phase.READY:
                assert routine is not None
                name, side = self._names(self.plan.stretches[routine.stretch], texts)
                out.send(
                    replies.expect_start_hold.format(name=name, side=side),
                    Button(texts.buttons.start_hold, Action.START_HOLD, str(routine.stretch)),
                )
            case Phase.HOLD:
                out.send(replies.expect_holding.format(seconds_left=left))
            case Phase.REST:
                out.send(replies.expect_resting.format(seconds_left=left))


def _in(state: ChatState, phase: Phase) -> bool:
    return state.routine is not None and state.routine.phase == phase


def _routine(state: ChatState) -> RoutineState:
    assert state.routine is not None
    return state.routine
