"""The routine as a pure state machine: `Routine.advance(state, event, now) -> (state, effects)`.

A plan of stretches is compiled from content (bot.core.plan); a chat's state (bot.core.state)
says where it is. Events come from the user or a timer; effects say what to show
(bot.core.events). The safety steps (the warning-sign check and Stop) are mixed in from
bot.core.safety_steps. Time is a parameter (epoch seconds), never read here.

This module knows nothing of Telegram, storage or clocks. The `mermaid` diagram of the flow is
in routine.mmd beside it.
"""

from __future__ import annotations

from dataclasses import replace

from bot.core.callbacks import Action, Answer, Button
from bot.core.consent_steps import ConsentSteps
from bot.core.content import Content
from bot.core.content_models import Texts
from bot.core.countdown import Countdown
from bot.core.events import (
    Back,
    BeginRoutine,
    Cancel,
    Edited,
    Effect,
    Event,
    Help,
    Out,
    PauseTimer,
    Press,
    Record,
    ResumeTimer,
    ShowSettings,
    StalePress,
    Start,
    Toast,
    Unexpected,
    Wake,
)
from bot.core.hold_steps import HoldSteps
from bot.core.plan import Plan
from bot.core.progress_steps import ProgressSteps
from bot.core.safety import Rules
from bot.core.safety_steps import SafetySteps
from bot.core.settings_steps import SettingsSteps
from bot.core.state import PAUSABLE, ChatState, Phase, RoutineState

# A cue or a hold end handled later than this (real seconds) came too late (the bot was down,
# or Telegram's budget was full): stale cues are dropped, and a late end says it is late.
MIN_LATE_TOLERANCE = 2.0


