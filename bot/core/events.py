"""Events a conversation reacts to and the effects it asks for: plain data, no behaviour.

Events come from the user (commands, buttons, text) or a timer (`Wake`); effects say what to
show (`Send`, `Edit`, `Toast`, `Keep`) or keep (`Record`), and what happened (`Finished`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.core.callbacks import Action, Button, Value


@dataclass(frozen=True)
class Start:
    """/start"""

    first_name: str = ""


@dataclass(frozen=True)
class BeginRoutine:
    """/routine, or the "Start the routine" button."""


@dataclass(frozen=True)
class Press:
    """An inline button of ours was pressed."""

    action: Action
    value: Value = None  # the button's typed argument (bot.core.callbacks)
    message_id: int | None = None  # the message whose button it was


@dataclass(frozen=True)
class StalePress:
    """A button whose data this version does not know (an old message, another bot version)."""


@dataclass(frozen=True)
class Cancel:
    """/cancel"""


@dataclass(frozen=True)
class Help:
    """/help"""


@dataclass(frozen=True)
class PauseTimer:
    """/pause"""


@dataclass(frozen=True)
class ResumeTimer:
    """/resume"""


@dataclass(frozen=True)
class ShowSettings:
    """/settings"""


@dataclass(frozen=True)
class Back:
    """/back: do the previous side again."""


@dataclass(frozen=True)
class Unexpected:
    """Text, a sticker, an unknown command: anything the routine did not ask for."""


@dataclass(frozen=True)
class Edited:
    """The user edited an earlier message."""


@dataclass(frozen=True)
class Wake:
    """A timer of this chat is due; `at` is the due time it was armed for."""

    at: float


Event = (
    Start
    | BeginRoutine
    | Press
    | StalePress
    | Cancel
    | Help
    | PauseTimer
    | ResumeTimer
    | Back
    | ShowSettings
    | Unexpected
    | Edited
    | Wake
)


@dataclass(frozen=True)
class Picture:
    """A picture to send with a message: its id (content/pictures/) in one language."""

    picture_id: str
    language: str

    @property
    def key(self) -> str:
        return f"{self.picture_id}/{self.language}"


@dataclass(frozen=True)
class Send:
    text: str
    buttons: tuple[Button, ...] = ()
    countdown: bool = False  # remember the message id: later edits count down in it
    picture: Picture | None = None  # the text is then the picture's caption (where it fits)


@dataclass(frozen=True)
class Edit:
    message_id: int
    text: str
    buttons: tuple[Button, ...] = ()
    countdown: bool = False  # a countdown tick: cosmetic, may be shed under load


@dataclass(frozen=True)
class Toast:
    """The short notice shown when a button press is answered."""

    text: str


@dataclass(frozen=True)
class Finished:
    """The routine was done to the end (the reminders may offer to bring the user back)."""


@dataclass(frozen=True)
class Keep:
    """The pressed message's buttons were redrawn by an Edit: leave them on."""


@dataclass(frozen=True)
class Record:
    """A safety event to keep for good: a check's answers, a Stop and what followed it."""

    kind: str  # "screening" | "recheck" | "stop" | "stop_answer"
    answer: str = ""
    exercise: str | None = None
    side: int | None = None


@dataclass(frozen=True)
class History:
    """A routine's history, kept for /progress and /export: it began, its pain scores, and
    how it ended (`outcome`: finished | cancelled | stopped | ended) with what was held."""

    kind: str  # "started" | "pain_before" | "pain_after" | "ended"
    begun_at: float
    pain: int | None = None
    outcome: str | None = None
    holds: tuple[tuple[int, int], ...] = ()  # (stretch index, seconds held)


@dataclass(frozen=True)
class Unhandled:
    """Typed text that was not an answer to this conversation: another should hear it."""


Effect = Send | Edit | Toast | Finished | Keep | Record | History | Unhandled


@dataclass
class Out:
    effects: list[Effect] = field(default_factory=list)

    def send(
        self,
        text: str,
        *buttons: Button,
        countdown: bool = False,
        picture: Picture | None = None,
    ) -> None:
        self.effects.append(Send(text, buttons, countdown, picture))
