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
    BeginRoutine,
    Cancel,
    Edit,
    Edited,
    Effect,
    Event,
    Finished,
    Help,
    Out,
    Press,
    Record,
    StalePress,
    Start,
    Toast,
    Unexpected,
    Wake,
)
from bot.core.plan import Plan, Stretch
from bot.core.safety import Rules
from bot.core.safety_steps import SafetySteps
from bot.core.state import ChatState, Phase, RoutineState

# A cue or a hold end handled later than this (real seconds) came too late (the bot was down,
# or Telegram's budget was full): stale cues are dropped, and a late end says it is late.
MIN_LATE_TOLERANCE = 2.0


class Routine(ConsentSteps, SafetySteps):
    """The flow of the routine for one content folder and speed."""

    def __init__(self, content: Content, plan: Plan) -> None:
        self.content = content
        self.plan = plan
        self.rules = Rules(content)
        self.disclaimer_version = content.disclaimer_version()
        self.late_tolerance = max(plan.real(plan.countdown_every), MIN_LATE_TOLERANCE)
        self.countdown = Countdown(plan)

    def advance(self, state: ChatState, event: Event, now: float) -> tuple[ChatState, list[Effect]]:
        """Apply one event; return the new state and what to show."""
        texts = self.content.texts(state.locale)
        out = Out()
        if not self._fits(state):  # the content changed under a running routine: end kindly
            out.send(texts.replies.routine_changed)
            state = replace(state, routine=None)
            if isinstance(event, Wake):
                return state, out.effects
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
            case Unexpected():
                self._prompt(state, now, texts, out)
            case Edited():
                out.send(texts.replies.edited_message)
            case Wake():
                state = self._wake(state, event.at, now, texts, out)
        return state, out.effects

    def _fits(self, state: ChatState) -> bool:
        """Whether a stored routine still fits the content (an exercise or a side may be gone)."""
        routine = state.routine
        if routine is None:
            return True
        stretches = len(self.plan.stretches)
        if routine.phase in (Phase.READY, Phase.HOLD, Phase.REST) and routine.stretch >= stretches:
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

    def _start_stretches(self, state: ChatState, now: float, texts: Texts, out: Out) -> ChatState:
        first = self._following(state, -1, now)
        if first is None:
            return self._end_today(state, texts, out)
        return self._show_stretch(state, first, texts, out)

    def _show_stretch(self, state: ChatState, index: int, texts: Texts, out: Out) -> ChatState:
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
            Button(texts.buttons.start_hold, Action.START_HOLD, index),
            self._stop_button(texts),
        )
        done = state.routine.done if state.routine else ()
        return replace(state, routine=RoutineState(Phase.READY, stretch=index, done=done))

    def _start_hold(self, state: ChatState, now: float, texts: Texts, out: Out) -> ChatState:
        routine = _routine(state)
        stretch = self.plan.stretches[routine.stretch]
        name, side = self._names(stretch, texts)
        seconds = stretch.hold_seconds
        # One message starts the hold: its countdown (a hold's messages are what fills
        # Telegram's budget when many people hold at once; see README, Load).
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
        return replace(
            state, routine=replace(routine, wake_at=self.countdown.next_wake(routine, now))
        )

    def _hold_tick(self, state: ChatState, now: float, texts: Texts, out: Out) -> ChatState:
        routine = _routine(state)
        assert routine.started_at is not None and routine.ends_at is not None
        stretch = self.plan.stretches[routine.stretch]
        name, side = self._names(stretch, texts)
        if now >= routine.ends_at - 1e-9:
            if routine.countdown_shown != 0 and self.countdown.may_edit(routine, now):
                assert routine.countdown_message_id is not None
                text = texts.hold.countdown.format(name=name, side=side, seconds_left=0)
                out.effects.append(Edit(routine.countdown_message_id, text))
            too_late = now - routine.ends_at > self.late_tolerance
            ended = texts.hold.ended_late if too_late else texts.hold.finished
            held = replace(routine, done=(*routine.done, stretch.index))
            return self._after_hold(
                replace(state, routine=held),
                stretch,
                now,
                texts,
                out,
                ended.format(name=name, side=side),
            )

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
        shown = self.countdown.value(routine, now)
        if shown != routine.countdown_shown and self.countdown.may_edit(routine, now):
            assert routine.countdown_message_id is not None
            text = texts.hold.countdown.format(name=name, side=side, seconds_left=shown)
            # The Stop button stays on the countdown through every edit.
            buttons = (self._stop_button(texts),) if shown else ()
            out.effects.append(Edit(routine.countdown_message_id, text, buttons, countdown=True))
            # The grid point, not `now`: a timer that fires a few ms late must not push the
            # next edit a whole step further.
            routine = replace(
                routine, countdown_shown=shown, countdown_at=self.countdown.grid_at(routine, now)
            )
        return replace(
            state, routine=replace(routine, wake_at=self.countdown.next_wake(routine, now))
        )

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
        self, state: ChatState, stretch: Stretch, now: float, texts: Texts, out: Out, ended: str
    ) -> ChatState:
        """The hold is over (`ended` says so): the rest before the next stretch, or the end.

        The release and the rest are one message, one notification."""
        done = _routine(state).done
        following = self._following(state, stretch.index, now)
        if following is None:
            out.send(ended)
            out.send(self._summary(done, texts))
            out.effects.append(Finished())
            return replace(state, routine=None)
        if self.plan.rest_seconds == 0:
            out.send(ended)
            return self._show_stretch(state, following, texts, out)
        next_name, next_side = self._names(self.plan.stretches[following], texts)
        rest = texts.rest.text.format(
            seconds=self.plan.rest_seconds, next_name=next_name, next_side=next_side
        )
        out.send(f"{ended}\n\n{rest}", self._stop_button(texts))
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

    def _stop_countdown(self, state: ChatState, texts: Texts, out: Out) -> None:
        """A stopped hold's countdown says so instead of freezing at some number."""
        routine = state.routine
        if routine and routine.phase == Phase.HOLD and routine.countdown_message_id is not None:
            name, side = self._names(self.plan.stretches[routine.stretch], texts)
            stopped = texts.hold.stopped.format(name=name, side=side)
            out.effects.append(Edit(routine.countdown_message_id, stopped))

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
                    Button(texts.buttons.start_hold, Action.START_HOLD, routine.stretch),
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


def _answers(press: Press, question: str) -> bool:
    """A yes/no button for this question (one for an earlier question is out of date)."""
    return isinstance(press.value, Answer) and press.value.question == question
