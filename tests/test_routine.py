"""The routine's logic without Telegram: events in, state and effects out."""

from __future__ import annotations

import itertools
import shutil
from dataclasses import replace
from pathlib import Path

import pytest

from bot.core.callbacks import Action
from bot.core.content import BUNDLED_CONTENT_DIR, Content, load_content
from bot.core.events import (
    BeginRoutine,
    Cancel,
    Edit,
    Effect,
    Press,
    Send,
    StalePress,
    Start,
    Toast,
    Unexpected,
    Wake,
)
from bot.core.plan import compile_plan
from bot.core.routine import Routine
from bot.core.safety import Safety
from bot.core.state import ChatState, Phase, RoutineState
from bot.storage.codec import dump_routine, dump_safety, load_routine, load_safety

T0 = 1_800_000_000.0


@pytest.fixture
def routine(content: Content) -> Routine:
    return Routine(content, compile_plan(content))


def sends(effects: list[Effect]) -> list[Send]:
    return [e for e in effects if isinstance(e, Send)]


def accepted(routine: Routine) -> ChatState:
    """Consent on record, and a safety check answered "no" to everything a moment ago."""
    return ChatState(
        consent_version=routine.content.disclaimer_version(),
        consent_at=T0,
        safety=Safety(T0 - 60, routine.rules.version(None)),
    )


def running(state: ChatState) -> RoutineState:
    """The routine's progress, which the test knows is there."""
    assert state.routine is not None
    return state.routine


def at_warm_up(routine: Routine) -> ChatState:
    """/routine with consent and a recent check: "anything new?" No, then the warm-up check."""
    state, _ = routine.advance(accepted(routine), BeginRoutine(), T0)
    state, _ = routine.advance(state, Press(Action.RECHECK, False), T0)
    if state.routine is not None and state.routine.phase == Phase.PAIN_BEFORE:
        state, _ = routine.advance(state, Press(Action.PAIN_SKIP), T0)  # the optional score
    assert state.routine is not None and state.routine.phase == Phase.WARM_UP_CHECK
    return state


def test_start_shows_welcome_and_disclaimer_with_accept_and_decline(routine: Routine) -> None:
    """/start greets by name and shows the disclaimer with two buttons."""
    state, effects = routine.advance(ChatState(), Start("Sam"), T0)
    welcome, disclaimer = sends(effects)
    assert welcome.text.startswith("Hi Sam!")
    assert "consult your primary health care professional" in disclaimer.text
    assert [b.action for b in disclaimer.buttons] == [Action.ACCEPT, Action.DECLINE]
    assert state.routine is not None and state.routine.phase == Phase.CONSENT


def test_accept_stores_version_and_time_then_starts_the_safety_check(
    routine: Routine, content: Content
) -> None:
    """Accepting keeps the disclaimer version and the time, then asks the first warning sign."""
    state, _ = routine.advance(ChatState(), Start(), T0)
    state, effects = routine.advance(
        state, Press(Action.ACCEPT, routine.content.disclaimer_version()), T0 + 5
    )
    assert (state.consent_version, state.consent_at) == (
        routine.content.disclaimer_version(),
        T0 + 5,
    )
    intro, question = sends(effects)
    screening = content.texts("en").safety.screening
    assert intro.text == screening.intro.text
    assert question.text == screening.questions["saddle"].text
    assert [b.data for b in question.buttons] == ["sc1:scr:saddle.y", "sc1:scr:saddle.n"]


def test_decline_keeps_only_the_refusal(routine: Routine) -> None:
    """Declining says goodbye, keeps the routine closed and stores no consent."""
    state, _ = routine.advance(ChatState(), Start(), T0)
    state, effects = routine.advance(state, Press(Action.DECLINE), T0 + 1)
    assert "/start" in sends(effects)[0].text
    assert state == ChatState(declined_at=T0 + 1)
    state, effects = routine.advance(state, BeginRoutine(), T0 + 2)
    assert sends(effects)[-1].buttons[0].action == Action.ACCEPT