class Routine(ConsentSteps, SafetySteps, HoldSteps, SettingsSteps, ProgressSteps):
    """The flow of the routine for one content folder and speed."""

    def __init__(self, content: Content, plan: Plan) -> None:
        self.content = content
        self.plan = plan
        self.rules = Rules(content)
        self.late_tolerance = max(plan.real(plan.countdown_every), MIN_LATE_TOLERANCE)
        self.countdown = Countdown(plan)

    def advance(self, state: ChatState, event: Event, now: float) -> tuple[ChatState, list[Effect]]:
        """Apply one event; return the new state and what to show."""
        texts = self.content.texts(state.locale)
        out = Out()
        original = state
        if not self._fits(state):  # the content changed under a running routine: end kindly
            out.send(texts.replies.routine_changed)
            state = replace(state, routine=None)
            if isinstance(event, Wake):
                return self._ended(original, state, event, now, out), out.effects
        state = self._close_paused(state, now, texts, out)
        if _in(state, Phase.PAIN_AFTER) and isinstance(event, _MOVES_ON):
            state = self._close_session(state, None, now, texts, out)  # the score is optional
        match event:
            case Start():
                state = self._start(state, event, now, texts, out)
            case BeginRoutine() | Press(action=Action.START_ROUTINE):
                state = self._begin(state, now, texts, out)
            case Press(action=Action.ACCEPT):
                state = self._accept(state, str(event.value), now, texts, out)
            case Press(action=Action.DECLINE):
                state = self._decline(state, now, texts, out)
            case Press(action=Action.STOP):
                state = self._stop(state, now, texts, out)
            case ShowSettings():
                state = self._show_settings(state, texts, out)
            case Press(action=Action.SETTING):
                state = self._change_setting(state, str(event.value), texts, out, event.message_id)
            case Press(action=Action.SETTINGS_DONE):
                state = self._close_settings(state, texts, out, event.message_id)
            case Press() if self._expected(state, event, now):
                state = self._press(
                    replace(state, last_press=event.message_id), event, now, texts, out
                )
            case Press() | StalePress():
                out.effects.append(Toast(texts.replies.stale_button))
                tapped = event.message_id if isinstance(event, Press) else None
                if tapped is None or tapped != state.last_press:
                    self._prompt(state, now, texts, out)  # a second tap gets the toast only
            case Cancel():
                self._stop_countdown(state, texts, out)
                out.send(
                    texts.replies.cancelled if state.routine else texts.replies.nothing_to_cancel
                )
                state = replace(state, routine=None)
            case Help():
                out.send(texts.replies.help.format(safety_note=texts.safety.help_note.text))
            case PauseTimer():
                state = self._pause(state, now, texts, out, pressed=False)
            case ResumeTimer():
                state = self._resume(state, now, texts, out, pressed=False)
            case Back():
                state = self._back(state, now, texts, out)
            case Unexpected():
                self._prompt(state, now, texts, out)
            case Edited():
                out.send(texts.replies.edited_message)
            case Wake():
                state = self._wake(state, event.at, now, texts, out)
        return self._ended(original, state, event, now, out), out.effects

    def _ended(
        self, before: ChatState, after: ChatState, event: Event, now: float, out: Out
    ) -> ChatState:
        """A routine that ended other than by finishing is kept in the history with how."""
        if before.routine is None or after.routine is not None:
            return after
        if after.progress.begun_at is None:
            return after
        stopped = before.routine.phase == Phase.STOPPED
        outcome = "cancelled" if isinstance(event, Cancel) else "stopped" if stopped else "ended"
        return self._end_session(after, before.routine, outcome, now, out)

    def _fits(self, state: ChatState) -> bool:
        """Whether a stored routine still fits the content (an exercise or a side may be gone)."""
        routine = state.routine
        if routine is None:
            return True
        stretches = len(self.plan.stretches)
        timed = (Phase.READY, Phase.GET_READY, Phase.HOLD, Phase.REST)
        if routine.phase in timed and routine.stretch >= stretches:
            return False
        if routine.phase == Phase.STOPPED and routine.stretch >= stretches:
            return False
        questions = len(self.rules.spec.questions)
        return not (routine.phase == Phase.SCREEN and routine.question >= questions)

    def _expected(self, state: ChatState, press: Press, now: float) -> bool:
        """Whether a button fits the step the chat is in (an old one does not)."""
        routine = state.routine
        if routine is None:
            return False
        phase, action = routine.phase, press.action
        if action in _CONTROLS:  # the buttons of a running step name its stretch
            return press.value == routine.stretch and _controls(routine, action)
        match phase:
            case Phase.WARM_UP_GUIDE:
                return action == Action.WARM  # warm before the guide's time is up
            case Phase.WARM_UP_CHECK:
                if action == Action.GUIDE_ME:
                    no_heat = self.rules.no_heat(state.safety, now)
                    return not no_heat and routine.rounds < self._max_rounds
                return action in (Action.WARM, Action.END_TODAY)
            case Phase.READY:
                return action == Action.START_HOLD and press.value == routine.stretch
            case Phase.SCREEN:
                question = self.rules.spec.questions[routine.question].id
                return action == Action.SCREEN and _answers(press, question)
            case Phase.CONDITIONS:
                return action in (Action.TICK, Action.TICKS_DONE, Action.TICKS_NONE)
            case Phase.NOTICES:
                return action in (Action.GO_ON, Action.END_TODAY)
            case Phase.PAIN_BEFORE | Phase.PAIN_AFTER:
                return action in (Action.PAIN, Action.PAIN_SKIP)
            case Phase.RECHECK:
                return action == Action.RECHECK and isinstance(press.value, bool)
            case Phase.STOPPED:
                if routine.question == 2:
                    return action == Action.AFTER_STOP and press.value in ("next", "skip", "end")
                asked = ("numb", "settling")[routine.question]
                return action == Action.STOP_ANSWER and _answers(press, asked)
        return False

    def _press(
        self, state: ChatState, press: Press, now: float, texts: Texts, out: Out
    ) -> ChatState:
        """A button that fits the step the chat is in."""
        routine = _routine(state)
        value = press.value
        yes = value.yes if isinstance(value, Answer) else value is True
        match press.action:
            case Action.WARM:
                return self._start_stretches(state, now, texts, out)
            case Action.GUIDE_ME:
                return self._guide_warm_up(state, now, texts, out)
            case Action.START_HOLD:
                return self._start_hold(state, now, texts, out)
            case Action.PAUSE:
                return self._pause(state, now, texts, out, pressed=True)
            case Action.RESUME:
                return self._resume(state, now, texts, out, pressed=True)
            case Action.EXTEND:
                return self._extend(state, now, texts, out)
            case Action.SKIP_SIDE:
                return self._skip_side(state, now, texts, out)
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
                return self._begin_stretching(state, now, texts, out)
            case Action.RECHECK if yes:
                out.effects.append(Record("recheck", "something new"))
                return self._full_check(state, texts, out)
            case Action.RECHECK:
                out.effects.append(Record("recheck", "nothing new"))
                return self._begin_stretching(state, now, texts, out)
            case Action.STOP_ANSWER:
                return self._stop_answer(state, yes, now, texts, out)
            case Action.PAIN:
                return self._pain(state, int(str(value)), now, texts, out)
            case Action.PAIN_SKIP:
                return self._pain(state, None, now, texts, out)
            case Action.AFTER_STOP:
                return self._after_stop(state, str(press.value), now, texts, out)
        raise AssertionError(f"unhandled button {press.action}")

    # -- warm-up ---------------------------------------------------------------------------

    @property
    def _max_rounds(self) -> int:
        return self.rules.spec.warm_up_rounds

    def _warm_up_check(self, state: ChatState, now: float, texts: Texts, out: Out) -> ChatState:
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

    def _warm_up_buttons(self, texts: Texts, rounds: int) -> tuple[Button, ...]:
        if rounds >= self._max_rounds:  # enough guided rounds: offer to go on
            b = texts.safety.buttons
            return (Button(b.go_on, Action.WARM), Button(b.end_today, Action.END_TODAY))
        return (
            Button(texts.buttons.warm, Action.WARM),
            Button(texts.buttons.guide_me, Action.GUIDE_ME),
        )

    def _guide_warm_up(self, state: ChatState, now: float, texts: Texts, out: Out) -> ChatState:
        seconds = self.plan.warm_up_seconds
        minutes = f"{seconds / 60:.1f}".removesuffix(".0")  # 180 s: "3"; 100 s: "1.7"
        out.send(
            texts.warm_up.guide.text.format(minutes=minutes, seconds=seconds),
            Button(texts.buttons.warm, Action.WARM),  # warm already: no need to wait
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

    def _order(self, state: ChatState, now: float) -> tuple[int, ...]:
        """The stretches of this chat's routine: those its safety answers leave in."""
        allowed = self.rules.allowed_exercises(state.safety, now)
        return tuple(s.index for s in self.plan.stretches if s.exercise_id in allowed)

    def _following(self, state: ChatState, index: int, now: float) -> int | None:
        return next((i for i in self._order(state, now) if i > index), None)

    def _start_stretches(self, state: ChatState, now: float, texts: Texts, out: Out) -> ChatState:
        first = self._following(state, -1, now)
        if first is None:
            return self._end_today(state, texts, out)
        return self._show_stretch(state, first, texts, out)

    # -- timers ----------------------------------------------------------------------------

    def _wake(self, state: ChatState, at: float, now: float, texts: Texts, out: Out) -> ChatState:
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
            case Phase.GET_READY:
                return self._begin_hold(state, now, texts, out, at=routine.ends_at)
            case Phase.HOLD:
                return self._hold_tick(state, now, texts, out)
            case Phase.REST:
                following = self._following(state, routine.stretch, now)
                if following is None:  # the rest of the plan was left out meanwhile
                    return self._finish(state, now, texts, out)
                return self._show_stretch(state, following, texts, out)
        return replace(state, routine=replace(routine, wake_at=None))

    # -- saying what is expected now ---------------------------------------------------------

    def _prompt(self, state: ChatState, now: float, texts: Texts, out: Out) -> None:
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
        if routine.paused:
            out.send(replies.expect_resume, *self._resume_buttons(routine, texts))
            return
        match phase:
            case Phase.CONSENT:
                out.send(replies.expect_consent, *self._consent_buttons(state, texts))
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
                    Button(texts.buttons.start_hold, Action.START_HOLD, routine.stretch),
                    self._stop_button(texts),
                )
            case Phase.WARM_UP_GUIDE | Phase.GET_READY | Phase.HOLD | Phase.REST:
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
            case Phase.PAIN_BEFORE:
                self._ask_pain(texts.progress.pain_before, texts, out)
            case Phase.PAIN_AFTER:
                self._ask_pain(texts.progress.pain_after, texts, out)
            case Phase.STOPPED:
                out.send(replies.expect_answer)
                self._ask_after_stop(state, now, texts, out)


# Events that move a chat on from the optional pain question after the summary.
_MOVES_ON = (Start, BeginRoutine, Cancel, ShowSettings, PauseTimer, ResumeTimer, Back)

# The controls of a running step (bot.core.hold_steps), and the steps each fits.
_CONTROLS = frozenset({Action.PAUSE, Action.RESUME, Action.EXTEND, Action.SKIP_SIDE})


def _controls(routine: RoutineState, action: Action) -> bool:
    match action:
        case Action.PAUSE | Action.EXTEND:
            return routine.phase == Phase.HOLD and not routine.paused
        case Action.RESUME:
            return routine.phase in PAUSABLE and routine.paused
        case Action.SKIP_SIDE:
            return routine.phase in (Phase.GET_READY, Phase.HOLD)
    return False


def _in(state: ChatState, phase: Phase) -> bool:
    return state.routine is not None and state.routine.phase == phase


def _routine(state: ChatState) -> RoutineState:
    assert state.routine is not None
    return state.routine


def _answers(press: Press, question: str) -> bool:
    """A yes/no button for this question (one for an earlier question is out of date)."""
    return isinstance(press.value, Answer) and press.value.question == question
