"""Random walks through the whole application: the real bot on the emulated Bot API, SQLite,
a fake clock, faults and restarts.

Hypothesis draws what a person does (taps on the buttons on screen and on old ones, /start,
/routine, /cancel, /stop, /help, free text, edits of earlier messages), time passing (each
timer runs at its moment; a press may race a timer due at the same moment), faults (Telegram
answering 5xx or 429, timing out with or without the answer lost, refusing the connection;
another program locking the database for a step) and restarts of the bot on the same database,
after some downtime. After every step:

- the stored state is one the routine can be in, and nothing waits for ever (a timed step has
  its timer, effects still to show have a time to be tried again);
- no message is shown twice: each message (text and buttons) is delivered at most as many
  times as saved steps asked for it. The same text may rightly come again (/routine restarts
  the routine, a prompt repeats the question on screen), but an effect of the outbox sent
  twice, or a step run twice, shows one message more often than it was asked for;
- "Sorry, something went wrong" is only ever the answer when the database was locked.

At the end, with the faults gone: either /cancel ends the routine with its reply and no timer
shows anything after it, or tapping on (waiting for each timer, pressing the button that goes
on) reaches the summary whenever the routine's pure machine, started from the stored state,
says it can be reached (a safety answer may end the day kindly instead).

STRETCHBOT_HYPOTHESIS_EXAMPLES sets the number of walks (default 60). The counts of walks,
steps, faults injected and faults that took effect are printed at the end (pytest -s).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import tempfile
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from unittest import mock

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from telegram.error import NetworkError, RetryAfter

from bot.core.callbacks import Button
from bot.core.content import Content
from bot.core.events import (
    BeginRoutine,
    Cancel,
    Effect,
    Finished,
    Press,
    Send,
    Unexpected,
    Wake,
)
from bot.core.plan import compile_plan
from bot.core.reminder_types import Reminder, ReminderChat
from bot.core.routine import Routine
from bot.core.state import ChatState, Phase
from bot.devtools.emulator import Event
from bot.telegram import outbox
from tests.support.harness import CHAT, Harness
from tests.test_properties import assert_valid, onwards

EXAMPLES = int(os.environ.get("STRETCHBOT_HYPOTHESIS_EXAMPLES", "60"))
# Seconds a person takes before each thing they do: never a flood (the guard allows 30 a minute).
THINK = 2.5

# What happens next, weighted towards going on and letting time pass, so walks reach the holds.
KINDS = (
    ["go"] * 10
    + ["next"] * 5
    + ["wait"] * 3
    + ["tap"] * 3
    + ["old"] * 2
    + ["fault"] * 5
    + ["locked"] * 2
    + ["race"] * 4
    + ["start", "routine", "cancel", "stop", "help", "text", "edit", "restart"]
)
STEP = st.tuples(st.sampled_from(KINDS), st.integers(0, 10_000))
FAULTS = ("5xx", "429", "timeout", "answer lost", "refused")
METHODS = ("sendMessage", "editMessageText", "answerCallbackQuery", "editMessageReplyMarkup", "*")
TIMED = (Phase.GET_READY, Phase.HOLD, Phase.REST, Phase.WARM_UP_GUIDE)

# Counts over every walk of a run (printed by the test at the end).
STATS: Counter[str] = Counter()
# A message as the person sees it: its text and its buttons' data.
Key = tuple[str, tuple[str, ...]]


@dataclass
class Walk:
    """One person's chat with the bot, and what the checks need to remember of it."""

    h: Harness
    routine: Routine  # the pure machine, for the end's oracle
    seen: list[tuple[int, str]] = field(default_factory=list)  # every button shown: message, data
    last_user_message: int | None = None
    lock_next: bool = False
    locked: bool = False  # the database is locked during this step
    # Messages (text, button data) that saved steps asked to send, and those delivered.
    asked: Counter[Key] = field(default_factory=Counter)
    delivered: Counter[Key] = field(default_factory=Counter)
    step_sends: list[Key] = field(default_factory=list)  # of the step being saved
    problems: list[str] = field(default_factory=list)
    log: list[str] = field(default_factory=list)

    def heard(self, event: Event) -> None:
        """The emulator's listener: every message the bot sends to the chat."""
        if event.kind != "sent" or event.chat_id != CHAT or event.message is None:
            return
        message = event.message
        key = (message.text, tuple(b.callback_data or "" for row in message.buttons for b in row))
        self.log.append(f"  bot: {message.text[:60]!r} {key[1]}")
        replies = self.h.content.texts("en").replies
        if message.text == replies.error:  # the error handler's, not a step's
            if not self.locked:
                self.problems.append("an error reply while the database was not locked")
            return
        self.delivered[key] += 1
        if self.delivered[key] > self.asked[key]:
            self.problems.append(
                f"shown {self.delivered[key]} times, asked for {self.asked[key]}: {key}"
            )

    def watch(self) -> None:
        """Count what each saved step of the bot's conversations asks to send, and each
        reminder that delivery claimed and composed (a tapped daily offer sets one)."""
        assert self.h.bot is not None
        for conversation in (self.h.bot.conversation, self.h.bot.reminders):
            self._watch(conversation)
        setup = self.h.bot.reminders.setup
        compose = setup.message

        def composed(chat: ReminderChat, reminder: Reminder, now: float) -> Send:
            send = compose(chat, reminder, now)
            self.asked[(send.text, tuple(b.data for b in send.buttons))] += 1
            return send

        setup.message = composed  # type: ignore[method-assign]

    def _watch(self, conversation: Any) -> None:
        advance, save = conversation.advance, conversation.save

        def advanced(state: Any, event: Any, now: float) -> tuple[Any, list[Effect]]:
            after, effects = advance(state, event, now)
            self.step_sends = [
                (e.text, tuple(b.data for b in e.buttons)) for e in effects if isinstance(e, Send)
            ]
            return after, effects

        async def saved(*args: Any) -> bool:
            moved: bool = await save(*args)
            self.asked.update(self.step_sends)  # stored: its messages may go out
            self.step_sends = []
            return moved

        conversation.advance, conversation.save = advanced, saved

    # -- the person -----------------------------------------------------------------------------

    async def user(self, update: dict[str, Any], what: str) -> None:
        """The person does something (after thinking a little; timers run meanwhile)."""
        await self.h.advance(THINK)
        self.log.append(f"user: {what}")
        STATS[f"event {what.split()[0]}"] += 1
        with self._maybe_locked():
            await self.h.process(update)

    async def send(self, text: str) -> None:
        update = self.h.server.user_sends(CHAT, text)
        self.last_user_message = update["message"]["message_id"]
        await self.user(update, text)

    async def press(self, message_id: int, data: str, what: str) -> None:
        try:
            update = self.h.server.user_presses(CHAT, message_id, data, check_buttons=False)
        except ValueError:  # the message is gone
            return
        await self.user(update, f"{what} {data} on {message_id}")

    def current(self) -> tuple[int, list[tuple[str, str]]] | None:
        """The newest message with buttons: its id, and its buttons (label, data)."""
        for message in reversed(self.h.messages()):
            buttons = [(b.text, b.callback_data or "") for row in message.buttons for b in row]
            if buttons:
                return message.message_id, buttons
        return None

    async def go_on(self) -> bool:
        """Press the button that goes on: "No" to a warning sign, "None of these", else the
        first; False when no button is on screen."""
        current = self.current()
        if current is None:
            return False
        message_id, buttons = current
        safety = self.h.content.texts("en").safety.buttons
        goes_on = (safety.no, safety.none_of_these)
        data = next((data for label, data in buttons if label in goes_on), buttons[0][1])
        await self.press(message_id, data, "go")
        return True

    async def race(self, n: int) -> None:
        """A button pressed just as a timer is due: the update and the timer run side by side,
        as the timer loop runs beside the updates (a Stop racing the end of a hold, say)."""
        assert self.h.bot is not None
        wait = await self.h.bot.timers.next_in()
        current = self.current()
        if current is None:
            return
        if wait is None or wait > 60:  # no timer soon: an ordinary tap
            message_id, buttons = current
            await self.press(message_id, buttons[n % len(buttons)][1], "tap")
            return
        self.h.jump(max(wait, 0.0))  # the moment it is due; the loop has not run it yet
        message_id, buttons = current
        data = buttons[n % len(buttons)][1]
        try:
            update = self.h.server.user_presses(CHAT, message_id, data, check_buttons=False)
        except ValueError:
            return
        self.log.append(f"user: race {data} on {message_id} with a timer")
        STATS["event race"] += 1
        with self._maybe_locked():
            await asyncio.gather(self.h.process(update), self.h.bot.timers.run_due())

    # -- time, faults, restarts -----------------------------------------------------------------

    async def advance(self, seconds: float) -> None:
        with self._maybe_locked():
            await self.h.advance(seconds)

    async def to_next_timer(self, extra: float) -> None:
        assert self.h.bot is not None
        wait = await self.h.bot.timers.next_in()
        if wait is not None:
            await self.advance(max(wait, 0.0) + extra)

    def inject(self, n: int) -> None:
        kind, method, times = FAULTS[n % 5], METHODS[(n // 5) % 5], 1 + (n // 25) % 3
        server = self.h.server
        if kind == "5xx":
            server.inject_error(method, status=(500, 502, 503)[n % 3], times=times)
        elif kind == "429":
            server.inject_error(method, status=429, retry_after=1, times=times)
        elif kind == "timeout":
            server.inject_timeout(method, times=times)
        elif kind == "answer lost":
            server.inject_timeout(method, times=times, answer_lost=True)
        else:
            server.inject_refused(method, times=times)
        STATS[f"injected {kind}"] += times
        self.log.append(f"fault: {kind} x{times} on {method}")

    async def restart(self, down: float) -> None:
        """The process stops, is down for `down` seconds, and starts again. A start that cannot
        reach Telegram ends with one line (bot.cli); the supervisor starts it again."""
        await self.h.stop()
        self.h.jump(down)
        STATS["restarts"] += 1
        self.log.append(f"restart after {down} s")
        for _ in range(20):
            try:
                await self.h.start()
                self.watch()
                return
            except (NetworkError, RetryAfter):
                STATS["starts that could not reach Telegram"] += 1
                self.h.jump(5.0)
        raise AssertionError("the bot never starts again")

    @contextlib.contextmanager
    def _maybe_locked(self) -> Iterator[None]:
        if not self.lock_next:
            yield
            return
        self.lock_next = False
        self.locked = True
        STATS["steps with the database locked"] += 1
        self.log.append("(database locked)")
        try:
            with self.h.database_locked():
                yield
        finally:
            self.locked = False

    # -- one step ---------------------------------------------------------------------------

    async def step(self, kind: str, n: int) -> None:
        STATS["steps"] += 1
        commands = {"start": "/start", "routine": "/routine", "cancel": "/cancel", "stop": "/stop"}
        if kind in commands:
            await self.send(commands[kind])
        elif kind == "help":
            await self.send("/help")
        elif kind == "text":
            await self.send(("it hurts", "hello?", "ok", "30")[n % 4])
        elif kind == "edit":
            if self.last_user_message is None:
                await self.send("hello")
            else:
                update = self.h.server.user_edits(CHAT, self.last_user_message, f"edited {n}")
                await self.user(update, "edit")
        elif kind == "go":  # in a timed step, going on is waiting (its only button is Stop)
            assert self.h.bot is not None
            state = await self.h.bot.store.chats.load(CHAT)
            if state.routine is None:
                await self.send("/routine")
            elif state.wake_at is not None:
                await self.to_next_timer(0.0)
            else:
                await self.go_on()
        elif kind == "tap" and (current := self.current()) is not None:
            message_id, buttons = current
            await self.press(message_id, buttons[n % len(buttons)][1], "tap")
        elif kind == "old" and self.seen:
            message_id, data = self.seen[n % len(self.seen)]
            await self.press(message_id, data, "old")
        elif kind == "race":
            await self.race(n)
        elif kind == "next":
            await self.to_next_timer((0.0, 0.0, 0.5, 3.0)[n % 4])
        elif kind == "wait":
            await self.advance(n % 90 if not self.lock_next else n % 5)
        elif kind == "fault":
            self.inject(n)
        elif kind == "locked":
            self.lock_next = True
        elif kind == "restart":
            self.lock_next = False  # a start with the database locked is another story
            await self.restart((0.0, 1.0, 20.0, 300.0)[n % 4])
        await self.check()

    async def check(self) -> None:
        """After every step: a valid stored state, nothing waiting for ever, nothing twice."""
        assert self.h.bot is not None
        for message in self.h.messages():
            for row in message.buttons:
                for b in row:
                    if b.callback_data and (message.message_id, b.callback_data) not in self.seen:
                        self.seen.append((message.message_id, b.callback_data))
        chats = self.h.bot.store.chats
        state = await chats.load(CHAT)
        try:
            assert_valid(state, retried=True)
        except AssertionError as exc:
            raise AssertionError(f"{exc}\n{state.routine}\n{self.report()}") from exc
        routine = state.routine
        STATS[f"steps ending in {routine.phase if routine else 'no routine'}"] += 1
        if routine is not None and routine.phase in TIMED and not routine.paused:
            assert routine.wake_at is not None, f"{routine.phase} with no timer: stuck"
        queued, retry_at = await chats.pending(CHAT)
        assert not queued or retry_at is not None, "effects to show with no time to try them"
        assert self.h.server.protocol_errors == [] and self.h.server.spec_violations == []
        assert not self.problems, self.report()

    def report(self) -> str:
        return "\n".join([*self.problems, "the end of the walk:", *self.log[-40:]])

    # -- the end ----------------------------------------------------------------------------

    async def on_to(self, phase: Phase) -> None:
        """Go on (press on, wait for timers) until the routine is in `phase`."""
        assert self.h.bot is not None
        for _ in range(30):
            state = await self.h.bot.store.chats.load(CHAT)
            if state.routine is not None and state.routine.phase == phase:
                return
            if state.wake_at is not None:
                await self.to_next_timer(0.0)
            else:
                assert await self.go_on(), "no button to go on with"
        raise AssertionError(f"never reached {phase}\n{self.report()}")

    async def tap_through(self) -> bool:
        """Wait for each timer and press on; /routine when it ends without the summary (up to
        three times). True when the summary is shown."""
        assert self.h.bot is not None
        summary = self.h.content.texts("en").done.split("{", 1)[0]
        shown = len(self.h.messages())
        begun = 0
        for _ in range(400):
            if any(m.text.startswith(summary) for m in self.h.messages()[shown:]):
                return True
            state = await self.h.bot.store.chats.load(CHAT)
            if state.routine is None:
                if begun == 3:
                    return False
                begun += 1
                await self.send("/routine")
            elif state.wake_at is not None:
                await self.to_next_timer(0.0)
            else:
                await self.send("?")  # the prompt shows the buttons of the step
                if (await self.h.bot.store.chats.load(CHAT)).routine is None:
                    continue  # closed instead (paused for too long)
                assert await self.go_on(), "a step with no button to go on"
        raise AssertionError("tapping on never ends\n" + self.report())


def machine_reaches_summary(routine: Routine, state: ChatState, now: float) -> bool:
    """The same tapping on, through the pure machine: whether it reaches the summary."""
    begun = 0
    pressed = 0
    for _ in range(2000):
        effects: list[Effect]
        if state.routine is None:
            if begun == 3:
                return False
            begun += 1
            state, effects = routine.advance(state, BeginRoutine(), now)
        elif state.wake_at is not None:
            now = max(now, state.wake_at)
            state, effects = routine.advance(state, Wake(state.wake_at), now)
        else:
            state, effects = routine.advance(state, Unexpected(), now)
            if state.routine is None:  # closed instead (paused for too long)
                continue
            offered: tuple[Button, ...] = next(
                e.buttons for e in reversed(effects) if isinstance(e, Send) and e.buttons
            )
            button = onwards(offered)
            pressed += 1
            state, effects = routine.advance(
                state, Press(button.action, button.value, message_id=-pressed), now
            )
        if any(isinstance(e, Finished) for e in effects):
            return True
    raise AssertionError("the machine never ends")


async def run_walk(
    content: Content, speed: float, start: str, steps: list[tuple[str, int]], end: str
) -> None:
    STATS["walks"] += 1
    with tempfile.TemporaryDirectory() as tmp:
        h = Harness(Path(tmp), content, speed=speed, busy_timeout=0.002)
        walk = Walk(h, Routine(content, compile_plan(content, speed)))
        h.server.add_listener(walk.heard)
        await h.start()
        walk.watch()
        try:
            await walk.send("/start")
            if start != "/start":  # on through consent, the safety check, the warm-up (a hold)
                await walk.on_to(Phase.READY if start == "first card" else Phase.HOLD)
            for kind, n in steps:
                await walk.step(kind, n)
            STATS["countdown edits in the walks"] += sum(
                name == "editMessageText" for name, _ in h.server.calls
            )
            for method, kind in h.server.faults_hit:
                STATS[f"took effect: {kind}"] += 1
                STATS[f"took effect on {method}"] += 1
            h.server.clear_faults()
            walk.lock_next = False
            await h.advance(60)  # what could not be shown goes out on its retry
            await walk.check()
            assert h.bot is not None
            queued, _ = await h.bot.store.chats.pending(CHAT)
            assert queued == (), "effects still not shown with Telegram back"
            if end == "cancel":
                await end_with_cancel(walk)
            else:
                state = await h.bot.store.chats.load(CHAT)
                reachable = machine_reaches_summary(walk.routine, state, h.clock.now())
                reached = await walk.tap_through()
                assert reached or not reachable, "the summary cannot be reached\n" + walk.report()
                STATS["ended with the summary" if reached else "ended kindly (safety)"] += 1
            await walk.check()
        finally:
            await h.stop()


async def end_with_cancel(walk: Walk) -> None:
    h = walk.h
    assert h.bot is not None
    # The reply the routine's pure machine gives to /cancel from the stored state: "Routine
    # stopped", or "nothing to stop" (also for a routine paused so long that it is closed).
    state = await h.bot.store.chats.load(CHAT)
    _, effects = walk.routine.advance(state, Cancel(), h.clock.now() + THINK)
    expected = [e.text for e in effects if isinstance(e, Send)][-1]
    await walk.send("/cancel")
    assert h.last().text == expected
    replies = h.content.texts("en").replies
    assert expected in (replies.cancelled, replies.nothing_to_cancel)
    state = await h.bot.store.chats.load(CHAT)
    assert state.routine is None and state.wake_at is None
    sent = len(h.messages())
    edits = sum(len(m.edits) for m in h.messages())
    await h.advance(600)
    assert len(h.messages()) == sent and sum(len(m.edits) for m in h.messages()) == edits
    STATS["ended with /cancel"] += 1


def test_any_walk_with_faults_and_restarts_shows_each_step_once_and_never_traps(
    content: Content, shipped_content: Content
) -> None:
    """Whatever the person, the clock, Telegram and the database do, nothing is shown twice,
    the stored state stays valid, and the chat can always finish or cancel the routine."""

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(
        steps=st.lists(STEP, min_size=15, max_size=60),
        speed=st.sampled_from([1.0, 10.0]),
        start=st.sampled_from(["/start", "first card", "holding"]),
        end=st.sampled_from(["tap", "cancel"]),
        coach=st.booleans(),
    )
    def walks(
        steps: list[tuple[str, int]], speed: float, start: str, end: str, coach: bool
    ) -> None:
        # The tests' content (no get-ready count, no pain question) or the shipped one.
        chosen = shipped_content if coach else content
        with mock.patch.object(outbox, "RETRY_PAUSES", (0.0, 0.0)):
            asyncio.run(run_walk(chosen, speed, start, steps, end))

    STATS.clear()
    walks()
    print("\n" + "\n".join(f"{key}: {value}" for key, value in sorted(STATS.items())))
