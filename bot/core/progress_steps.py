"""Progress as steps of the routine: a pain score before the warm-up and after the summary
(optional, one tap), the routine's history for /progress and /export, and the advice to see a
GP or physiotherapist when the scores say the stretches are not helping.

A mixin of `Routine`, pure like it. The history goes out as `History` effects, saved with the
state in one transaction (bot.runtime.runner); the last routines' scores stay in the chat's
state (`Progress.recent`), which is what the advice is judged on.
"""

from __future__ import annotations

from dataclasses import replace
from statistics import mean
from typing import TYPE_CHECKING

from bot.core.callbacks import Action, Button
from bot.core.content import Content
from bot.core.content_models import Texts
from bot.core.events import Finished, History, Out
from bot.core.state import ChatState, PainMark, Phase, Progress, RoutineState

DAY = 86400.0
# The routines whose scores are kept in the chat's state (the full history is in storage).
RECENT_DAYS = 60
RECENT_MAX = 60
SCORES = range(11)  # 0-10


class ProgressSteps:
    content: Content

    if TYPE_CHECKING:  # defined by Routine; declared here for the type checker only

        def _warm_up_check(self, state: ChatState, now: float, texts: Texts, out: Out) -> ChatState:
            raise NotImplementedError

    # -- the routine begins and ends ----------------------------------------------------------

    def _begin_stretching(self, state: ChatState, now: float, texts: Texts, out: Out) -> ChatState:
        """The safety check is passed: the routine begins (with the pain question, if asked)."""
        state = replace(state, progress=replace(state.progress, begun_at=now, pain_before=None))
        out.effects.append(History("started", now))
        if not self._asks_pain(state):
            return self._warm_up_check(state, now, texts, out)
        self._ask_pain(texts.progress.pain_before, texts, out)
        return replace(state, routine=RoutineState(Phase.PAIN_BEFORE))

    def _after_summary(self, state: ChatState, now: float, texts: Texts, out: Out) -> ChatState:
        """The summary is shown: the pain question after it, or the end at once."""
        routine = state.routine
        if self._asks_pain(state) and routine is not None:
            self._ask_pain(texts.progress.pain_after, texts, out)
            after = RoutineState(Phase.PAIN_AFTER, done=routine.done, held=routine.held)
            return replace(state, routine=after)
        return self._close_session(state, None, now, texts, out)

    def _pain(
        self, state: ChatState, score: int | None, now: float, texts: Texts, out: Out
    ) -> ChatState:
        """A pain score tapped (None: Skip)."""
        routine, progress = state.routine, state.progress
        begun = progress.begun_at if progress.begun_at is not None else now
        if routine is not None and routine.phase == Phase.PAIN_BEFORE:
            if score is not None:
                out.effects.append(History("pain_before", begun, pain=score))
            state = replace(state, progress=replace(progress, pain_before=score))
            return self._warm_up_check(state, now, texts, out)
        if score is not None:
            out.effects.append(History("pain_after", begun, pain=score))
            out.send(texts.progress.thanks)
        return self._close_session(state, score, now, texts, out)

    def _close_session(
        self, state: ChatState, after: int | None, now: float, texts: Texts, out: Out
    ) -> ChatState:
        """A finished routine is recorded with its scores; the advice, when they call for it;
        then the reminders may offer to bring the user back (`Finished`)."""
        routine = state.routine
        state = self._end_session(state, routine, "finished", now, out, after=after)
        advice = self._advice(state.progress, now, texts)
        if advice is not None:
            out.send(advice)
            state = replace(state, progress=replace(state.progress, advised_at=now))
        out.effects.append(Finished())
        return replace(state, routine=None)

    def _end_session(
        self,
        state: ChatState,
        last: RoutineState | None,
        outcome: str,
        now: float,
        out: Out,
        *,
        after: int | None = None,
    ) -> ChatState:
        """The routine under way ends (`outcome`): its history, and its scores kept."""
        progress = state.progress
        if progress.begun_at is None:
            return state
        holds = tuple(zip(last.done, last.held, strict=False)) if last else ()
        out.effects.append(History("ended", progress.begun_at, outcome=outcome, holds=holds))
        mark = PainMark(progress.begun_at, progress.pain_before, after)
        recent = tuple(m for m in progress.recent if now - m.at <= RECENT_DAYS * DAY)
        if mark.before is not None or mark.after is not None:
            recent = (*recent, mark)[-RECENT_MAX:]
        kept = replace(progress, begun_at=None, pain_before=None, recent=recent)
        return replace(state, progress=kept)

    # -- the question and the advice -----------------------------------------------------------

    def _asks_pain(self, state: ChatState) -> bool:
        chosen = state.prefs.ask_pain
        return self.content.routine.progress.ask_pain if chosen is None else chosen

    def _ask_pain(self, question: str, texts: Texts, out: Out) -> None:
        """0-10 on two rows, and Skip."""
        scores = [Button(str(n), Action.PAIN, n, row=0 if n <= 5 else 1) for n in SCORES]
        out.send(question, *scores, Button(texts.progress.skip, Action.PAIN_SKIP, row=2))

    def _advice(self, progress: Progress, now: float, texts: Texts) -> str | None:
        """See a GP or physiotherapist: pain after worse than before on routines in a row, or
        the pain before the routine no lower after weeks of routines (NHS, sciatica)."""
        spec = self.content.routine.progress
        if progress.advised_at is not None and now - progress.advised_at < (
            spec.advice_every_days * DAY
        ):
            return None
        scored = [m for m in progress.recent if m.before is not None and m.after is not None]
        last = scored[-spec.worse_in_a_row :]
        if len(last) == spec.worse_in_a_row and all(
            m.after is not None and m.before is not None and m.after > m.before for m in last
        ):
            return texts.progress.worse.text.format(count=spec.worse_in_a_row)
        days = spec.no_better_days
        window = [
            m for m in progress.recent if m.before is not None and now - m.at <= (days + 7) * DAY
        ]
        if window and now - window[0].at >= days * DAY:
            first = [
                m.before for m in window if m.before is not None and m.at - window[0].at < 7 * DAY
            ]
            latest = [m.before for m in window if m.before is not None and now - m.at < 7 * DAY]
            if first and latest and mean(latest) >= mean(first):
                return texts.progress.no_better.text.format(days=days)
        return None
