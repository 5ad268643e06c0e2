"""The routine's first steps: /start's welcome, the disclaimer, and accepting or declining it.

Mixed into `Routine` (bot.core.routine). Consent is stored with the time and the version of the
disclaimer the user read; a changed disclaimer is asked again. Pure: time is a parameter.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from bot.core.callbacks import Action, Button
from bot.core.content import Content
from bot.core.content_models import Texts
from bot.core.events import Out, Start, Toast
from bot.core.state import ChatState, Phase, RoutineState


class ConsentSteps:
    content: Content

    # -- steps of the routine these lead to (Routine and SafetySteps define them) -------------

    if TYPE_CHECKING:  # defined by Routine; declared here for the type checker only

        def _safety_check(self, state: ChatState, now: float, texts: Texts, out: Out) -> ChatState:
            raise NotImplementedError

        def _prompt(self, state: ChatState, now: float, texts: Texts, out: Out) -> None:
            raise NotImplementedError

    # -- consent ---------------------------------------------------------------------------

    def _start(
        self, state: ChatState, event: Start, now: float, texts: Texts, out: Out
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

    def _begin(self, state: ChatState, now: float, texts: Texts, out: Out) -> ChatState:
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

    def _ask_consent(self, state: ChatState, texts: Texts, out: Out) -> ChatState:
        out.send(texts.disclaimer.text, *self._consent_buttons(state, texts))
        return replace(state, routine=RoutineState(Phase.CONSENT))

    def _accept(
        self, state: ChatState, version: str, now: float, texts: Texts, out: Out
    ) -> ChatState:
        """Accept: stored with the time and the disclaimer version the user read."""
        if not _in(state, Phase.CONSENT):
            if self._has_consent(state) and version == self._disclaimer(state):
                out.effects.append(Toast(texts.replies.button_done))
                if state.routine is None:
                    out.send(texts.replies.already_accepted)
                else:
                    self._prompt(state, now, texts, out)
                return state
            out.effects.append(Toast(texts.replies.stale_button))
            self._prompt(state, now, texts, out)
            return state
        if version != self._disclaimer(state):
            out.send(texts.replies.disclaimer_changed)
            return self._ask_consent(state, texts, out)
        state = replace(
            state, consent_version=self._disclaimer(state), consent_at=now, declined_at=None
        )
        return self._safety_check(state, now, texts, out)

    def _decline(self, state: ChatState, now: float, texts: Texts, out: Out) -> ChatState:
        """Decline: a kind goodbye; only the refusal is kept."""
        if not _in(state, Phase.CONSENT):
            out.effects.append(Toast(texts.replies.stale_button))
            self._prompt(state, now, texts, out)
            return state
        out.send(texts.replies.declined)
        return replace(state, routine=None, declined_at=now)

    def _disclaimer(self, state: ChatState) -> str:
        """The version of the disclaimer in the user's language (Content.disclaimer_version)."""
        return self.content.disclaimer_version(state.locale)

    def _has_consent(self, state: ChatState) -> bool:
        return state.consent_version == self._disclaimer(state)

    def _consent_buttons(self, state: ChatState, texts: Texts) -> tuple[Button, ...]:
        return (
            Button(texts.buttons.accept, Action.ACCEPT, self._disclaimer(state)),
            Button(texts.buttons.decline, Action.DECLINE),
        )


def _in(state: ChatState, phase: Phase) -> bool:
    return state.routine is not None and state.routine.phase == phase
