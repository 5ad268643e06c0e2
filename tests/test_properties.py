"""Random sequences of what a person and the clock can do, through the routine's state machine.

After every step: the state is one the machine can be in, a timer fires once (the same wake
again shows nothing), /cancel always ends the routine, and pressing on along the buttons
offered always reaches the end of the routine or a kind stop.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.core.callbacks import Action, Button
from bot.core.content import Content, load_content
from bot.core.events import (
    Back,
    BeginRoutine,
    Cancel,
    Edit,
    Edited,
    Effect,
    Event,
    Help,
    PauseTimer,
    Press,
    ResumeTimer,
    Send,
    StalePress,
    Start,
    Unexpected,
    Wake,
)
from bot.core.plan import compile_plan
from bot.core.routine import Routine
from bot.core.state import PAUSABLE, TIMED, ChatState, Phase

CONTENT: Content = load_content()
ROUTINE = Routine(CONTENT, compile_plan(CONTENT))
T0 = 1_800_000_000.0

# What a person does next: a command, text, an old or foreign button, a button on screen (by
# its position among those offered), or waiting (seconds) until the next timer.
Step = tuple[str, int]
# Weighted towards going on and waiting, so that walks reach the holds, rests and Stop.
KINDS = (
    ["go"] * 12
    + ["wait"] * 6
    + ["late"] * 3
    + ["tap", "old", "start", "routine", "cancel", "help", "text", "edit", "stale", "stop"]
    + ["pause", "resume", "back"]
)
STEPS = st.tuples(st.sampled_from(KINDS), st.integers(0, 400))


@dataclass
class Chat:
    """The chat as the person sees it: the machine's state, and every button shown so far."""

    state: ChatState = field(default_factory=ChatState)
    now: float = T0
    shown: list[tuple[Button, ...]] = field(default_factory=list)
    armed: list[float] = field(default_factory=list)  # every timer ever armed

    def apply(self, event: Event) -> list[Effect]:
        self.state, effects = ROUTINE.advance(self.state, event, self.now)
        if any(isinstance(e, Send) and e.countdown for e in effects):  # as the runner reports
            self.state = ROUTINE.countdown_shown(self.state, len(self.shown) + 1, self.now)
        if self.state.wake_at is not None:
            self.armed.append(self.state.wake_at)
        for effect in effects:
            if isinstance(effect, (Send, Edit)) and effect.buttons:
                self.shown.append(effect.buttons)
        return effects

    def offered(self) -> tuple[Button, ...]:
        return self.shown[-1] if self.shown else ()


def event_for(chat: Chat, step: Step) -> Event | None:
    kind, n = step
    simple: dict[str, Event] = {
        "start": Start("Sam"),
        "routine": BeginRoutine(),
        "cancel": Cancel(),
        "help": Help(),
        "text": Unexpected(),
        "edit": Edited(),
        "stale": StalePress(),
        "pause": PauseTimer(),
        "resume": ResumeTimer(),
        "back": Back(),
    }
    if kind in simple:
        return simple[kind]
    if kind == "stop":
        return Press(Action.STOP)
    if kind == "go" and chat.offered():
        button = onwards(chat.offered())
        return Press(button.action, button.value, message_id=len(chat.shown))
    if kind == "tap" and chat.offered():
        button = chat.offered()[n % len(chat.offered())]
        return Press(button.action, button.value, message_id=len(chat.shown))
    if kind == "old" and chat.shown:
        buttons = chat.shown[n % len(chat.shown)]
        button = buttons[n % len(buttons)]
        return Press(button.action, button.value, message_id=n % len(chat.shown))
    if kind == "wait" and chat.state.wake_at is not None:
        chat.now = max(chat.now, chat.state.wake_at) + (n % 4) * (0.001 if n % 8 else 30)
        return Wake(chat.state.wake_at)
    if kind == "wait":
        chat.now += n
    if kind == "late" and chat.armed:
        at = chat.armed[n % len(chat.armed)]
        if at != chat.state.wake_at:  # an old timer, fired now: it must do nothing
            before = chat.state
            chat.now = max(chat.now, chat.state.wake_at or chat.now, at)
            state, effects = ROUTINE.advance(before, Wake(at), chat.now)
            assert (state, effects) == (before, [])
    return None


