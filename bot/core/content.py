"""Content: the YAML in `content/` loaded into typed, frozen objects.

Every sentence a user reads and every duration of the routine lives in YAML so a
physiotherapist can change a hold time, a cue or a translation without touching code.
A broken file is refused at start-up with the file, the path inside it and what is wrong.

This module knows nothing of Telegram, storage or clocks.
"""

from __future__ import annotations

import hashlib
import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import time
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import (
    BaseModel,
    ValidationError,
)

from bot.core.content_models import (
    CountryNumbers,
    Disclaimer,
    Medical,
    NumbersFile,
    RoutineSpec,
    Source,
    SourcesFile,
    Texts,
    WordLists,
)
from bot.core.picture_models import (
    Drawing,
    Mirror,
    PictureSource,
    parse_picture,
    reference_problems,
)
from bot.core.times import EVERY_DAY, WEEKDAYS, WEEKENDS, Words

DEFAULT_LOCALE = "en"
# In a checkout (and an editable install) content/ sits beside bot/; an installed wheel carries
# the same files as the bot.bundled_content package.
_PACKAGE = Path(__file__).resolve().parent.parent  # bot/
_CHECKOUT_CONTENT = _PACKAGE.parent / "content"
BUNDLED_CONTENT_DIR = (
    _CHECKOUT_CONTENT
    if (_CHECKOUT_CONTENT / "routine.yaml").is_file()
    else _PACKAGE / "bundled_content"
)
ROUTINE_FILE = "routine.yaml"
SOURCES_FILE = "sources.yaml"
NUMBERS_FILE = "numbers.yaml"
# Files that are not a language.
DATA_FILES = (ROUTINE_FILE, SOURCES_FILE, NUMBERS_FILE)
# A picture's source: pictures/<picture id>.yaml (bot.core.picture_models).
PICTURES_DIR = "pictures"


_M = TypeVar("_M", bound=BaseModel)


class ContentError(Exception):
    """A content folder that cannot be used; the message names file, path and problem."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


# --------------------------------------------------------------------------- translations


@dataclass(frozen=True)
class Coverage:
    """How much of English one language file says itself; the rest is English at run time.

    Keys are the texts of en.yaml by path ("hold.card", "reminders.days.names"), not counting
    `source`: a list of words is one key, an exercise's sides are a key each.
    """

    file: Path
    keys: int
    # In English, not in this file: English is used.
    missing: tuple[str, ...] = ()
    # A placeholder in one language and not the other, a medical text with other sources, a
    # key English does not have: the file loads, but a translator should look.
    warnings: tuple[str, ...] = ()

    @property
    def translated(self) -> int:
        return self.keys - len(self.missing)


def _text_keys(node: Any, path: str = "") -> dict[str, Any]:
    """Every text of a language file by path; a list of texts (or of word lists) is one."""
    if isinstance(node, dict):
        found: dict[str, Any] = {}
        for key, value in node.items():
            if key != "source":
                found |= _text_keys(value, f"{path}.{key}" if path else str(key))
        return found
    if isinstance(node, list) and node and all(isinstance(item, dict) for item in node):
        found = {}
        for i, item in enumerate(node):
            found |= _text_keys(item, f"{path}[{i}]")
        return found
    return {path: node}


def _sources_by_path(node: Any, path: str = "") -> dict[str, tuple[str, ...]]:
    """The `source` of every medical text by the text's path."""
    found: dict[str, tuple[str, ...]] = {}
    if isinstance(node, dict):
        if "source" in node:
            value = node["source"]
            found[path] = (value,) if isinstance(value, str) else tuple(map(str, value or ()))
        for key, value in node.items():
            found |= _sources_by_path(value, f"{path}.{key}" if path else str(key))
    elif isinstance(node, list):
        for i, item in enumerate(node):
            found |= _sources_by_path(item, f"{path}[{i}]")
    return found


def _placeholders(value: Any) -> list[set[str]]:
    """The `{placeholders}` of a text, or of each text of a list."""
    items = value if isinstance(value, list) else [value]
    parse = string.Formatter().parse
    return [
        {f for _, f, _, _ in parse(item) if f} if isinstance(item, str) else set() for item in items
    ]


