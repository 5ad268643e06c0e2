"""The holds as steps of the routine: a stretch's card, the get-ready count, the hold with its
countdown and cues, pause and resume, +15 s, skipping a side, going back, the rest, the summary.

A mixin of `Routine` (bot.core.routine), pure like it: events in, state and effects out.

- **Get ready.** "Start hold" starts a short count (the user's choice, 0 to 15 s) with one
  message, so the user presses the button first and then gets into position. The hold then
  starts by itself: its countdown is a new message, so the phone notifies.
- **Pause** keeps the exact time left (`paused_left`) and stops every timer; resume moves the
  hold's start and end on by the time paused. It works in every timed step (the warm-up guide,
  the get-ready count, a hold, a rest) and survives a restart like any state.
- **+15 s** lengthens the hold being done, up to its exercise's `max_seconds`.
"""

from __future__ import annotations

import math
from dataclasses import replace
from typing import TYPE_CHECKING

from bot.core.callbacks import Action, Button
from bot.core.content import Content
from bot.core.content_models import Texts
from bot.core.countdown import Countdown
from bot.core.events import Edit, Keep, Out, Picture, Toast
from bot.core.plan import Plan, Stretch
from bot.core.safety import Rules
from bot.core.state import PAUSABLE, ChatState, Phase, RoutineState

# Nominal seconds a hold waits for its countdown to reach the user before it goes on without
# it (a countdown whose answer was lost never says it arrived).
WAIT_FOR_COUNTDOWN = 60
# Real seconds a countdown may take to go out before its hold is moved on to when it did.
REBASE_AFTER = 1.0


