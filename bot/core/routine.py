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
from dataclasses import asdict, dataclass, field, fields, replace
from enum import StrEnum
from typing import Any

from bot.core.callbacks import Action, Button
from bot.core.content import Content, Texts
from bot.core.safety import Rules, Safety

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
    known = {f.name for f in fields(RoutineState)}
    data = {k: v for k, v in data.items() if k in known}  # a field of a newer version: ignored
    for name in ("ticks", "done"):
        data[name] = tuple(data.get(name, ()))
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
    message_id: int | None = None  # the message whose button it was


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
    buttons: tuple[Button, ...] = ()


@dataclass(frozen=True)
class Toast:
    """The short notice shown when a button press is answered."""

    text: str


@dataclass(frozen=True)
class Finished:
    """The routine was done to the end (the reminders may offer to bring the user back)."""


@dataclass(frozen=True)
class Keep:
    """The pressed message's buttons were redrawn by an Edit: leave them on."""


@dataclass(frozen=True)
class Record:
    """A safety event to keep for good: a check's answers, a Stop and what followed it."""

    kind: str  # "screening" | "recheck" | "stop" | "stop_answer"
    answer: str = ""
    exercise: str | None = None
    side: int | None = None


Effect = Send | Edit | Toast | Finished | Keep | Record


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
        self.rules = Rules(content)
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
            case Press(action=Action.STOP):
                state = self._stop(state, now, texts, out)
            case Press() if self._expected(state, event, now):
                state = self._press(state, event, now, texts, out)
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
                out.send(texts.replies.help.format(safety_note=texts.safety.help_note.text))
            case Unexpected():
                self._prompt(state, now, texts, out)
            case Edited():
                out.send(texts.replies.edited_message)
            case Wake():
                state = self._wake(state, event.at, now, texts, out)
        return state, out.effects

    def _expected(self, state: ChatState, press: Press, now: float) -> bool:
        """Whether a button fits the step the chat is in (an old one does not)."""
        routine = state.routine
        if routine is None:
            return False
        phase, action = routine.phase, press.action
        match phase:
            case Phase.WARM_UP_CHECK:
                if action == Action.GUIDE_ME:
                    no_heat = self.rules.no_heat(state.safety, now)
                    return not no_heat and routine.rounds < self._max_rounds
                return action in (Action.WARM, Action.END_TODAY)
            case Phase.READY:
                return action == Action.START_HOLD and press.arg == str(routine.stretch)
            case Phase.SCREEN:
                question = self.rules.spec.questions[routine.question].id
                return action == Action.SCREEN and press.arg in (f"{question}.y", f"{question}.n")
            case Phase.CONDITIONS:
                return action in (Action.TICK, Action.TICKS_DONE, Action.TICKS_NONE)
            case Phase.NOTICES:
                return action in (Action.GO_ON, Action.END_TODAY)
            case Phase.RECHECK:
                return action == Action.RECHECK and press.arg in ("y", "n")
            case Phase.STOPPED:
                if routine.question == 2:
                    return action == Action.AFTER_STOP and press.arg in ("next", "skip", "end")
                asked = ("numb", "settling")[routine.question]
                return action == Action.STOP_ANSWER and press.arg in (f"{asked}.y", f"{asked}.n")
        return False

    def _press(
        self, state: ChatState, press: Press, now: float, texts: Texts, out: _Out
    ) -> ChatState:
        """A button that fits the step the chat is in."""
        routine = _routine(state)
        yes = press.arg.endswith(".y") or press.arg == "y"
        match press.action:
            case Action.WARM:
                return self._start_stretches(state, now, texts, out)
            case Action.GUIDE_ME:
                return self._guide_warm_up(state, now, texts, out)
            case Action.START_HOLD:
                return self._start_hold(state, now, texts, out)
            case Action.END_TODAY:
                return self._end_today(state, texts, out)
            case Action.SCREEN:
                return self._answer(state, yes, now, texts, out)
            case Action.TICK:
                return self._tick(state, press, texts, out)
            case Action.TICKS_NONE:
                return self._finish_check(state, (), now, texts, out)
            case Action.TICKS_DONE:
                return self._finish_check(state, routine.ticks, now, texts, out)
            case Action.GO_ON:
                return self._warm_up_check(state, now, texts, out)
            case Action.RECHECK if yes:
                out.effects.append(Record("recheck", "something new"))
                return self._full_check(state, texts, out)
            case Action.RECHECK:
                out.effects.append(Record("recheck", "nothing new"))
                return self._warm_up_check(state, now, texts, out)
            case Action.STOP_ANSWER:
                return self._stop_answer(state, yes, now, texts, out)
            case Action.AFTER_STOP:
                return self._after_stop(state, press.arg, now, texts, out)
        raise AssertionError(f"unhandled button {press.action}")

    # -- consent ---------------------------------------------------------------------------

    def _start(
        self, state: ChatState, event: Start, now: float, texts: Texts, out: _Out
    ) -> ChatState:
        """/start: welcome, then the disclaimer (or, when accepted, the way to the routine)."""
        if state.routine and state.routine.phase != Phase.CONSENT:
            out.send(texts.replies.routine_running)
            self._prompt(state, now, texts, out)
            return state
        about = texts.safety.about.text
        if event.first_name:
            out.send(texts.replies.welcome.format(name=event.first_name, about=about))
        else:
            out.send(texts.replies.welcome_no_name.format(about=about))
        if self._has_consent(state):
            out.send(
                texts.replies.already_accepted,
                Button(texts.buttons.start_routine, Action.START_ROUTINE),
            )
            return replace(state, routine=None)
        return self._ask_consent(state, texts, out)

    def _begin(self, state: ChatState, now: float, texts: Texts, out: _Out) -> ChatState:
        """/routine: the safety check (or "anything new?"), once consent is on record."""
        if state.routine and state.routine.phase != Phase.CONSENT:
            out.send(texts.replies.routine_running)
            self._prompt(state, now, texts, out)
            return state
        if not self._has_consent(state):
            changed = state.consent_version is not None
            out.send(texts.replies.disclaimer_changed if changed else texts.replies.consent_needed)
            return self._ask_consent(state, texts, out)
        return self._safety_check(state, now, texts, out)

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
        return self._safety_check(state, now, texts, out)

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

    # -- the warning-sign check --------------------------------------------------------------

    def _safety_check(self, state: ChatState, now: float, texts: Texts, out: _Out) -> ChatState:
        """Before each routine: the full check when it is due, otherwise "anything new?"."""
        if self.rules.full_check_due(state.safety, now):
            return self._full_check(state, texts, out)
        return self._ask_recheck(state, texts, out)

    def _full_check(self, state: ChatState, texts: Texts, out: _Out) -> ChatState:
        out.send(texts.safety.screening.intro.text)
        return self._ask_question(state, 0, texts, out)

    def _ask_recheck(self, state: ChatState, texts: Texts, out: _Out) -> ChatState:
        b = texts.safety.buttons
        out.send(
            texts.safety.screening.recheck.text,
            Button(b.something_new, Action.RECHECK, "y"),
            Button(b.nothing_new, Action.RECHECK, "n"),
        )
        return replace(state, routine=RoutineState(Phase.RECHECK))

    def _ask_question(self, state: ChatState, index: int, texts: Texts, out: _Out) -> ChatState:
        question = self.rules.spec.questions[index].id
        b = texts.safety.buttons
        out.send(
            texts.safety.screening.questions[question].text,
            Button(b.yes, Action.SCREEN, f"{question}.y"),
            Button(b.no, Action.SCREEN, f"{question}.n"),
        )
        return replace(state, routine=RoutineState(Phase.SCREEN, question=index))

    def _answer(
        self, state: ChatState, yes: bool, now: float, texts: Texts, out: _Out
    ) -> ChatState:
        """Yes ends the check with its outcome; No asks the next question."""
        routine = _routine(state)
        question = self.rules.spec.questions[routine.question]
        if not yes:
            if routine.question + 1 < len(self.rules.spec.questions):
                return self._ask_question(state, routine.question + 1, texts, out)
            return self._ask_conditions(state, (), None, texts, out)
        out.effects.append(Record("screening", f"{question.id}=yes"))
        out.send(self._outcome(texts.safety.outcomes[question.outcome].text, state, texts))
        safety = Safety(now, self.rules.version, question.id, (), state.safety.stops)
        return replace(state, safety=safety, routine=None, reminders_paused=True)

    def _outcome(self, text: str, state: ChatState, texts: Texts) -> str:
        return text.format(**self.rules.help_words(texts, state.timezone))

    def _conditions_buttons(self, texts: Texts, ticks: tuple[str, ...]) -> tuple[Button, ...]:
        b = texts.safety.buttons
        conditions = self.rules.spec.conditions
        rows = [
            Button(
                b.ticked.format(label=label) if c.id in ticks else label,
                Action.TICK,
                c.id,
                row=i,
            )
            for i, c in enumerate(conditions)
            if (label := texts.safety.screening.conditions[c.id].label)
        ]
        last = len(conditions)
        return (
            *rows,
            Button(b.none_of_these, Action.TICKS_NONE, row=last),
            Button(b.done, Action.TICKS_DONE, row=last),
        )

    def _ask_conditions(
        self,
        state: ChatState,
        ticks: tuple[str, ...],
        message_id: int | None,
        texts: Texts,
        out: _Out,
    ) -> ChatState:
        """The tick-list: sent, or redrawn in place when a tick changes."""
        text = texts.safety.screening.conditions_question.text
        buttons = self._conditions_buttons(texts, ticks)
        if message_id is None:
            out.send(text, *buttons)
        else:
            out.effects += [Edit(message_id, text, buttons), Keep()]
        return replace(state, routine=RoutineState(Phase.CONDITIONS, ticks=ticks))

    def _tick(self, state: ChatState, press: Press, texts: Texts, out: _Out) -> ChatState:
        ids = [c.id for c in self.rules.spec.conditions]
        ticks = set(_routine(state).ticks) ^ ({press.arg} & set(ids))
        ordered = tuple(i for i in ids if i in ticks)
        return self._ask_conditions(state, ordered, press.message_id, texts, out)

    def _finish_check(
        self, state: ChatState, ticks: tuple[str, ...], now: float, texts: Texts, out: _Out
    ) -> ChatState:
        """The check is answered: its notices, then the warm-up (or no routine at all)."""
        out.effects.append(Record("screening", "conditions=" + ("+".join(ticks) or "none")))
        safety = Safety(now, self.rules.version, None, ticks, state.safety.stops)
        state = replace(state, safety=safety)
        if not ticks:
            return self._warm_up_check(state, now, texts, out)
        screening = texts.safety.screening
        notices = [screening.conditions[t].notice.text for t in ticks]
        if not self.rules.allowed_exercises(safety, now):
            out.send("\n\n".join([*notices, screening.all_left_out.text]))
            return replace(state, routine=None, reminders_paused=True)
        b = texts.safety.buttons
        out.send(
            "\n\n".join([*notices, screening.go_on_question]),
            Button(b.go_on, Action.GO_ON),
            Button(b.not_today, Action.END_TODAY),
        )
        return replace(state, routine=RoutineState(Phase.NOTICES))

    def _end_today(self, state: ChatState, texts: Texts, out: _Out) -> ChatState:
        """The user ends the routine for today: reminders wait until they start again."""
        out.send(texts.safety.stop.ended + "\n\n" + texts.safety.stop.ended_reminders)
        return replace(state, routine=None, reminders_paused=True)

    # -- warm-up ---------------------------------------------------------------------------

    @property
    def _max_rounds(self) -> int:
        return self.rules.spec.warm_up_rounds

    def _warm_up_check(self, state: ChatState, now: float, texts: Texts, out: _Out) -> ChatState:
        """The routine starts: reminders resume; any exercise stopped too often is left out."""
        state = replace(state, reminders_paused=False)
        stop = texts.safety.stop
        for exercise_id in self.rules.stopped_too_often(state.safety, now):
            out.send(self._pattern(exercise_id, texts))
        if not self.rules.allowed_exercises(state.safety, now):
            out.send(stop.ended)
            return replace(state, routine=None, reminders_paused=True)
        if self.rules.no_heat(state.safety, now):
            b = texts.safety.buttons
            out.send(
                texts.warm_up.check_no_heat.text,
                Button(b.go_on, Action.WARM),
                Button(b.end_today, Action.END_TODAY),
            )
        else:
            out.send(texts.warm_up.check.text, *self._warm_up_buttons(texts, 0))
        return replace(state, routine=RoutineState(Phase.WARM_UP_CHECK))

    def _pattern(self, exercise_id: str, texts: Texts) -> str:
        pattern = self.rules.spec.stop_pattern
        return texts.safety.stop.pattern.text.format(
            name=texts.exercises[exercise_id].name, count=pattern.count, days=pattern.days
        )

    def _warm_up_buttons(self, texts: Texts, rounds: int) -> tuple[Button, ...]:
        if rounds >= self._max_rounds:  # enough guided rounds: offer to go on
            b = texts.safety.buttons
            return (Button(b.go_on, Action.WARM), Button(b.end_today, Action.END_TODAY))
        return (
            Button(texts.buttons.warm, Action.WARM),
            Button(texts.buttons.guide_me, Action.GUIDE_ME),
        )

    def _guide_warm_up(self, state: ChatState, now: float, texts: Texts, out: _Out) -> ChatState:
        seconds = self.plan.warm_up_seconds
        minutes = f"{seconds / 60:.1f}".removesuffix(".0")  # 180 s: "3"; 100 s: "1.7"
        out.send(
            texts.warm_up.guide.text.format(minutes=minutes, seconds=seconds),
            self._stop_button(texts),
        )
        ends_at = now + self.plan.real(seconds)
        routine = RoutineState(
            Phase.WARM_UP_GUIDE,
            started_at=now,
            ends_at=ends_at,
            wake_at=ends_at,
            rounds=_routine(state).rounds + 1,
        )
        return replace(state, routine=routine)

    # -- stretches -------------------------------------------------------------------------

    def _stop_button(self, texts: Texts) -> Button:
        return Button(texts.safety.buttons.stop, Action.STOP)

    def _names(self, stretch: Stretch, texts: Texts) -> tuple[str, str]:
        exercise = texts.exercises[stretch.exercise_id]
        return exercise.name, exercise.sides[stretch.side].title

    def _order(self, state: ChatState, now: float) -> tuple[int, ...]:
        """The stretches of this chat's routine: those its safety answers leave in."""
        allowed = self.rules.allowed_exercises(state.safety, now)
        return tuple(s.index for s in self.plan.stretches if s.exercise_id in allowed)

    def _following(self, state: ChatState, index: int, now: float) -> int | None:
        return next((i for i in self._order(state, now) if i > index), None)

    def _start_stretches(self, state: ChatState, now: float, texts: Texts, out: _Out) -> ChatState:
        first = self._following(state, -1, now)
        if first is None:
            return self._end_today(state, texts, out)
        return self._show_stretch(state, first, texts, out)

    def _show_stretch(self, state: ChatState, index: int, texts: Texts, out: _Out) -> ChatState:
        """A stretch's own instructions, the button to start its hold, and Stop."""
        stretch = self.plan.stretches[index]
        name, side = self._names(stretch, texts)
        exercise = texts.exercises[stretch.exercise_id]
        instructions = exercise.sides[stretch.side].instructions.text
        for condition in self.rules.spec.conditions:  # a notice that applies to this stretch
            if condition.id in state.safety.conditions and stretch.exercise_id in (
                condition.remind_on
            ):
                out.send(texts.safety.screening.conditions[condition.id].notice.text)
        out.send(
            texts.hold.card.format(
                name=name, side=side, about=exercise.about.text, instructions=instructions
            ),
            Button(texts.buttons.start_hold, Action.START_HOLD, str(index)),
            self._stop_button(texts),
        )
        done = state.routine.done if state.routine else ()
        return replace(state, routine=RoutineState(Phase.READY, stretch=index, done=done))

    def _start_hold(self, state: ChatState, now: float, texts: Texts, out: _Out) -> ChatState:
        routine = _routine(state)
        stretch = self.plan.stretches[routine.stretch]
        name, side = self._names(stretch, texts)
        seconds = stretch.hold_seconds
        out.send(texts.hold.started.format(name=name, side=side, seconds=seconds))
        out.send(
            texts.hold.countdown.format(name=name, side=side, seconds_left=seconds),
            self._stop_button(texts),
            countdown=True,
        )
        routine = RoutineState(
            Phase.HOLD,
            stretch=stretch.index,
            started_at=now,
            ends_at=now + self.plan.real(seconds),
            countdown_shown=seconds,
            countdown_at=now,
            done=routine.done,
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
            held = replace(routine, done=(*routine.done, stretch.index))
            return self._after_hold(replace(state, routine=held), stretch, now, texts, out)

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
            # The Stop button stays on the countdown through every edit.
            buttons = (self._stop_button(texts),) if shown else ()
            out.effects.append(Edit(routine.countdown_message_id, text, buttons))
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

    def _summary(self, done: tuple[int, ...], texts: Texts) -> str:
        """What was held: each exercise with a side held, and for how long."""
        items = []
        for exercise in self.content.routine.exercises:
            sides = [s for s in self.plan.stretches if s.exercise_id == exercise.id]
            held = [s for s in sides if s.index in done]
            if not held:
                continue
            name = texts.exercises[exercise.id].name
            item = texts.done_item if len(held) == len(sides) else texts.done_item_part
            items.append(item.format(name=name, seconds=exercise.hold.seconds))
        return texts.done.format(count=len(done), exercises="\n".join(items))

    def _after_hold(
        self, state: ChatState, stretch: Stretch, now: float, texts: Texts, out: _Out
    ) -> ChatState:
        done = _routine(state).done
        following = self._following(state, stretch.index, now)
        if following is None:
            out.send(self._summary(done, texts))
            out.effects.append(Finished())
            return replace(state, routine=None)
        if self.plan.rest_seconds == 0:
            return self._show_stretch(state, following, texts, out)
        next_name, next_side = self._names(self.plan.stretches[following], texts)
        out.send(
            texts.rest.text.format(
                seconds=self.plan.rest_seconds, next_name=next_name, next_side=next_side
            ),
            self._stop_button(texts),
        )
        ends_at = now + self.plan.real(self.plan.rest_seconds)
        routine = RoutineState(
            Phase.REST,
            stretch=stretch.index,
            started_at=now,
            ends_at=ends_at,
            wake_at=ends_at,
            done=done,
        )
        return replace(state, routine=routine)

    def _stop_countdown(self, state: ChatState, texts: Texts, out: _Out) -> None:
        """A stopped hold's countdown says so instead of freezing at some number."""
        routine = state.routine
        if routine and routine.phase == Phase.HOLD and routine.countdown_message_id is not None:
            name, side = self._names(self.plan.stretches[routine.stretch], texts)
            stopped = texts.hold.stopped.format(name=name, side=side)
            out.effects.append(Edit(routine.countdown_message_id, stopped))

    # -- Stop --------------------------------------------------------------------------------

    def _stop(self, state: ChatState, now: float, texts: Texts, out: _Out) -> ChatState:
        """Stop: the step ends at once; how to come out of it; then two questions."""
        routine = state.routine
        if routine is None or routine.phase not in TIMED:
            out.effects.append(Toast(texts.safety.stop.stale))
            self._prompt(state, now, texts, out)
            return state
        self._stop_countdown(state, texts, out)
        stop = texts.safety.stop
        if routine.phase == Phase.WARM_UP_GUIDE:
            out.send(stop.come_out_warm_up.text)
            index, exercise_id, side = -1, "warm_up", None
        else:
            stretch = self.plan.stretches[routine.stretch]
            out.send(stop.come_out.text)
            index, exercise_id, side = stretch.index, stretch.exercise_id, stretch.side
        out.effects.append(Record("stop", routine.phase.value, exercise_id, side))
        state = replace(state, safety=self.rules.record_stop(state.safety, exercise_id, now))
        stopped = RoutineState(Phase.STOPPED, stretch=index, done=routine.done)
        return self._ask_after_stop(replace(state, routine=stopped), now, texts, out)

    def _ask_after_stop(self, state: ChatState, now: float, texts: Texts, out: _Out) -> ChatState:
        """The question Stop is at: numbness (0), settling (1), or what to do next (2)."""
        routine = _routine(state)
        stop, b = texts.safety.stop, texts.safety.buttons
        if routine.question == 0:
            out.send(
                stop.ask_numb.text,
                Button(b.yes, Action.STOP_ANSWER, "numb.y"),
                Button(b.no, Action.STOP_ANSWER, "numb.n"),
            )
        elif routine.question == 1:
            out.send(
                stop.ask_settling.text,
                Button(b.settling, Action.STOP_ANSWER, "settling.y"),
                Button(b.not_settling, Action.STOP_ANSWER, "settling.n"),
            )
        else:
            out.send(stop.settling, *self._after_stop_buttons(state, now, texts))
        return state

    def _after_stop_buttons(self, state: ChatState, now: float, texts: Texts) -> tuple[Button, ...]:
        b = texts.safety.buttons
        routine = _routine(state)
        following = self._following(state, routine.stretch, now)
        skip = self._skip_to(state, routine.stretch, now)
        # Ending is offered first: the bot never pushes on.
        buttons = [Button(b.end_today, Action.AFTER_STOP, "end")]
        if following is not None:
            buttons.append(Button(b.next_stretch, Action.AFTER_STOP, "next"))
        if skip is not None and skip != following:
            buttons.append(Button(b.skip_exercise, Action.AFTER_STOP, "skip"))
        return tuple(buttons)

    def _skip_to(self, state: ChatState, index: int, now: float) -> int | None:
        """The first stretch of the next exercise in this chat's routine."""
        if index < 0:
            return self._following(state, index, now)
        exercise_id = self.plan.stretches[index].exercise_id
        return next(
            (
                i
                for i in self._order(state, now)
                if i > index and self.plan.stretches[i].exercise_id != exercise_id
            ),
            None,
        )

    def _stop_answer(
        self, state: ChatState, yes: bool, now: float, texts: Texts, out: _Out
    ) -> ChatState:
        routine = _routine(state)
        asked = ("numb", "settling")[routine.question]
        out.effects.append(Record("stop_answer", f"{asked}={'yes' if yes else 'no'}"))
        stop = texts.safety.stop
        if asked == "numb" and yes:
            out.send(self._outcome(texts.safety.outcomes["emergency"].text, state, texts))
            safety = replace(state.safety, flag="stop_numb")
            return replace(state, safety=safety, routine=None, reminders_paused=True)
        if asked == "settling" and not yes:
            out.send(self._outcome(stop.not_settling.text, state, texts))
            return replace(state, routine=None, reminders_paused=True)
        if asked == "settling":
            stopped = self.plan.stretches[routine.stretch] if routine.stretch >= 0 else None
            if stopped and stopped.exercise_id in self.rules.stopped_too_often(state.safety, now):
                out.send(self._pattern(stopped.exercise_id, texts))
        state = replace(state, routine=replace(routine, question=routine.question + 1))
        return self._ask_after_stop(state, now, texts, out)

    def _after_stop(
        self, state: ChatState, choice: str, now: float, texts: Texts, out: _Out
    ) -> ChatState:
        routine = _routine(state)
        out.effects.append(Record("stop_answer", f"next={choice}"))
        target = {
            "next": self._following(state, routine.stretch, now),
            "skip": self._skip_to(state, routine.stretch, now),
        }.get(choice)
        if target is None:
            return self._end_today(state, texts, out)
        return self._show_stretch(state, target, texts, out)

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
                rounds = routine.rounds
                done = (
                    texts.warm_up.guide_done_last
                    if rounds >= self._max_rounds
                    else texts.warm_up.guide_done
                )
                out.send(done, *self._warm_up_buttons(texts, rounds))
                return replace(state, routine=RoutineState(Phase.WARM_UP_CHECK, rounds=rounds))
            case Phase.HOLD:
                return self._hold_tick(state, now, texts, out)
            case Phase.REST:
                following = self._following(state, routine.stretch, now)
                if following is None:  # the rest of the plan was left out meanwhile
                    out.send(self._summary(routine.done, texts))
                    out.effects.append(Finished())
                    return replace(state, routine=None)
                return self._show_stretch(state, following, texts, out)
        return replace(state, routine=replace(routine, wake_at=None))

    # -- saying what is expected now ---------------------------------------------------------

    def _prompt(self, state: ChatState, now: float, texts: Texts, out: _Out) -> None:
        """Tell the user what the bot expects now, with the buttons that fit.

        In a timed step (a hold, a rest, the warm-up) any text may mean it hurts: the answer is
        an offer to stop, with the Stop button, never "keep holding".
        """
        routine = state.routine
        replies = texts.replies
        phase = routine.phase if routine else None
        if routine is None:
            out.send(replies.idle)
            return
        match phase:
            case Phase.CONSENT:
                out.send(replies.expect_consent, *self._consent_buttons(texts))
            case Phase.WARM_UP_CHECK:
                if self.rules.no_heat(state.safety, now):
                    self._warm_up_check(state, now, texts, out)
                else:
                    buttons = self._warm_up_buttons(texts, routine.rounds)
                    out.send(replies.expect_warm_up, *buttons)
            case Phase.READY:
                name, side = self._names(self.plan.stretches[routine.stretch], texts)
                out.send(
                    replies.expect_start_hold.format(name=name, side=side),
                    Button(texts.buttons.start_hold, Action.START_HOLD, str(routine.stretch)),
                    self._stop_button(texts),
                )
            case Phase.WARM_UP_GUIDE | Phase.HOLD | Phase.REST:
                out.send(texts.safety.stop.offer.text, self._stop_button(texts))
            case Phase.SCREEN:
                out.send(replies.expect_answer)
                self._ask_question(state, routine.question, texts, out)
            case Phase.CONDITIONS:
                out.send(replies.expect_answer)
                self._ask_conditions(state, routine.ticks, None, texts, out)
            case Phase.NOTICES:
                b = texts.safety.buttons
                out.send(
                    texts.safety.screening.go_on_question,
                    Button(b.go_on, Action.GO_ON),
                    Button(b.not_today, Action.END_TODAY),
                )
            case Phase.RECHECK:
                out.send(replies.expect_answer)
                self._ask_recheck(state, texts, out)
            case Phase.STOPPED:
                out.send(replies.expect_answer)
                self._ask_after_stop(state, now, texts, out)


def _in(state: ChatState, phase: Phase) -> bool:
    return state.routine is not None and state.routine.phase == phase


def _routine(state: ChatState) -> RoutineState:
    assert state.routine is not None
    return state.routine