def test_a_changed_disclaimer_is_asked_again(routine: Routine) -> None:
    """Consent given to an older disclaimer text does not open the routine."""
    state = ChatState(consent_version="0ldversion00", consent_at=T0)
    state, effects = routine.advance(state, BeginRoutine(), T0)
    assert "changed" in sends(effects)[0].text
    assert state.routine is not None and state.routine.phase == Phase.CONSENT


def test_accept_button_from_an_old_disclaimer_shows_the_new_one(routine: Routine) -> None:
    """Pressing accept on a disclaimer that has since changed records nothing."""
    state, _ = routine.advance(ChatState(), Start(), T0)
    state, effects = routine.advance(state, Press(Action.ACCEPT, "0ldversion00"), T0)
    assert state.consent_version is None
    assert sends(effects)[-1].buttons[0].value == routine.content.disclaimer_version()


def test_routine_with_consent_and_a_recent_check_asks_only_what_is_new(
    routine: Routine,
) -> None:
    """/routine after consent skips the disclaimer, and a recent check needs one tap."""
    state, effects = routine.advance(accepted(routine), BeginRoutine(), T0)
    assert state.routine is not None and state.routine.phase == Phase.RECHECK
    (recheck,) = sends(effects)
    assert [b.value for b in recheck.buttons] == [True, False]
    state, effects = routine.advance(state, Press(Action.RECHECK, False), T0)
    assert state.routine is not None and state.routine.phase == Phase.WARM_UP_CHECK
    assert len(sends(effects)) == 1


def test_guided_warm_up_asks_again_when_its_timer_ends(routine: Routine) -> None:
    """The guide shows the steps with a timer from content, then asks again."""
    state = at_warm_up(routine)
    state, effects = routine.advance(state, Press(Action.GUIDE_ME), T0)
    assert "(3 min)" in sends(effects)[0].text
    assert state.wake_at == T0 + 180
    state, effects = routine.advance(state, Wake(T0 + 180), T0 + 180)
    assert [b.action for b in sends(effects)[0].buttons] == [Action.WARM, Action.GUIDE_ME]
    assert state.routine is not None and state.routine.phase == Phase.WARM_UP_CHECK


def run_hold(routine: Routine, state: ChatState, now: float) -> tuple[ChatState, list[Effect]]:
    """Press Start hold and fire every timer until the hold is over."""
    assert state.routine is not None
    state, effects = routine.advance(state, Press(Action.START_HOLD, state.routine.stretch), now)
    state = replace(state, routine=replace(running(state), countdown_message_id=99))
    while state.routine is not None and state.routine.phase == Phase.HOLD:
        assert state.wake_at is not None
        state, more = routine.advance(state, Wake(state.wake_at), state.wake_at)
        effects += more
    return state, effects


def test_a_hold_counts_down_every_5_s_with_cues_then_rests(routine: Routine) -> None:
    """A 30 s hold: countdown edits every 5 s, the halfway and 10 s cues, release, rest."""
    state = at_warm_up(routine)
    state, _ = routine.advance(state, Press(Action.WARM), T0)
    state, effects = run_hold(routine, state, T0)
    texts = [e.text for e in sends(effects)]
    # One message starts the hold: the countdown, which says what to hold.
    assert texts[0] == (
        "⏱ 30 s left · Right knee bent\nHold the stretch: Exercise 1: seated twist."
    )
    hold = routine.content.texts("en").hold
    assert texts[1:3] == [
        hold.cues["halfway"],
        hold.cues["ten_seconds_left"].format(seconds_left=10),
    ]
    # The release and the rest are one message.
    (release,) = texts[3:]
    assert release.startswith(hold.finished + "\n\nRest for 15 seconds.")
    assert "Get ready for the next one: Exercise 1: seated twist, Left knee bent." in release
    edits = [e.text.split(" s left")[0] for e in effects if isinstance(e, Edit)]
    assert edits == ["⏱ 25", "⏱ 20", "⏱ 15", "⏱ 10", "⏱ 5", "⏱ 0"]
    assert state.routine is not None and state.routine.phase == Phase.REST


