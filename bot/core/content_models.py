"""The shapes of the content files: routine.yaml, sources.yaml, numbers.yaml and <locale>.yaml.

Pydantic models, frozen, with every check a physiotherapist's edit may need: unknown keys,
placeholders a text may use, hold ranges, a source for every medical text. Loading, merging
translations and cross-checking the files against each other is bot.core.content's job.
"""

from __future__ import annotations

import string
from collections.abc import Mapping
from datetime import date
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    model_validator,
)


def _check_text(text: str, allowed: tuple[str, ...]) -> str:
    """Not blank, fits a Telegram message, and uses only the `{placeholders}` the code fills in."""
    if not text.strip():
        raise ValueError("must not be empty")
    if len(text) > 3500:  # Telegram's limit is 4096 after placeholders are filled in
        raise ValueError(f"is {len(text)} characters; keep it under 3500 (Telegram allows 4096)")
    try:
        fields = [f for _, f, _, _ in string.Formatter().parse(text) if f is not None]
    except ValueError as exc:
        raise ValueError(f"broken placeholder ({exc}); write {{{{ or }}}} for a brace") from exc
    unknown = sorted({f for f in fields if f not in allowed})
    if unknown:
        known = ", ".join("{" + a + "}" for a in allowed) or "none"
        raise ValueError(f"unknown placeholder {{{unknown[0]}}}; this text may use: {known}")
    return text.strip()


def _text(*allowed: str) -> AfterValidator:
    """A text that may use the given placeholders."""
    return AfterValidator(lambda text: _check_text(text, allowed))


Text = Annotated[str, _text()]
Label = Annotated[str, Field(min_length=1, max_length=40), _text()]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=False)


# --------------------------------------------------------------------------- medical texts

Id = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,30}$")]


def _one_or_many(value: Any) -> Any:
    return (value,) if isinstance(value, str) else value


# The ids of the sources (sources.yaml) a medical text is drawn from: one, or a list.
SourceIds = Annotated[tuple[Id, ...], BeforeValidator(_one_or_many), Field(min_length=1)]


class Medical(_Frozen):
    """A text with medical meaning, and where it comes from: no source, no text.

    In YAML: `{text: ..., source: nhs_sciatica}` (or a list of source ids). A translation may
    leave `source` out: it is taken from English.
    """

    text: Text
    source: SourceIds


class MedicalWithHelp(Medical):
    """A medical text that names who to call: {emergency} and {urgent} come from numbers.yaml."""

    text: Annotated[str, _text("emergency", "urgent")]


class MedicalWithPattern(Medical):
    text: Annotated[str, _text("name", "count", "days")]


class MedicalGuide(Medical):
    text: Annotated[str, _text("minutes", "seconds")]


class MedicalWithCount(Medical):
    text: Annotated[str, _text("count")]


class MedicalWithDays(Medical):
    text: Annotated[str, _text("days")]


# --------------------------------------------------------------------------- sources.yaml


class Source(_Frozen):
    """A public guideline (or the article) that medical texts are drawn from."""

    title: Annotated[str, Field(min_length=1)]
    publisher: Annotated[str, Field(min_length=1)]
    url: Annotated[str, Field(pattern=r"^(https://\S+|shared/\S+)$")]
    read: date = Field(description="the date the page was read")
    # How it was read, where that matters (a copy of the page, a part of it).
    note: str | None = None


class SourcesFile(_Frozen):
    sources: Mapping[Id, Source] = Field(min_length=1)


# --------------------------------------------------------------------------- numbers.yaml

PhoneNumber = Annotated[str, Field(pattern=r"^[0-9][0-9 ]{1,15}$")]


class UrgentLine(_Frozen):
    name: Annotated[str, Field(min_length=1, max_length=40)]
    number: PhoneNumber


class CountryNumbers(_Frozen):
    """Who to call in one country: the emergency number, and a health advice line if any."""

    emergency: PhoneNumber
    urgent: UrgentLine | None = None
    source: SourceIds


class NumbersFile(_Frozen):
    """Help numbers by ISO 3166 country code, as tzdata's zone.tab names countries."""

    countries: Mapping[Annotated[str, Field(pattern=r"^[A-Z]{2}$")], CountryNumbers]


# --------------------------------------------------------------------------- routine.yaml