def assert_valid(state: ChatState, *, retried: bool = False) -> None:
    """The state is one the machine can be in. `retried`: a step that failed (the database
    locked, say) may have been armed again a little later, past the end of its hold."""
    routine = state.routine
    if routine is None:
        return
    stretches = len(ROUTINE.plan.stretches)
    if routine.phase in (Phase.READY, Phase.GET_READY, Phase.HOLD, Phase.REST):
        assert 0 <= routine.stretch < stretches
    if routine.paused:  # paused: no timer, and the exact time left is kept
        assert routine.phase in PAUSABLE and routine.wake_at is None
        assert routine.paused_left is not None and routine.paused_left >= 0
    elif routine.phase in PAUSABLE:
        assert routine.started_at is not None and routine.ends_at is not None
        assert routine.wake_at is not None
        assert retried or routine.wake_at <= routine.ends_at + 1e-6
    if routine.phase == Phase.HOLD:
        assert routine.hold_seconds is not None
        stretch = ROUTINE.plan.stretches[routine.stretch]
        assert stretch.min_seconds <= routine.hold_seconds <= stretch.max_seconds
    if routine.wake_at is not None:
        assert routine.phase in TIMED - {Phase.READY}
    if routine.phase == Phase.SCREEN:
        assert 0 <= routine.question < len(ROUTINE.rules.spec.questions)
    if routine.phase == Phase.STOPPED:
        assert routine.question in (0, 1, 2) and routine.stretch < stretches
    assert set(routine.done) <= set(range(stretches))
    assert len(set(routine.done)) == len(routine.done) == len(routine.held)


def onwards(offered: tuple[Button, ...]) -> Button:
    """The button that goes on: "No" to a warning sign, "None of these", else the first."""
    no = ROUTINE.content.texts("en").safety.buttons.no
    return next((b for b in offered if b.label == no or b.action == Action.TICKS_NONE), offered[0])


def reaches_an_end(chat: Chat) -> bool:
    """Pressing on (the first button offered, or waiting) ends the routine within bounds."""
    follow = Chat(chat.state, chat.now, list(chat.shown))
    for _ in range(400):
        if follow.state.routine is None:
            return True
        offered = follow.offered()
        if follow.state.wake_at is not None:
            follow.now = max(follow.now, follow.state.wake_at)
            follow.apply(Wake(follow.state.wake_at))
        elif offered:
            button = onwards(offered)
            follow.apply(Press(button.action, button.value, message_id=len(follow.shown)))
        else:
            follow.apply(BeginRoutine())
    return False


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(STEPS, min_size=30, max_size=90))
def test_any_sequence_keeps_the_routine_valid_and_never_trapped(steps: list[Step]) -> None:
    """Whatever the person does and however late the timers fire, nothing breaks or traps."""
    chat = Chat()
    chat.apply(Start("Sam"))  # a person who has just typed /start
    for step in steps:
        event = event_for(chat, step)
        if event is None:
            continue
        chat.apply(event)
        assert_valid(chat.state)
        if isinstance(event, Wake):  # the same timer again shows nothing
            again, effects = ROUTINE.advance(chat.state, event, chat.now)
            assert effects == [] or chat.state.wake_at == event.at
            assert again == chat.state or chat.state.wake_at == event.at
    cancelled, _ = ROUTINE.advance(chat.state, Cancel(), chat.now)
    assert cancelled.routine is None and cancelled.wake_at is None
    assert reaches_an_end(chat)


@settings(max_examples=100, deadline=None)
@given(st.lists(STEPS, min_size=15, max_size=60), st.integers(0, 5))
def test_a_stop_is_never_followed_by_more_of_that_hold(steps: list[Step], extra: int) -> None:
    """After Stop, no timer of the stopped hold shows anything."""
    chat = Chat()
    chat.apply(Start("Sam"))
    for step in steps:
        event = event_for(chat, step)
        if event is not None:
            chat.apply(event)
    routine = chat.state.routine
    if routine is None or routine.phase not in TIMED:
        return
    wake = routine.wake_at
    chat.apply(Press(Action.STOP))
    assert chat.state.routine is not None and chat.state.routine.phase == Phase.STOPPED
    assert chat.state.wake_at is None
    if wake is not None:
        later = replace(chat)
        later.now = wake + extra
        assert ROUTINE.advance(later.state, Wake(wake), later.now)[1] == []