def _coverage(english: Any, translation: Any, file: Path) -> Coverage:
    """What a language file leaves to English, and where it differs from English in kind."""
    theirs = _text_keys(english)
    if translation is english:
        return Coverage(file, len(theirs))
    ours = _text_keys(translation if isinstance(translation, dict) else {})
    warnings = []
    for path, text in ours.items():
        if path not in theirs:
            warnings.append(f"{file}: {path}: not in {DEFAULT_LOCALE}.yaml, so never shown")
            continue
        english_fields, our_fields = _placeholders(theirs[path]), _placeholders(text)
        if len(english_fields) != len(our_fields):  # lists of another length: compare the lot
            english_fields, our_fields = [set().union(*english_fields)], [set().union(*our_fields)]
        for i, (en, here) in enumerate(zip(english_fields, our_fields, strict=True)):
            where = f"{path}[{i}]" if isinstance(text, list) and len(our_fields) > 1 else path
            for name in sorted(en - here):
                warnings.append(f"{file}: {where}: {{{name}}} is in English but not here")
            for name in sorted(here - en):
                warnings.append(f"{file}: {where}: {{{name}}} is here but not in English")
    english_sources = _sources_by_path(english)
    for path, ids in _sources_by_path(translation).items():
        if path in english_sources and set(ids) != set(english_sources[path]):
            warnings.append(
                f"{file}: {path}.source: {', '.join(ids)}, but English says "
                f"{', '.join(english_sources[path])}: a translation keeps the English sources"
            )
    missing = tuple(path for path in theirs if path not in ours)
    return Coverage(file, len(theirs), missing, tuple(warnings))


# --------------------------------------------------------------------------- the whole


@dataclass(frozen=True)
class Content:
    """A validated content folder: the routine and its texts per language."""

    routine: RoutineSpec
    texts_by_locale: Mapping[str, Texts]
    source_dir: Path
    sources: Mapping[str, Source]
    numbers: Mapping[str, CountryNumbers]
    # The pictures the routine names, by picture id.
    pictures: Mapping[str, PictureSource] = field(default_factory=dict)
    # The words read in a user's text, by language: that language's and English's.
    words_by_locale: Mapping[str, Words] = field(default_factory=dict)
    # How much of English each language file says itself.
    coverage: Mapping[str, Coverage] = field(default_factory=dict)

    def texts(self, locale: str | None) -> Texts:
        """The texts for a Telegram language code ("de", "pt-br"), falling back to English."""
        return self.texts_by_locale[self.language(locale)]

    def language(self, locale: str | None) -> str:
        """The language of the content a Telegram language code gets ("es-MX" -> "es")."""
        if locale:
            for candidate in (locale.lower(), locale.lower().split("-")[0]):
                if candidate in self.texts_by_locale:
                    return candidate
        return DEFAULT_LOCALE

    def words(self, locale: str | None) -> Words:
        """The words read in what a user types: their language's, and English's."""
        return self.words_by_locale[self.language(locale)]

    @property
    def locales(self) -> tuple[str, ...]:
        return tuple(sorted(self.texts_by_locale))

    def disclaimer_version(self, locale: str | None = None) -> str:
        """A fingerprint of the disclaimer in a user's language: a change asks for consent
        again, from the users of that language (a new translation asks nobody else)."""
        language = self.language(locale)
        text = " ".join(self.texts_by_locale[language].disclaimer.text.split())
        return hashlib.sha256(f"{language}\0{text}\0".encode()).hexdigest()[:12]

    def safety_version(self, locale: str | None = None) -> str:
        """A fingerprint of the safety rules and texts in a user's language: a change asks the
        safety check again (of the users of that language, when only a text changed)."""
        language = self.language(locale)
        texts = self.texts_by_locale[language]
        digest = hashlib.sha256(self.routine.safety.model_dump_json().encode())
        digest.update(f"{language}\0".encode())
        digest.update(texts.safety.model_dump_json().encode())
        digest.update(texts.warm_up.check_no_heat.model_dump_json().encode())
        return digest.hexdigest()[:12]


def medical_texts(node: object, path: str = "") -> list[tuple[str, Medical | Disclaimer]]:
    """Every text with medical meaning in a language's texts, with its path, in file order."""
    if isinstance(node, (Medical, Disclaimer)):
        return [(path, node)]
    found: list[tuple[str, Medical | Disclaimer]] = []
    if isinstance(node, BaseModel):
        for name in type(node).model_fields:
            found += medical_texts(getattr(node, name), f"{path}.{name}" if path else name)
    elif isinstance(node, Mapping):
        for key, value in node.items():
            found += medical_texts(value, f"{path}.{key}")
    elif isinstance(node, tuple):
        for i, value in enumerate(node):
            found += medical_texts(value, f"{path}[{i}]")
    return found


