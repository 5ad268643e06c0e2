"""/settings: one message, edited in place, where each tap moves a choice on to its next value.

Hold time per exercise (its min_seconds to max_seconds in steps of `hold_step_seconds`), the rest
between sides, the get-ready count, and the countdown's moving number on or off; shortcuts to
the time zone and reminders. Choices are kept in `ChatState.prefs` and apply from the next
hold. A mixin of `Routine`, pure like it.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from bot.core.callbacks import Action, Button
from bot.core.content import Content
from bot.core.content_models import Texts
from bot.core.events import Edit, Keep, Out, Toast
from bot.core.plan import Plan, Stretch
from bot.core.state import ChatState

READY, REST, EDITS, PAIN, LANGUAGE = "ready", "rest", "edits", "pain", "language"
HOLD = "hold_"  # + an exercise id


class SettingsSteps:
    content: Content
    plan: Plan

    if TYPE_CHECKING:  # defined by HoldSteps; declared here for the type checker only

        def _hold_length(self, state: ChatState, stretch: Stretch) -> int:
            raise NotImplementedError

        def _rest_seconds(self, state: ChatState) -> int:
            raise NotImplementedError

        def _get_ready_seconds(self, state: ChatState) -> int:
            raise NotImplementedError

        def _asks_pain(self, state: ChatState) -> bool:
            raise NotImplementedError

    def _show_settings(
        self, state: ChatState, texts: Texts, out: Out, message_id: int | None = None
    ) -> ChatState:
        """The settings message: sent, or redrawn in place (`message_id`) after a tap."""
        s = texts.settings
        text = s.text.format(lines=self._setting_lines(state, texts))
        b = s.buttons
        buttons = [
            Button(
                b.hold.format(name=texts.exercises[e].name, seconds=seconds),
                Action.SETTING,
                HOLD + e,
            )
            for e, seconds in self._holds(state)
        ]
        buttons += [
            Button(b.rest.format(seconds=self._rest_seconds(state)), Action.SETTING, REST),
            Button(
                b.get_ready.format(seconds=self._get_ready_seconds(state)), Action.SETTING, READY
            ),
            Button(
                b.countdown_on if state.prefs.countdown_edits else b.countdown_off,
                Action.SETTING,
                EDITS,
            ),
            Button(b.pain_on if self._asks_pain(state) else b.pain_off, Action.SETTING, PAIN),
        ]
        if len(self.content.locales) > 1:  # only when there is a choice
            buttons.append(
                Button(b.language.format(name=texts.language_name), Action.SETTING, LANGUAGE)
            )
        buttons += [
            Button(b.timezone, Action.SETTINGS_TIMEZONE, row=90),
            Button(b.reminders, Action.SETTINGS_REMINDERS, row=90),
            Button(b.done, Action.SETTINGS_DONE, row=91),
        ]
        if message_id is None:
            out.send(text, *buttons)
        else:
            out.effects.append(Edit(message_id, text, tuple(buttons)))
            out.effects.append(Keep())
        return state

    def _change_setting(
        self, state: ChatState, key: str, texts: Texts, out: Out, message_id: int | None
    ) -> ChatState:
        """A choice tapped: it moves on to its next value, and the message is redrawn."""
        prefs = state.prefs
        spec = self.content.routine.settings
        if key.startswith(HOLD) and (stretch := self._first_side(key.removeprefix(HOLD))):
            choices = _hold_choices(stretch, spec.hold_step_seconds)
            current = self._hold_length(state, stretch)
            prefs = prefs.with_hold(stretch.exercise_id, _after(choices, current))
        elif key == REST:
            prefs = replace(
                prefs, rest_seconds=_after(spec.rest_choices, self._rest_seconds(state))
            )
        elif key == READY:
            chosen = _after(spec.get_ready_choices, self._get_ready_seconds(state))
            prefs = replace(prefs, get_ready_seconds=chosen)
        elif key == EDITS:
            prefs = replace(prefs, countdown_edits=not prefs.countdown_edits)
        elif key == PAIN:
            prefs = replace(prefs, ask_pain=not self._asks_pain(state))
        elif key == LANGUAGE:
            # The next language of the content; from now on over Telegram's language_code.
            locales = self.content.locales
            now_in = self.content.language(state.locale)
            language = locales[(locales.index(now_in) + 1) % len(locales)]
            prefs = replace(prefs, language=language)
            state = replace(state, locale=language)
            texts = self.content.texts(language)
        else:  # a setting this version no longer has
            out.effects.append(Toast(texts.replies.stale_button))
            return self._show_settings(state, texts, out, message_id)
        state = replace(state, prefs=prefs)
        out.effects.append(Toast(texts.settings.saved))
        return self._show_settings(state, texts, out, message_id)

    def _close_settings(
        self, state: ChatState, texts: Texts, out: Out, message_id: int | None
    ) -> ChatState:
        """Done: the message keeps the settings as text, without buttons."""
        text = texts.settings.closed.format(lines=self._setting_lines(state, texts))
        if message_id is None:
            out.send(text)
        else:
            out.effects.append(Edit(message_id, text))
        return state

    def _setting_lines(self, state: ChatState, texts: Texts) -> str:
        s = texts.settings
        lines = [
            s.hold_line.format(name=texts.exercises[e].name, seconds=seconds)
            for e, seconds in self._holds(state)
        ]
        lines.append(s.rest_line.format(seconds=self._rest_seconds(state)))
        lines.append(s.get_ready_line.format(seconds=self._get_ready_seconds(state)))
        on = state.prefs.countdown_edits
        lines.append(s.countdown_on_line if on else s.countdown_off_line)
        lines.append(s.pain_on_line if self._asks_pain(state) else s.pain_off_line)
        return "\n".join(lines)

    def _holds(self, state: ChatState) -> list[tuple[str, int]]:
        """Each exercise and the hold this user has for it."""
        return [
            (e.id, self._hold_length(state, stretch))
            for e in self.content.routine.exercises
            if (stretch := self._first_side(e.id)) is not None
        ]

    def _first_side(self, exercise_id: str) -> Stretch | None:
        return next((s for s in self.plan.stretches if s.exercise_id == exercise_id), None)


def _hold_choices(stretch: Stretch, step: int) -> tuple[int, ...]:
    """From the exercise's shortest hold to its longest, in steps (the longest always in)."""
    choices = list(range(stretch.min_seconds, stretch.max_seconds + 1, step))
    if choices[-1] != stretch.max_seconds:
        choices.append(stretch.max_seconds)
    return tuple(choices)


def _after(choices: tuple[int, ...], current: int) -> int:
    """The choice after `current`, round to the first (a value not offered goes to the first
    one above it)."""
    return next((c for c in choices if c > current), choices[0])