def test_the_whole_routine_mirrors_the_second_sides(routine: Routine) -> None:
    """Four stretches in the article's order, each side with its own instructions, then done."""
    state = at_warm_up(routine)
    state, effects = routine.advance(state, Press(Action.WARM), T0)
    cards = [sends(effects)[0].text]
    now = T0
    while state.routine is not None:
        state, effects = run_hold(routine, state, now)
        if state.routine is not None:
            assert state.wake_at is not None
            now = state.wake_at
            state, more = routine.advance(state, Wake(now), now)
            cards.append(sends(more)[0].text)
    assert "that's the routine: 4 stretches" in sends(effects)[-1].text
    assert [c.split("\n")[1] for c in cards] == [
        "Right knee bent",
        "Left knee bent",
        "Lying on your right side",
        "Lying on your left side",
    ]
    assert "Sit with your left leg completely straight and your right knee bent" in cards[0]
    assert "Sit with your right leg completely straight and your left knee bent" in cards[1]
    assert "Rotate your torso around your spine to the left" in cards[1]
    assert "hang your left leg over the edge" in cards[2]
    assert "hang your right leg over the edge" in cards[3]
    assert not any("repeat" in c.lower() for c in cards)


def test_a_hold_that_ended_while_the_bot_was_away_is_reported_and_the_routine_goes_on(
    routine: Routine,
) -> None:
    """A timer handled long after the hold's end skips stale cues and says the hold is over."""
    state = at_warm_up(routine)
    state, _ = routine.advance(state, Press(Action.WARM), T0)
    state, _ = routine.advance(state, Press(Action.START_HOLD, 0), T0)
    assert state.wake_at is not None
    state, effects = routine.advance(state, Wake(state.wake_at), T0 + 600)
    texts = [e.text for e in sends(effects)]
    assert texts[0].startswith(
        "Sorry, I'm late: your hold (Exercise 1: seated twist, Right knee bent) is over."
    )
    assert "Rest for 15 seconds" in texts[0]
    assert not any("Halfway" in t for t in texts)
    assert state.routine is not None and state.routine.phase == Phase.REST


def test_a_timer_armed_for_an_earlier_state_does_nothing(routine: Routine) -> None:
    """After /cancel, a hold's timer that still fires shows nothing."""
    state = at_warm_up(routine)
    state, _ = routine.advance(state, Press(Action.WARM), T0)
    state, _ = routine.advance(state, Press(Action.START_HOLD, 0), T0)
    wake = state.wake_at
    assert wake is not None
    state, effects = routine.advance(state, Cancel(), T0 + 1)
    assert "Routine stopped" in sends(effects)[0].text and state.wake_at is None
    assert routine.advance(state, Wake(wake), wake) == (state, [])


def test_an_old_button_gets_a_notice_and_the_current_prompt(routine: Routine) -> None:
    """A warm-up button pressed mid-hold changes nothing and says what is expected now."""
    state = at_warm_up(routine)
    state, _ = routine.advance(state, Press(Action.WARM), T0)
    state, _ = routine.advance(state, Press(Action.START_HOLD, 0), T0)
    after, effects = routine.advance(state, Press(Action.WARM), T0 + 7)
    assert after == state
    assert effects[0] == Toast("That button is from an earlier step.")
    offer = sends(effects)[0]
    assert offer.text == routine.content.texts("en").safety.stop.offer.text
    assert [b.action for b in offer.buttons] == [Action.STOP]
    _, effects = routine.advance(state, StalePress(), T0 + 7)
    assert effects[0] == Toast("That button is from an earlier step.")


def test_free_text_while_instructions_are_shown_offers_the_start_button(routine: Routine) -> None:
    """Text where a button is expected gets the button again."""
    state = at_warm_up(routine)
    state, _ = routine.advance(state, Press(Action.WARM), T0)
    _, effects = routine.advance(state, Unexpected(), T0)
    (reply,) = sends(effects)
    assert "press Start hold" in reply.text
    assert reply.buttons[0].action == Action.START_HOLD and reply.buttons[0].value == 0


def test_speed_shortens_real_time_but_not_what_the_user_reads(content: Content) -> None:
    """At speed 10 a 30 s hold lasts 3 real seconds and still counts down from 30."""
    fast = Routine(content, compile_plan(content, speed=10))
    state = at_warm_up(fast)
    state, _ = fast.advance(state, Press(Action.WARM), T0)
    state, effects = fast.advance(state, Press(Action.START_HOLD, 0), T0)
    assert state.routine is not None and state.routine.ends_at == T0 + 3
    assert state.wake_at == T0 + 0.5
    assert sends(effects)[0].text.startswith("⏱ 30 s left")