class CueTiming(_Frozen):
    """When a cue is said during a hold: at a fraction of the hold, or N seconds before its end."""

    text: str = Field(description="key under hold.cues in the language file")
    fraction: float | None = Field(default=None, gt=0, lt=1)
    seconds_left: int | None = Field(default=None, gt=0)

    @model_validator(mode="after")
    def _exactly_one(self) -> CueTiming:
        if (self.fraction is None) == (self.seconds_left is None):
            raise ValueError("give exactly one of `fraction` or `seconds_left`")
        return self


class HoldTiming(_Frozen):
    seconds: int = Field(gt=0, le=600)
    min_seconds: int = Field(gt=0, le=600)
    max_seconds: int = Field(gt=0, le=600)

    @model_validator(mode="after")
    def _in_range(self) -> HoldTiming:
        if not self.min_seconds <= self.seconds <= self.max_seconds:
            raise ValueError(
                f"seconds ({self.seconds}) must lie between min_seconds ({self.min_seconds}) "
                f"and max_seconds ({self.max_seconds})"
            )
        return self


class ExerciseTiming(_Frozen):
    id: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,30}$")]
    hold: HoldTiming
    sides: int = Field(default=2, ge=1, le=2)
    # A picture of the position per side, in the order of the sides: content/pictures/<id>.yaml.
    pictures: tuple[Id, ...] = ()

    @model_validator(mode="after")
    def _a_picture_per_side(self) -> ExerciseTiming:
        if self.pictures and len(self.pictures) != self.sides:
            raise ValueError(
                f"pictures: has {len(self.pictures)} picture(s) for {self.sides} side(s); "
                "give one per side"
            )
        return self