def _location(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def _describe(file: Path, exc: ValidationError) -> list[str]:
    problems = []
    for err in exc.errors():
        loc = tuple(p for p in err["loc"] if not (isinstance(p, str) and p.startswith("function-")))
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = "unknown key (a typo? remove it or check the spelling)"
        elif err["type"] == "missing":
            msg = "missing: this key is required"
        elif err["type"] == "string_type" and err["input"] is None:
            msg = "must not be empty"
        problems.append(f"{file}: {_location(loc)}: {msg}")
    return problems


class _StrictLoader(yaml.SafeLoader):
    """PyYAML's safe loader, refusing a key given twice (it would silently keep the last)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None,
                    None,
                    f"the key {key!r} appears twice (lines {seen[key]} and "
                    f"{key_node.start_mark.line + 1}); keep one",
                    key_node.start_mark,
                )
            seen[key] = key_node.start_mark.line + 1
        return super().construct_mapping(node, deep=deep)


def _read_yaml(file: Path) -> Any:
    try:
        return yaml.load(
            file.read_text(encoding="utf-8"), Loader=_StrictLoader
        )  # a SafeLoader subclass
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}" if mark else "unknown position"
        problem = f"{file}: {where}: not valid YAML: {exc.problem}"
        if exc.context and exc.context_mark and exc.context_mark.line != getattr(mark, "line", -1):
            # The parser fails where it gives up; the cause is often where this began.
            problem += f" ({exc.context} at line {exc.context_mark.line + 1})"
        raise ContentError([problem]) from None
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ContentError([f"{file}: cannot be read: {exc}"]) from None


def _merge(base: Any, override: Any) -> Any:
    """A partial translation: keys it leaves out come from English.

    Lists of texts (message variants, labels) are taken whole from the translation; lists of
    sections (an exercise's sides) are merged item by item, so one side may be translated.
    """
    if isinstance(base, dict) and isinstance(override, dict):
        return {
            k: _merge(base.get(k), override[k]) if k in base else override[k] for k in override
        } | {k: v for k, v in base.items() if k not in override}
    if (
        isinstance(base, list)
        and isinstance(override, list)
        and all(isinstance(item, dict) for item in (*base, *override))
    ):
        merged = [_merge(b, o) for b, o in zip(base, override, strict=False)]
        return merged + base[len(override) :] + override[len(base) :]
    return override


def reading_words(words: WordLists) -> Words:
    """One language's word lists as the reader's data; ValueError names a word listed twice."""
    return Words.build(
        [
            ("words.noon", time(12, 0), words.noon),
            ("words.midnight", time(0, 0), words.midnight),
            ("words.am", "am", words.am),
            ("words.pm", "pm", words.pm),
            *((f"words.days[{i}]", i, names) for i, names in enumerate(words.days)),
            ("words.every_day", EVERY_DAY, words.every_day),
            ("words.weekdays", WEEKDAYS, words.weekdays),
            ("words.weekends", WEEKENDS, words.weekends),
            ("words.through", "through", words.through),
            ("words.at", "at", words.at),
            ("words.ignore", "ignore", words.ignore),
            ("words.off", "off", words.off),
        ]
    )


def _load_words(texts: Mapping[str, Texts], root: Path, problems: list[str]) -> dict[str, Words]:
    """Each language's words with English's; a word with two meanings is a problem."""
    own: dict[str, Words] = {}
    for locale, t in texts.items():
        try:
            own[locale] = reading_words(t.words)
        except ValueError as exc:
            problems.append(f"{root / f'{locale}.yaml'}: {exc}")
    english = own.get(DEFAULT_LOCALE)
    if english is None:
        return {}
    for locale, words in own.items():
        if locale != DEFAULT_LOCALE:
            problems.extend(
                f"{root / f'{locale}.yaml'}: {clash} ({DEFAULT_LOCALE}.yaml)"
                for clash in words.clashes(english)
            )
    return {locale: words | english for locale, words in own.items()}


def _cross_check(routine: RoutineSpec, texts: Texts, file: Path) -> list[str]:
    problems = []
    for i, cue in enumerate(routine.cues):
        if cue.text not in texts.hold.cues:
            problems.append(
                f"{file.parent / ROUTINE_FILE}: cues[{i}].text: no cue named {cue.text!r} under "
                f"hold.cues in {file.name} (it has: {', '.join(sorted(texts.hold.cues))})"
            )
    for i, ex in enumerate(routine.exercises):
        if ex.id not in texts.exercises:
            problems.append(
                f"{file}: exercises: no texts for exercise {ex.id!r} "
                f"(routine.yaml exercises[{i}].id)"
            )
        elif len(texts.exercises[ex.id].sides) != ex.sides:
            problems.append(
                f"{file}: exercises.{ex.id}.sides: has {len(texts.exercises[ex.id].sides)} "
                f"side(s) but routine.yaml says sides: {ex.sides}"
            )
    snoozes = len(routine.reminders.snooze_minutes)
    if len(texts.reminders.buttons.snooze) != snoozes:
        problems.append(
            f"{file}: reminders.buttons.snooze: has {len(texts.reminders.buttons.snooze)} "
            f"label(s) but routine.yaml reminders.snooze_minutes has {snoozes}"
        )
    exercise_ids = [e.id for e in routine.exercises]
    for i, condition in enumerate(routine.safety.conditions):
        for key in ("leaves_out", "remind_on"):
            for name in getattr(condition, key):
                if name not in exercise_ids and file.stem == DEFAULT_LOCALE:
                    problems.append(
                        f"{file.parent / ROUTINE_FILE}: safety.conditions[{i}].{key}: no "
                        f"exercise {name!r} (exercises: {', '.join(exercise_ids)})"
                    )
    safety, said = routine.safety, texts.safety
    wanted = {
        "safety.screening.questions": {q.id for q in safety.questions},
        "safety.screening.conditions": {c.id for c in safety.conditions},
        "safety.outcomes": {q.outcome for q in safety.questions},
    }
    have = {
        "safety.screening.questions": set(said.screening.questions),
        "safety.screening.conditions": set(said.screening.conditions),
        "safety.outcomes": set(said.outcomes),
    }
    for where, ids in wanted.items():
        for missing in sorted(ids - have[where]):
            problems.append(f"{file}: {where}.{missing}: missing (routine.yaml safety uses it)")
        for unused in sorted(have[where] - ids):
            problems.append(f"{file}: {where}.{unused}: not in routine.yaml safety, so never shown")
    extra = sorted(set(texts.exercises) - {e.id for e in routine.exercises})
    if extra:
        problems.append(f"{file}: exercises.{extra[0]}: not in routine.yaml, so never shown")
    return problems


def load_content(directory: Path | str | None = None) -> Content:
    """Load and validate a content folder; raise ContentError listing every problem found."""
    root = Path(directory) if directory is not None else BUNDLED_CONTENT_DIR
    if not root.is_dir():
        raise ContentError([f"{root}: no such content folder"])
    problems: list[str] = []

    routine_file = root / ROUTINE_FILE
    routine: RoutineSpec | None = None
    if not routine_file.is_file():
        problems.append(f"{routine_file}: missing (it holds the order and timing of the routine)")
    else:
        try:
            routine = RoutineSpec.model_validate(_read_yaml(routine_file))
        except ValidationError as exc:
            problems.extend(_describe(routine_file, exc))
        except ContentError as exc:
            problems.extend(exc.problems)

    english_file = root / f"{DEFAULT_LOCALE}.yaml"
    raw_english: Any = None
    texts: dict[str, Texts] = {}
    coverage: dict[str, Coverage] = {}
    locale_files = sorted(p for p in root.glob("*.yaml") if p.name not in DATA_FILES)
    if english_file not in locale_files:
        problems.append(f"{english_file}: missing (English is the fallback for every language)")
    for file in sorted(locale_files, key=lambda p: p.stem != DEFAULT_LOCALE):
        if file != english_file and DEFAULT_LOCALE not in texts:
            # Translations fall back to English: with English broken they cannot be judged.
            problems.append(f"{file}: not checked until {english_file.name} is valid")
            continue
        try:
            raw = _read_yaml(file)
            if file == english_file:
                raw_english = raw
                merged = raw
            else:
                merged = _merge(raw_english, raw)
            texts[file.stem] = Texts.model_validate(merged)
            coverage[file.stem] = _coverage(raw_english, raw, file)
        except ValidationError as exc:
            problems.extend(_describe(file, exc))
        except ContentError as exc:
            problems.extend(exc.problems)
    sources = _load_file(root / SOURCES_FILE, SourcesFile, problems, "the sources of medical texts")
    numbers = _load_file(root / NUMBERS_FILE, NumbersFile, problems, "help numbers by country")
    if routine is not None:
        for locale, t in texts.items():
            problems.extend(_cross_check(routine, t, root / f"{locale}.yaml"))
    if sources is not None:
        known = sources.sources
        for locale, t in texts.items():
            for path, medical in medical_texts(t):
                problems.extend(_unknown_sources(root / f"{locale}.yaml", path, medical, known))
        if numbers is not None:
            for code, entry in numbers.countries.items():
                problems.extend(
                    _unknown_sources(root / NUMBERS_FILE, f"countries.{code}", entry, known)
                )
    pictures = _load_pictures(root, routine, texts, problems) if routine is not None else {}
    words = _load_words(texts, root, problems)
    if (
        problems
        or routine is None
        or DEFAULT_LOCALE not in texts
        or sources is None
        or numbers is None
    ):
        raise ContentError(problems)
    return Content(
        routine=routine,
        texts_by_locale=texts,
        source_dir=root,
        sources=sources.sources,
        numbers=numbers.countries,
        pictures=pictures,
        words_by_locale=words,
        coverage=coverage,
    )


def _load_file(file: Path, model: type[_M], problems: list[str], what: str) -> _M | None:
    if not file.is_file():
        problems.append(f"{file}: missing (it holds {what})")
        return None
    try:
        return model.model_validate(_read_yaml(file))
    except ValidationError as exc:
        problems.extend(_describe(file, exc))
    except ContentError as exc:
        problems.extend(exc.problems)
    return None


def _unknown_sources(
    file: Path, path: str, item: Medical | Disclaimer | CountryNumbers, known: Mapping[str, Source]
) -> list[str]:
    return [
        f"{file}: {path}.source: no source {name!r} in {SOURCES_FILE} "
        f"(it has: {', '.join(sorted(known))})"
        for name in item.source
        if name not in known
    ]


def _load_pictures(
    root: Path, routine: RoutineSpec, texts: Mapping[str, Texts], problems: list[str]
) -> dict[str, PictureSource]:
    """The pictures routine.yaml names (and the ones they mirror), checked against the texts."""
    folder = root / PICTURES_DIR
    pictures: dict[str, PictureSource] = {}
    wanted = [
        (name, f"{ROUTINE_FILE} exercises[{i}].pictures[{j}]")
        for i, ex in enumerate(routine.exercises)
        for j, name in enumerate(ex.pictures)
    ]
    tried: set[str] = set()
    while wanted:
        name, named_by = wanted.pop(0)
        if name in tried:
            continue
        tried.add(name)
        file = folder / f"{name}.yaml"
        if not file.is_file():
            problems.append(f"{file}: missing ({named_by} names it)")
            continue
        try:
            picture = parse_picture(_read_yaml(file))
        except ValidationError as exc:
            problems.extend(_describe(file, exc))
            continue
        except ContentError as exc:
            problems.extend(exc.problems)
            continue
        pictures[name] = picture
        if isinstance(picture, Mirror):
            wanted.append((picture.mirror_of, f"{file.name} mirror_of"))
        else:
            problems.extend(f"{file}: {path}: {what}" for path, what in reference_problems(picture))
    for name, picture in pictures.items():
        if isinstance(picture, Mirror) and isinstance(pictures.get(picture.mirror_of), Mirror):
            problems.append(
                f"{folder / name}.yaml: mirror_of: {picture.mirror_of!r} is itself a mirror; "
                "name the picture it mirrors"
            )
    shown = {name for ex in routine.exercises for name in ex.pictures}
    for locale, t in texts.items():
        file = root / f"{locale}.yaml"
        for name in sorted(shown & set(pictures)):
            drawing = drawing_of(name, pictures)
            if drawing is None:
                continue
            have = t.pictures.get(name, {})
            for i, label in enumerate(drawing.labels):
                if label.text not in have:
                    problems.append(
                        f"{file}: pictures.{name}.{label.text}: missing (the picture's label "
                        f"{PICTURES_DIR}/{drawing_file(name, pictures)}.yaml labels[{i}] uses it)"
                    )
            for unused in sorted(set(have) - {label.text for label in drawing.labels}):
                problems.append(
                    f"{file}: pictures.{name}.{unused}: no label of the picture uses it, "
                    "so never shown"
                )
        for name in sorted(set(t.pictures) - shown):
            problems.append(f"{file}: pictures.{name}: not in {ROUTINE_FILE}, so never shown")
    return pictures


def drawing_file(name: str, pictures: Mapping[str, PictureSource]) -> str:
    """The id of the picture whose file holds the drawing of `name` (itself, or the mirrored)."""
    picture = pictures.get(name)
    return picture.mirror_of if isinstance(picture, Mirror) else name


def drawing_of(name: str, pictures: Mapping[str, PictureSource]) -> Drawing | None:
    """The drawing a picture shows (a mirror's original), or None if it is not loaded."""
    found = pictures.get(drawing_file(name, pictures))
    return found if isinstance(found, Drawing) else None
