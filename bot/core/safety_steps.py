"""The routine's safety steps: the warning-sign check before the warm-up, and Stop.

Mixed into `Routine` (bot.core.routine), whose other steps these call: the warm-up check, a
stretch's card, the order of the chat's stretches. The rules themselves (when the check is due,
what is left out, who to call) are in bot.core.safety. Pure: time is a parameter.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from bot.core.callbacks import Action, Answer, Button
from bot.core.content import Content
from bot.core.content_models import Texts
from bot.core.events import Edit, Keep, Out, Press, Record, Toast
from bot.core.plan import Plan
from bot.core.safety import Rules, Safety
from bot.core.state import TIMED, ChatState, Phase, RoutineState


class SafetySteps:
    """The warning-sign check and Stop, as steps of the routine."""

    content: Content
    plan: Plan
    rules: Rules

    # -- steps of the routine these lead to (Routine defines them) ---------------------------

    if TYPE_CHECKING:  # defined by Routine; declared here for the type checker only

        def _warm_up_check(self, state: ChatState, now: float, texts: Texts, out: Out) -> ChatState:
            raise NotImplementedError

        def _show_stretch(self, state: ChatState, index: int, texts: Texts, out: Out) -> ChatState:
            raise NotImplementedError

        def _begin_stretching(
            self, state: ChatState, now: float, texts: Texts, out: Out
        ) -> ChatState:
            raise NotImplementedError

        def _following(self, state: ChatState, index: int, now: float) -> int | None:
            raise NotImplementedError

        def _order(self, state: ChatState, now: float) -> tuple[int, ...]:
            raise NotImplementedError

        def _stop_button(self, texts: Texts) -> Button:
            raise NotImplementedError

        def _stop_countdown(
            self, state: ChatState, texts: Texts, out: Out, *, skipped: bool = False
        ) -> None:
            raise NotImplementedError

        def _prompt(self, state: ChatState, now: float, texts: Texts, out: Out) -> None:
            raise NotImplementedError

    # -- the warning-sign check --------------------------------------------------------------

    def _safety_check(self, state: ChatState, now: float, texts: Texts, out: Out) -> ChatState:
        """Before each routine: the full check when it is due, otherwise "anything new?"."""
        if self.rules.full_check_due(state.safety, now, state.locale):
            return self._full_check(state, texts, out)
        return self._ask_recheck(state, texts, out)

    def _full_check(self, state: ChatState, texts: Texts, out: Out) -> ChatState:
        out.send(texts.safety.screening.intro.text)
        return self._ask_question(state, 0, texts, out)

    def _ask_recheck(self, state: ChatState, texts: Texts, out: Out) -> ChatState:
        b = texts.safety.buttons
        out.send(
            texts.safety.screening.recheck.text,
            Button(b.something_new, Action.RECHECK, True),
            Button(b.nothing_new, Action.RECHECK, False),
        )
        return replace(state, routine=RoutineState(Phase.RECHECK))

    def _ask_question(self, state: ChatState, index: int, texts: Texts, out: Out) -> ChatState:
        question = self.rules.spec.questions[index].id
        b = texts.safety.buttons
        out.send(
            texts.safety.screening.questions[question].text,
            Button(b.yes, Action.SCREEN, Answer(question, True)),
            Button(b.no, Action.SCREEN, Answer(question, False)),
        )
        return replace(state, routine=RoutineState(Phase.SCREEN, question=index))

    def _answer(self, state: ChatState, yes: bool, now: float, texts: Texts, out: Out) -> ChatState:
        """Yes ends the check with its outcome; No asks the next question."""
        routine = _routine(state)
        question = self.rules.spec.questions[routine.question]
        if not yes:
            if routine.question + 1 < len(self.rules.spec.questions):
                return self._ask_question(state, routine.question + 1, texts, out)
            return self._ask_conditions(state, (), None, texts, out)
        out.effects.append(Record("screening", f"{question.id}=yes"))
        out.send(self._outcome(texts.safety.outcomes[question.outcome].text, state, texts))
        safety = Safety(now, self.rules.version(state.locale), question.id, (), state.safety.stops)
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
        out: Out,
    ) -> ChatState:
        """The tick-list: sent, or redrawn in place when a tick changes."""
        text = texts.safety.screening.conditions_question.text
        buttons = self._conditions_buttons(texts, ticks)
        if message_id is None:
            out.send(text, *buttons)
        else:
            out.effects += [Edit(message_id, text, buttons), Keep()]
        return replace(state, routine=RoutineState(Phase.CONDITIONS, ticks=ticks))

    def _tick(self, state: ChatState, press: Press, texts: Texts, out: Out) -> ChatState:
        ids = [c.id for c in self.rules.spec.conditions]
        ticks = set(_routine(state).ticks) ^ ({press.value} & set(ids))
        ordered = tuple(i for i in ids if i in ticks)
        return self._ask_conditions(state, ordered, press.message_id, texts, out)

    def _finish_check(
        self, state: ChatState, ticks: tuple[str, ...], now: float, texts: Texts, out: Out
    ) -> ChatState:
        """The check is answered: its notices, then the warm-up (or no routine at all)."""
        out.effects.append(Record("screening", "conditions=" + ("+".join(ticks) or "none")))
        safety = Safety(now, self.rules.version(state.locale), None, ticks, state.safety.stops)
        state = replace(state, safety=safety)
        if not ticks:
            return self._begin_stretching(state, now, texts, out)
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

    def _end_today(self, state: ChatState, texts: Texts, out: Out) -> ChatState:
        """The user ends the routine for today: reminders wait until they start again."""
        out.send(texts.safety.stop.ended + "\n\n" + texts.safety.stop.ended_reminders)
        return replace(state, routine=None, reminders_paused=True)

    def _pattern(self, exercise_id: str, texts: Texts) -> str:
        pattern = self.rules.spec.stop_pattern
        return texts.safety.stop.pattern.text.format(
            name=texts.exercises[exercise_id].name, count=pattern.count, days=pattern.days
        )

    # -- Stop --------------------------------------------------------------------------------

    def _stop(self, state: ChatState, now: float, texts: Texts, out: Out) -> ChatState:
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
        stopped = RoutineState(Phase.STOPPED, stretch=index, done=routine.done, held=routine.held)
        return self._ask_after_stop(replace(state, routine=stopped), now, texts, out)

    def _ask_after_stop(self, state: ChatState, now: float, texts: Texts, out: Out) -> ChatState:
        """The question Stop is at: numbness (0), settling (1), or what to do next (2)."""
        routine = _routine(state)
        stop, b = texts.safety.stop, texts.safety.buttons
        if routine.question == 0:
            out.send(
                stop.ask_numb.text,
                Button(b.yes, Action.STOP_ANSWER, Answer("numb", True)),
                Button(b.no, Action.STOP_ANSWER, Answer("numb", False)),
            )
        elif routine.question == 1:
            out.send(
                stop.ask_settling.text,
                Button(b.settling, Action.STOP_ANSWER, Answer("settling", True)),
                Button(b.not_settling, Action.STOP_ANSWER, Answer("settling", False)),
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
        self, state: ChatState, yes: bool, now: float, texts: Texts, out: Out
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
        self, state: ChatState, choice: str, now: float, texts: Texts, out: Out
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


def _routine(state: ChatState) -> RoutineState:
    assert state.routine is not None
    return state.routine