class ReminderSpec(_Frozen):
    """Reminder settings a physiotherapist may tune (routine.yaml, `reminders`)."""

    max_per_user: int = Field(ge=1, le=20)
    time_choices: tuple[Annotated[str, Field(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")], ...] = (
        Field(min_length=1, max_length=8)
    )
    snooze_minutes: tuple[Annotated[int, Field(gt=0, le=720)], ...] = Field(
        min_length=1, max_length=3
    )


class ScreeningQuestion(_Frozen):
    id: Id
    outcome: Id


class Condition(_Frozen):
    """A tick in the safety check's list, and what it changes."""

    id: Id
    leaves_out: tuple[Id, ...] = ()
    no_heat_hours: int | None = Field(default=None, gt=0, le=24 * 14)
    remind_on: tuple[Id, ...] = ()


class StopPattern(_Frozen):
    count: int = Field(ge=1, le=10)
    days: int = Field(ge=1, le=90)


class SafetySpec(_Frozen):
    """The warning-sign check and the Stop button (routine.yaml, `safety`)."""

    recheck_days: int = Field(ge=1, le=365)
    questions: tuple[ScreeningQuestion, ...] = Field(min_length=1)
    conditions: tuple[Condition, ...] = Field(min_length=1, max_length=10)
    warm_up_rounds: int = Field(ge=1, le=10)
    stop_pattern: StopPattern

    @model_validator(mode="after")
    def _unique_ids(self) -> SafetySpec:
        ids = [q.id for q in self.questions] + [c.id for c in self.conditions]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"question or condition id {dupes[0]!r} appears twice")
        return self


class SettingsSpec(_Frozen):
    """What /settings offers (routine.yaml, `settings`)."""

    get_ready_choices: tuple[Annotated[int, Field(ge=0, le=60)], ...] = Field(
        min_length=1, max_length=6
    )
    rest_choices: tuple[Annotated[int, Field(ge=0, le=600)], ...] = Field(
        min_length=1, max_length=6
    )
    # Hold choices run from each exercise's min_seconds to its max_seconds in this step.
    hold_step_seconds: int = Field(ge=5, le=60)


class ProgressSpec(_Frozen):
    """When the pain scores say "see a professional" (routine.yaml, `progress`)."""

    # Ask for a pain score before and after each routine (each user can turn it off).
    ask_pain: bool = True
    # Pain after worse than before on this many routines in a row.
    worse_in_a_row: int = Field(ge=1, le=10)
    # No lower pain (before the routine) after this many days of routines.
    no_better_days: int = Field(ge=7, le=90)
    # The advice is given at most once in this many days.
    advice_every_days: int = Field(ge=1, le=90)


class RoutineSpec(_Frozen):
    """The order and timing of the routine (content/routine.yaml)."""

    reminders: ReminderSpec
    warm_up_seconds: int = Field(gt=0, le=1800)
    rest_seconds: int = Field(ge=0, le=600)
    get_ready_seconds: int = Field(ge=0, le=60)
    extend_seconds: int = Field(ge=5, le=60)
    close_paused_after_hours: float = Field(gt=0, le=24 * 14)
    settings: SettingsSpec
    countdown_every_seconds: int = Field(ge=5, le=60)
    cues: tuple[CueTiming, ...]
    exercises: tuple[ExerciseTiming, ...] = Field(min_length=1)
    safety: SafetySpec
    progress: ProgressSpec

    @model_validator(mode="after")
    def _unique_ids(self) -> RoutineSpec:
        ids = [e.id for e in self.exercises]
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise ValueError(f"exercise id {dupes[0]!r} appears twice")
        return self


# --------------------------------------------------------------------------- <locale>.yaml


class Buttons(_Frozen):
    accept: Label
    decline: Label
    warm: Label
    guide_me: Label
    start_hold: Label
    start_routine: Label
    pause: Label
    resume: Label
    extend: Annotated[str, _text("seconds")]
    skip_side: Label


class Disclaimer(_Frozen):
    text: Text
    source: SourceIds


class WarmUp(_Frozen):
    check: Medical
    # For a person who strained or injured it within the condition's `no_heat_hours`.
    check_no_heat: Medical
    guide: MedicalGuide
    guide_done: Text
    # After the last guided round (routine.yaml safety.warm_up_rounds): offer to go on.
    guide_done_last: Text


class Side(_Frozen):
    title: Label
    instructions: Medical


class Exercise(_Frozen):
    name: Label
    # What the stretch is for and where to do it: the first lines of each side's card.
    about: Medical
    sides: tuple[Side, ...] = Field(min_length=1, max_length=2)


class Hold(_Frozen):
    card: Annotated[str, _text("name", "side", "about", "instructions")]
    get_ready: Annotated[str, _text("name", "side", "seconds")]
    countdown: Annotated[str, _text("name", "side", "seconds_left")]
    # The countdown message for a user who turned the moving number off (/settings).
    countdown_still: Annotated[str, _text("name", "side", "seconds")]
    paused: Annotated[str, _text("name", "side", "seconds_left")]
    skipped: Annotated[str, _text("name", "side")]
    stopped: Annotated[str, _text("name", "side")]
    finished: Annotated[str, _text("name", "side")]
    ended_late: Annotated[str, _text("name", "side")]
    cues: Mapping[str, Annotated[str, _text("seconds_left")]]


class Rest(_Frozen):
    text: Annotated[str, _text("seconds", "next_name", "next_side")]


class ProgressTexts(_Frozen):
    """Pain scores before and after, and what is said when they do not get better."""

    pain_before: Text
    pain_after: Text
    skip: Label
    thanks: Text
    # Pain after worse than before, routines in a row ({count}); and no better for {days}.
    worse: MedicalWithCount
    no_better: MedicalWithDays


class ReportTexts(_Frozen):
    """/progress: the chart's words and the summary under it; /export's caption."""

    title: Annotated[str, _text("days", "streak")]
    before: Label
    after: Label
    done: Label
    rest: Label
    pain_axis: Label
    summary: Annotated[str, _text("count", "days", "streak")]
    pain_lower: Annotated[str, _text("points")]
    pain_higher: Annotated[str, _text("points")]
    pain_same: Text
    no_data: Text
    rest_today: Label
    rest_saved: Label
    export_caption: Text
    # The export's column names, in order (README, "Your data", describes each).
    export_columns: tuple[Label, ...] = Field(min_length=9, max_length=9)
    outcomes: Mapping[str, Label]


class PrivacyTexts(_Frozen):
    """/privacy and /forget."""

    privacy: Annotated[str, _text("days")]
    forget_confirm: Text
    forget_yes: Label
    forget_no: Label
    forgotten: Text
    kept: Text


class SettingsButtons(_Frozen):
    hold: Annotated[str, _text("name", "seconds")]
    rest: Annotated[str, _text("seconds")]
    get_ready: Annotated[str, _text("seconds")]
    countdown_on: Label
    countdown_off: Label
    pain_on: Label
    pain_off: Label
    language: Annotated[str, _text("name")]
    timezone: Label
    reminders: Label
    done: Label


class SettingsTexts(_Frozen):
    """/settings: one message, edited in place as choices are tapped."""

    text: Annotated[str, _text("lines")]
    closed: Annotated[str, _text("lines")]
    hold_line: Annotated[str, _text("name", "seconds")]
    rest_line: Annotated[str, _text("seconds")]
    get_ready_line: Annotated[str, _text("seconds")]
    countdown_on_line: Label
    countdown_off_line: Label
    pain_on_line: Label
    pain_off_line: Label
    saved: Label
    buttons: SettingsButtons


class ReminderButtons(_Frozen):
    start: Label
    snooze: tuple[Annotated[str, _text("minutes")], ...] = Field(min_length=1, max_length=3)
    skip_today: Label
    other_time: Label
    every_day: Label
    weekdays: Label
    choose_days: Label
    done: Label
    day_selected: Annotated[str, Field(max_length=20), _text("day")]
    delete: Annotated[str, Field(max_length=60), _text("time", "days")]
    offer_daily: Annotated[str, Field(max_length=60), _text("time")]


class DayWords(_Frozen):
    every_day: Text
    weekdays: Text
    weekends: Text
    some: Annotated[str, _text("days")]
    names: tuple[Label, Label, Label, Label, Label, Label, Label]
    months: tuple[
        Label, Label, Label, Label, Label, Label, Label, Label, Label, Label, Label, Label
    ]
    next_format: Annotated[str, _text("weekday", "day", "month", "time")]


class Reminders(_Frozen):
    messages: tuple[Text, ...] = Field(min_length=1)
    ask_time: Text
    ask_custom_time: Text
    ask_days: Annotated[str, _text("time")]
    choose_days: Annotated[str, _text("time")]
    set: Annotated[str, _text("time", "days", "next")]
    assumed_timezone: Annotated[str, _text("zone", "now")]
    list_header: Annotated[str, _text("zone")]
    list_item: Annotated[str, _text("time", "days", "next")]
    none: Text
    deleted: Annotated[str, _text("time", "days")]
    all_off: Annotated[str, _text("count")]
    none_to_delete: Text
    too_many: Annotated[str, _text("max")]
    duplicate: Annotated[str, _text("time", "days")]
    bad_time: Annotated[str, _text("text")]
    ambiguous_time: Annotated[str, _text("text")]
    bad_days: Annotated[str, _text("text")]
    choose_at_least_one: Label
    snoozed: Annotated[str, _text("time")]
    skipped: Annotated[str, _text("next")]
    gone: Label
    offer_daily: Annotated[str, _text("time")]
    offer_daily_pick: Text
    not_set: Text
    # After a warning sign or a routine ended by Stop, until the user starts a routine again.
    paused: Text
    days: DayWords
    buttons: ReminderButtons


class TimeZones(_Frozen):
    ask: Text
    current: Annotated[str, _text("zone", "now", "offset")]
    set: Annotated[str, _text("zone", "now", "offset")]
    suggestions: Annotated[str, _text("query")]
    unknown: Annotated[str, _text("query")]
    ambiguous: Annotated[str, _text("query")]
    abbreviation: Annotated[str, _text("query")]


class ConditionTexts(_Frozen):
    label: Label
    notice: Medical


class ScreeningTexts(_Frozen):
    intro: Medical
    recheck: Medical
    questions: Mapping[str, Medical]
    # The tick-list: the question with every condition written out, then one button each.
    conditions_question: Medical
    conditions: Mapping[str, ConditionTexts]
    go_on_question: Text
    all_left_out: Medical


class StopTexts(_Frozen):
    offer: Medical
    come_out: Medical
    come_out_warm_up: Medical
    ask_numb: Medical
    ask_settling: Medical
    not_settling: MedicalWithHelp
    settling: Text
    pattern: MedicalWithPattern
    ended: Text
    ended_reminders: Text
    stale: Label


class NumberWords(_Frozen):
    emergency_unknown: Text
    urgent_known: Annotated[str, _text("name", "number")]
    urgent_unknown: Text


class SafetyButtons(_Frozen):
    stop: Label
    yes: Label
    no: Label
    none_of_these: Label
    done: Label
    ticked: Annotated[str, Field(max_length=48), _text("label")]
    go_on: Label
    not_today: Label
    something_new: Label
    nothing_new: Label
    settling: Label
    not_settling: Label
    next_stretch: Label
    skip_exercise: Label
    end_today: Label


class SafetyTexts(_Frozen):
    """The warning-sign check, Stop, and who to call: every text here is versioned."""

    about: Medical
    help_note: Medical
    screening: ScreeningTexts
    outcomes: Mapping[str, MedicalWithHelp]
    stop: StopTexts
    numbers: NumberWords
    buttons: SafetyButtons


class Replies(_Frozen):
    welcome: Annotated[str, _text("name", "about")]
    welcome_no_name: Annotated[str, _text("about")]
    declined: Text
    consent_needed: Text
    disclaimer_changed: Text
    already_accepted: Text
    stale_button: Label
    button_done: Label
    expect_consent: Text
    expect_warm_up: Text
    expect_start_hold: Annotated[str, _text("name", "side")]
    expect_answer: Text
    idle: Text
    routine_running: Text
    cancelled: Text
    nothing_to_cancel: Text
    group_chat: Text
    edited_message: Text
    error: Text
    # A routine stored before the content changed no longer fits it (an exercise is gone).
    routine_changed: Text
    # One notice to someone sending far too many messages a minute; then a minute of quiet.
    too_fast: Text
    # /pause, /resume and /back, and the buttons on the countdown.
    paused: Text
    resumed: Text
    expect_resume: Text
    nothing_to_pause: Text
    nothing_to_resume: Text
    back_first: Text
    paused_closed: Annotated[str, _text("hours")]
    extended: Annotated[str, _text("seconds")]
    longest_hold: Annotated[str, _text("seconds")]
    help: Annotated[str, _text("safety_note")]


class Commands(_Frozen):
    """Descriptions for Telegram's command menu (setMyCommands): 1-256 characters each."""

    start: Annotated[str, Field(min_length=1, max_length=256)]
    routine: Annotated[str, Field(min_length=1, max_length=256)]
    cancel: Annotated[str, Field(min_length=1, max_length=256)]
    help: Annotated[str, Field(min_length=1, max_length=256)]
    remind: Annotated[str, Field(min_length=1, max_length=256)]
    reminders: Annotated[str, Field(min_length=1, max_length=256)]
    timezone: Annotated[str, Field(min_length=1, max_length=256)]
    stop: Annotated[str, Field(min_length=1, max_length=256)]
    pause: Annotated[str, Field(min_length=1, max_length=256)]
    resume: Annotated[str, Field(min_length=1, max_length=256)]
    back: Annotated[str, Field(min_length=1, max_length=256)]
    settings: Annotated[str, Field(min_length=1, max_length=256)]
    progress: Annotated[str, Field(min_length=1, max_length=256)]
    export: Annotated[str, Field(min_length=1, max_length=256)]
    privacy: Annotated[str, Field(min_length=1, max_length=256)]
    forget: Annotated[str, Field(min_length=1, max_length=256)]


Phrase = Annotated[str, Field(min_length=1, max_length=40)]
Phrases = tuple[Phrase, ...]
DayPhrases = Annotated[Phrases, Field(min_length=1)]


class WordLists(_Frozen):
    """What the bot reads in what a user types (/remind, a typed time), word lists by meaning.

    Any case; accents optional when typed. A user's text is read with the words of their
    language and English's (bot.core.times.Words).
    """

    noon: Phrases = ()
    midnight: Phrases = ()
    # After an hour: "7 pm", "7 de la tarde".
    am: Phrases = ()
    pm: Phrases = ()
    # Seven lists, Monday first: every way to write that day.
    days: tuple[DayPhrases, DayPhrases, DayPhrases, DayPhrases, DayPhrases, DayPhrases, DayPhrases]
    every_day: Phrases = ()
    weekdays: Phrases = ()
    weekends: Phrases = ()
    # Between two days, for a range: "mon to fri".
    through: Phrases = ()
    # Before a time: "at 7pm".
    at: Phrases = ()
    # Between days, read as nothing: "mon and fri".
    ignore: Phrases = ()
    # /remind off.
    off: Phrases = ()


class Texts(_Frozen):
    """Every sentence of one language (content/<locale>.yaml)."""

    # The language's own name, as /settings offers it ("English", "Español").
    language_name: Label

    disclaimer: Disclaimer
    warm_up: WarmUp
    exercises: Mapping[str, Exercise]
    hold: Hold
    rest: Rest
    settings: SettingsTexts
    progress: ProgressTexts
    report: ReportTexts
    privacy: PrivacyTexts
    done: Annotated[str, _text("count", "exercises")]
    done_item: Annotated[str, _text("name", "seconds")]
    done_item_part: Annotated[str, _text("name", "seconds")]
    buttons: Buttons
    replies: Replies
    reminders: Reminders
    timezone: TimeZones
    commands: Commands
    safety: SafetyTexts
    # The labels drawn on each picture: pictures.<picture id>.<label> (see content/pictures/).
    pictures: Mapping[Id, Mapping[Id, Label]] = Field(default_factory=dict)
    # Not said but read: the words of typed times and days.
    words: WordLists