def test_routine_progress_survives_a_round_trip_through_storage_json(routine: Routine) -> None:
    """The stored form of a running hold reads back as the same state."""
    state = at_warm_up(routine)
    state, _ = routine.advance(state, Press(Action.WARM), T0)
    state, _ = routine.advance(state, Press(Action.START_HOLD, 0), T0)
    assert load_routine(dump_routine(state.routine)) == state.routine


@pytest.mark.parametrize("hold", [30, 33, 45, 60])
def test_countdown_edits_are_never_closer_than_5_s(tmp_path: Path, hold: int) -> None:
    """Whatever the hold and the cues, the countdown message is edited at most every 5 s."""
    folder = tmp_path / "content"
    shutil.copytree(BUNDLED_CONTENT_DIR, folder)
    routine_file = folder / "routine.yaml"
    text = routine_file.read_text().replace("seconds: 30\n", f"seconds: {hold}\n")
    routine_file.write_text(text.replace("get_ready_seconds: 10", "get_ready_seconds: 0"))
    content = load_content(folder)
    routine = Routine(content, compile_plan(content))
    state = at_warm_up(routine)
    state, _ = routine.advance(state, Press(Action.WARM), T0)
    state, _ = routine.advance(state, Press(Action.START_HOLD, 0), T0)
    state = replace(state, routine=replace(running(state), countdown_message_id=9))
    edits: list[tuple[float, str]] = [(T0, f"⏱ {hold}")]
    while state.routine is not None and state.routine.phase == Phase.HOLD:
        assert state.wake_at is not None
        now = state.wake_at
        state, effects = routine.advance(state, Wake(now), now)
        edits += [(now, e.text.split(" s left")[0]) for e in effects if isinstance(e, Edit)]
    gaps = [later[0] - earlier[0] for earlier, later in itertools.pairwise(edits)]
    assert min(gaps) >= 5
    assert edits[-1] == (T0 + hold, "⏱ 0")
    assert [int(text[2:]) % 5 for _, text in edits[1:]] == [0] * (len(edits) - 1)


def test_timers_firing_a_little_late_skip_no_countdown_step(routine: Routine) -> None:
    """Each timer 3 ms late, as a busy event loop makes it: the countdown still shows every step."""
    state = at_warm_up(routine)
    state, _ = routine.advance(state, Press(Action.WARM), T0)
    state, _ = routine.advance(state, Press(Action.START_HOLD, 0), T0)
    state = replace(state, routine=replace(running(state), countdown_message_id=9))
    shown = []
    while state.routine is not None and state.routine.phase == Phase.HOLD:
        assert state.wake_at is not None
        state, effects = routine.advance(state, Wake(state.wake_at), state.wake_at + 0.003)
        shown += [e.text.split(" s left")[0] for e in effects if isinstance(e, Edit)]
    assert shown == ["⏱ 25", "⏱ 20", "⏱ 15", "⏱ 10", "⏱ 5", "⏱ 0"]


def test_a_changed_safety_text_asks_the_whole_check_again(routine: Routine) -> None:
    """Answers given to older safety texts do not count: the full check comes again."""
    state = accepted(routine)
    state = replace(state, safety=replace(state.safety, version="0ldversion00"))
    state, effects = routine.advance(state, BeginRoutine(), T0)
    assert state.routine is not None and state.routine.phase == Phase.SCREEN
    assert sends(effects)[0].text == routine.content.texts("en").safety.screening.intro.text


def test_stored_routine_and_safety_from_an_older_release_still_load() -> None:
    """A chat saved before the safety fields existed reads back with their defaults."""
    old = '{"phase":"hold","stretch":1,"started_at":1.0,"ends_at":31.0,"wake_at":5.0}'
    loaded = load_routine(old)
    assert loaded is not None and loaded.phase == Phase.HOLD and loaded.ticks == ()
    assert load_safety(None) == Safety()
    assert load_safety(dump_safety(Safety(1.0, "v", None, ("floor",)))) == Safety(
        1.0, "v", None, ("floor",)
    )