class HoldSteps:
    """Cards, holds, rests and the controls of a hold."""

    content: Content
    plan: Plan
    rules: Rules
    countdown: Countdown
    late_tolerance: float

    if TYPE_CHECKING:  # defined by Routine; declared here for the type checker only

        def _following(self, state: ChatState, index: int, now: float) -> int | None:
            raise NotImplementedError

        def _order(self, state: ChatState, now: float) -> tuple[int, ...]:
            raise NotImplementedError

        def _prompt(self, state: ChatState, now: float, texts: Texts, out: Out) -> None:
            raise NotImplementedError

        def _after_summary(self, state: ChatState, now: float, texts: Texts, out: Out) -> ChatState:
            raise NotImplementedError

    # -- what the user chose (/settings), within what content allows --------------------------

    def _hold_length(self, state: ChatState, stretch: Stretch) -> int:
        chosen = state.prefs.hold_for(stretch.exercise_id)
        return stretch.hold_seconds if chosen is None else stretch.clamp(chosen)

    def _rest_seconds(self, state: ChatState) -> int:
        chosen = state.prefs.rest_seconds
        return self.plan.rest_seconds if chosen is None else chosen

    def _get_ready_seconds(self, state: ChatState) -> int:
        chosen = state.prefs.get_ready_seconds
        return self.plan.get_ready_seconds if chosen is None else chosen

    # -- buttons ------------------------------------------------------------------------------

    def _stop_button(self, texts: Texts) -> Button:
        return Button(texts.safety.buttons.stop, Action.STOP)

    def _names(self, stretch: Stretch, texts: Texts) -> tuple[str, str]:
        exercise = texts.exercises[stretch.exercise_id]
        return exercise.name, exercise.sides[stretch.side].title

    def _hold_buttons(self, routine: RoutineState, texts: Texts) -> tuple[Button, ...]:
        """The countdown's buttons: Pause and +15 s (while there is room), Skip and Stop."""
        b, index = texts.buttons, routine.stretch
        stretch = self.plan.stretches[index]
        more = self.plan.extend_seconds
        buttons = [Button(b.pause, Action.PAUSE, index, row=0)]
        if self.countdown.length(routine) + more <= stretch.max_seconds:
            buttons.append(Button(b.extend.format(seconds=more), Action.EXTEND, index, row=0))
        buttons.append(Button(b.skip_side, Action.SKIP_SIDE, index, row=1))
        buttons.append(replace(self._stop_button(texts), row=1))
        return tuple(buttons)

    def _resume_buttons(self, routine: RoutineState, texts: Texts) -> tuple[Button, ...]:
        return (
            Button(texts.buttons.resume, Action.RESUME, routine.stretch),
            self._stop_button(texts),
        )

    # -- a stretch: its card, get ready, the hold ---------------------------------------------

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
        picture = None
        if stretch.picture is not None:  # the position, drawn, with the card as its caption
            picture = Picture(stretch.picture, self.content.language(state.locale))
        out.send(
            texts.hold.card.format(
                name=name, side=side, about=exercise.about.text, instructions=instructions
            ),
            Button(texts.buttons.start_hold, Action.START_HOLD, index),
            self._stop_button(texts),
            picture=picture,
        )
        routine = state.routine or RoutineState(Phase.READY)
        ready = RoutineState(Phase.READY, stretch=index, done=routine.done, held=routine.held)
        return replace(state, routine=ready)

    def _start_hold(self, state: ChatState, now: float, texts: Texts, out: Out) -> ChatState:
        """Start hold: the get-ready count first (unless the user set it to 0)."""
        routine = _routine(state)
        seconds = self._get_ready_seconds(state)
        if seconds == 0:
            return self._begin_hold(state, now, texts, out)
        name, side = self._names(self.plan.stretches[routine.stretch], texts)
        out.send(
            texts.hold.get_ready.format(name=name, side=side, seconds=seconds),
            Button(texts.buttons.skip_side, Action.SKIP_SIDE, routine.stretch),
            self._stop_button(texts),
        )
        ready = self._timed_step(Phase.GET_READY, routine.stretch, now, seconds, routine)
        return replace(state, routine=ready)

    def _begin_hold(
        self, state: ChatState, now: float, texts: Texts, out: Out, *, at: float | None = None
    ) -> ChatState:
        """The hold starts: its countdown is one new message (the phone notifies).

        `at`: when it was due to start (the get-ready count's end). A count that ran out while
        the bot was down is handled like a hold: the hold began on time, the countdown shows
        what is left of it, and one already over says so."""
        routine = _routine(state)
        stretch = self.plan.stretches[routine.stretch]
        seconds = self._hold_length(state, stretch)
        start = now if at is None else min(at, now)
        ends_at = start + self.plan.real(seconds)
        hold = RoutineState(
            Phase.HOLD,
            stretch=stretch.index,
            started_at=start,
            ends_at=ends_at,
            countdown_at=now,  # when its message was asked for (see countdown_shown)
            done=routine.done,
            held=routine.held,
            hold_seconds=seconds,
        )
        if now >= ends_at - 1e-9:  # the whole hold went by while the bot was away
            return self._hold_tick(replace(state, routine=hold), now, texts, out)
        edits = state.prefs.countdown_edits
        shown = self.countdown.value(hold, now)
        out.send(
            self._countdown_text(hold, shown, texts, edits=edits),
            *self._hold_buttons(hold, texts),
            countdown=True,
        )
        hold = replace(hold, countdown_shown=shown)
        wake_at = self.countdown.next_wake(hold, now, edits=edits)
        return replace(state, routine=replace(hold, wake_at=wake_at))

    def _hold_tick(self, state: ChatState, now: float, texts: Texts, out: Out) -> ChatState:
        routine = _routine(state)
        assert routine.started_at is not None and routine.ends_at is not None
        stretch = self.plan.stretches[routine.stretch]
        name, side = self._names(stretch, texts)
        length = self.countdown.length(routine)
        asked = routine.countdown_at or routine.started_at
        waiting = routine.countdown_message_id is None and now < routine.ends_at - 1e-9
        if waiting and now - asked < self.plan.real(WAIT_FOR_COUNTDOWN):
            # Its countdown has not reached the user yet (Telegram's queue, or Telegram away):
            # nothing of the hold is said before it; countdown_shown starts the hold then.
            look_again = min(now + self.late_tolerance, routine.ends_at)
            return replace(state, routine=replace(routine, wake_at=look_again))
        if now >= routine.ends_at - 1e-9:
            if routine.countdown_shown != 0 and routine.countdown_message_id is not None:
                text = texts.hold.countdown.format(name=name, side=side, seconds_left=0)
                out.effects.append(Edit(routine.countdown_message_id, text))
            too_late = now - routine.ends_at > self.late_tolerance
            ended = texts.hold.ended_late if too_late else texts.hold.finished
            done, held = _with_held(routine, stretch.index, length)
            state = replace(state, routine=replace(routine, done=done, held=held))
            return self._after_hold(
                state, stretch, now, texts, out, ended.format(name=name, side=side)
            )

        elapsed = now - routine.started_at
        cues = self.plan.cues_for(length)
        said = routine.cues_said
        while said < len(cues) and self.plan.real(cues[said].offset) <= elapsed + 1e-9:
            late = elapsed - self.plan.real(cues[said].offset)
            if late <= self.late_tolerance:
                seconds_left = round(length - cues[said].offset)
                out.send(texts.hold.cues[cues[said].text_key].format(seconds_left=seconds_left))
            said += 1
        routine = replace(routine, cues_said=said)
        edits = state.prefs.countdown_edits
        shown = self.countdown.value(routine, now)
        if edits and shown != routine.countdown_shown and self.countdown.may_edit(routine, now):
            assert routine.countdown_message_id is not None
            text = texts.hold.countdown.format(name=name, side=side, seconds_left=shown)
            # The buttons (Pause, +15 s, Skip, Stop) stay on the countdown through every edit.
            buttons = self._hold_buttons(routine, texts) if shown else ()
            out.effects.append(Edit(routine.countdown_message_id, text, buttons, countdown=True))
            # The grid point, not `now`: a timer that fires a few ms late must not push the
            # next edit a whole step further.
            routine = replace(
                routine, countdown_shown=shown, countdown_at=self.countdown.grid_at(routine, now)
            )
        wake_at = self.countdown.next_wake(routine, now, edits=edits)
        return replace(state, routine=replace(routine, wake_at=wake_at))

    def _after_hold(
        self, state: ChatState, stretch: Stretch, now: float, texts: Texts, out: Out, ended: str
    ) -> ChatState:
        """The hold is over (`ended` says so): the rest before the next stretch, or the end.

        The release and the rest are one message, one notification."""
        routine = _routine(state)
        following = self._following(state, stretch.index, now)
        if following is None:
            out.send(ended)
            return self._finish(state, now, texts, out)
        rest = self._rest_seconds(state)
        if rest == 0:
            out.send(ended)
            return self._show_stretch(state, following, texts, out)
        next_name, next_side = self._names(self.plan.stretches[following], texts)
        text = texts.rest.text.format(seconds=rest, next_name=next_name, next_side=next_side)
        out.send(f"{ended}\n\n{text}", self._stop_button(texts))
        resting = self._timed_step(Phase.REST, stretch.index, now, rest, routine)
        return replace(state, routine=resting)

    def _timed_step(
        self, phase: Phase, stretch: int, now: float, seconds: int, routine: RoutineState
    ) -> RoutineState:
        """A step that ends by itself `seconds` (nominal) from now, keeping what was held."""
        ends_at = now + self.plan.real(seconds)
        return RoutineState(
            phase,
            stretch=stretch,
            started_at=now,
            ends_at=ends_at,
            wake_at=ends_at,
            done=routine.done,
            held=routine.held,
        )

    def _finish(self, state: ChatState, now: float, texts: Texts, out: Out) -> ChatState:
        """The routine is over: what was held, then the pain question (bot.core.progress_steps)
        and the reminders' offer to come back."""
        routine = _routine(state)
        out.send(self._summary(routine, texts))
        return self._after_summary(state, now, texts, out)

    def _summary(self, routine: RoutineState, texts: Texts) -> str:
        """What was held: each exercise with a side held, and for how long."""
        items = []
        held = dict(zip(routine.done, routine.held, strict=False))
        for exercise in self.content.routine.exercises:
            sides = [s for s in self.plan.stretches if s.exercise_id == exercise.id]
            done = [s for s in sides if s.index in routine.done]
            if not done:
                continue
            name = texts.exercises[exercise.id].name
            seconds = max(held.get(s.index, exercise.hold.seconds) for s in done)
            item = texts.done_item if len(done) == len(sides) else texts.done_item_part
            items.append(item.format(name=name, seconds=seconds))
        return texts.done.format(count=len(routine.done), exercises="\n".join(items))

    def _stop_countdown(
        self, state: ChatState, texts: Texts, out: Out, *, skipped: bool = False
    ) -> None:
        """A stopped (or skipped) hold's countdown says so instead of freezing at a number."""
        routine = state.routine
        if routine and routine.phase == Phase.HOLD and routine.countdown_message_id is not None:
            name, side = self._names(self.plan.stretches[routine.stretch], texts)
            template = texts.hold.skipped if skipped else texts.hold.stopped
            out.effects.append(
                Edit(routine.countdown_message_id, template.format(name=name, side=side))
            )

    def countdown_shown(self, state: ChatState, message_id: int, now: float) -> ChatState:
        """The countdown message went out: later edits go to it. The hold is the user's from
        the moment they see it, so when Telegram's queue (under load, or away) held it back,
        its times move on by that lag: the release comes 30 s after the countdown appeared."""
        routine = state.routine
        if routine is None or routine.countdown_message_id is not None:
            return state
        routine = replace(routine, countdown_message_id=message_id)
        lag = now - (routine.countdown_at or now)  # since the machine asked for the message
        if (
            routine.phase == Phase.HOLD
            and lag > REBASE_AFTER
            and routine.cues_said == 0
            and not routine.paused
        ):
            assert routine.started_at is not None and routine.ends_at is not None
            routine = replace(
                routine,
                started_at=routine.started_at + lag,
                ends_at=routine.ends_at + lag,
                countdown_at=now,
            )
            edits = state.prefs.countdown_edits
            routine = replace(routine, wake_at=self.countdown.next_wake(routine, now, edits=edits))
        return replace(state, routine=routine)

    # -- the controls: pause, resume, +15 s, skip, back ---------------------------------------

    def _pause(
        self, state: ChatState, now: float, texts: Texts, out: Out, *, pressed: bool
    ) -> ChatState:
        """Stop every timer of the step, keeping the exact time left."""
        routine = state.routine
        if routine is None or routine.phase not in PAUSABLE or routine.paused:
            if routine is not None and routine.paused:
                self._prompt(state, now, texts, out)
            else:
                out.send(texts.replies.nothing_to_pause)
            return state
        assert routine.ends_at is not None
        left = max(0.0, routine.ends_at - now)
        paused = replace(routine, paused_left=left, paused_at=now, wake_at=None)
        if routine.phase == Phase.HOLD and routine.countdown_message_id is not None:
            name, side = self._names(self.plan.stretches[routine.stretch], texts)
            seconds_left = math.ceil(left * self.plan.speed - 1e-6)
            text = texts.hold.paused.format(name=name, side=side, seconds_left=seconds_left)
            buttons = self._resume_buttons(routine, texts)
            out.effects.append(Edit(routine.countdown_message_id, text, buttons))
            if pressed:
                out.effects.append(Keep())
        else:
            out.send(texts.replies.paused, *self._resume_buttons(routine, texts))
        return replace(state, routine=paused)

    def _resume(
        self, state: ChatState, now: float, texts: Texts, out: Out, *, pressed: bool
    ) -> ChatState:
        """Carry on with the time that was left: the step's start and end move on."""
        routine = state.routine
        if routine is None or routine.paused_left is None:
            out.send(texts.replies.nothing_to_resume)
            return state
        assert routine.started_at is not None and routine.ends_at is not None
        shift = now + routine.paused_left - routine.ends_at
        moved = replace(
            routine,
            started_at=routine.started_at + shift,
            ends_at=routine.ends_at + shift,
            countdown_at=None if routine.countdown_at is None else routine.countdown_at + shift,
            paused_left=None,
            paused_at=None,
        )
        if routine.phase != Phase.HOLD:
            out.send(texts.replies.resumed)
            return replace(state, routine=replace(moved, wake_at=moved.ends_at))
        moved = self._show_countdown(moved, now, texts, out, edits=state.prefs.countdown_edits)
        if pressed:
            out.effects.append(Keep())
        wake_at = self.countdown.next_wake(moved, now, edits=state.prefs.countdown_edits)
        return replace(state, routine=replace(moved, wake_at=wake_at))

    def _countdown_text(
        self, routine: RoutineState, seconds_left: int, texts: Texts, *, edits: bool
    ) -> str:
        """The countdown message: the time left, or (without edits) the hold's length."""
        name, side = self._names(self.plan.stretches[routine.stretch], texts)
        if not edits:
            seconds = self.countdown.length(routine)
            return texts.hold.countdown_still.format(name=name, side=side, seconds=seconds)
        return texts.hold.countdown.format(name=name, side=side, seconds_left=seconds_left)

    def _show_countdown(
        self, routine: RoutineState, now: float, texts: Texts, out: Out, *, edits: bool
    ) -> RoutineState:
        """Edit the countdown to the time left now, with its buttons (after resume or +15 s)."""
        if routine.countdown_message_id is None:
            return routine
        shown = self.countdown.value(routine, now)
        text = self._countdown_text(routine, shown, texts, edits=edits)
        buttons = self._hold_buttons(routine, texts)
        out.effects.append(Edit(routine.countdown_message_id, text, buttons))
        return replace(routine, countdown_shown=shown, countdown_at=now)

    def _extend(self, state: ChatState, now: float, texts: Texts, out: Out) -> ChatState:
        """+15 s on the hold being done, never past its exercise's longest hold."""
        routine = _routine(state)
        assert routine.ends_at is not None
        stretch = self.plan.stretches[routine.stretch]
        more = self.plan.extend_seconds
        length = self.countdown.length(routine)
        if length + more > stretch.max_seconds:
            out.effects.append(Toast(texts.replies.longest_hold.format(seconds=length)))
            out.effects.append(Keep())
            return state
        longer = replace(
            routine, hold_seconds=length + more, ends_at=routine.ends_at + self.plan.real(more)
        )
        longer = self._show_countdown(longer, now, texts, out, edits=state.prefs.countdown_edits)
        out.effects.append(Toast(texts.replies.extended.format(seconds=more)))
        out.effects.append(Keep())
        wake_at = self.countdown.next_wake(longer, now, edits=state.prefs.countdown_edits)
        return replace(state, routine=replace(longer, wake_at=wake_at))

    def _skip_side(self, state: ChatState, now: float, texts: Texts, out: Out) -> ChatState:
        """Leave this side out today: on to the next stretch at once, or the summary."""
        routine = _routine(state)
        self._stop_countdown(state, texts, out, skipped=True)
        following = self._following(state, routine.stretch, now)
        if following is None:
            return self._finish(state, now, texts, out)
        return self._show_stretch(state, following, texts, out)

    def _back(self, state: ChatState, now: float, texts: Texts, out: Out) -> ChatState:
        """/back, one step back: from a card, the previous side; during its get-ready count
        or hold, this side's card again; in a rest, the side just held."""
        routine = state.routine
        if routine is None or routine.phase not in (
            Phase.READY,
            Phase.GET_READY,
            Phase.HOLD,
            Phase.REST,
        ):
            self._prompt(state, now, texts, out)
            return state
        order = self._order(state, now)
        if routine.phase != Phase.READY:
            target: int | None = routine.stretch
        else:
            target = next((i for i in reversed(order) if i < routine.stretch), None)
        if target is None:
            out.send(texts.replies.back_first)
            self._prompt(state, now, texts, out)
            return state
        self._stop_countdown(state, texts, out)
        return self._show_stretch(state, target, texts, out)

    def _close_paused(self, state: ChatState, now: float, texts: Texts, out: Out) -> ChatState:
        """A routine paused for too long is closed at the next message, kindly."""
        routine = state.routine
        hours = self.content.routine.close_paused_after_hours
        if routine is None or routine.paused_at is None or now - routine.paused_at <= hours * 3600:
            return state
        self._stop_countdown(state, texts, out)
        out.send(texts.replies.paused_closed.format(hours=f"{hours:g}"))
        return replace(state, routine=None)


def _routine(state: ChatState) -> RoutineState:
    assert state.routine is not None
    return state.routine


def _with_held(
    routine: RoutineState, index: int, seconds: int
) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """`done` and `held` with this stretch held for `seconds` (once, even if done again)."""
    held = dict(zip(routine.done, routine.held, strict=False))
    done = routine.done if index in routine.done else (*routine.done, index)
    held[index] = seconds
    return done, tuple(held.get(i, 0) for i in done)
