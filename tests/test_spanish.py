"""Spanish, end to end: a user whose Telegram is in Spanish reads every message in Spanish, types
times and days in Spanish, and gets the command menu in Spanish; check-content counts the keys of
es.yaml and says what a partial or mismatched translation leaves to English."""

from __future__ import annotations

import re
import shutil
import string
from datetime import UTC, datetime, time
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.cli import main
from bot.core.content import BUNDLED_CONTENT_DIR, Content, ContentError, load_content
from bot.core.times import (
    EVERY_DAY,
    WEEKDAYS,
    WEEKENDS,
    DaysParseError,
    RemindOff,
    RemindRequest,
    TimeParseError,
    parse_remind_args,
)
from bot.media.pictures import render
from tests.support.harness import CHAT, Harness

MEXICO = "es-MX"
# Friday 27 March 2026, 06:00 UTC: 02:00 in New York (summer time since 8 March).
FRIDAY_0600_UTC = datetime(2026, 3, 27, 6, 0, tzinfo=UTC).timestamp()
MON, TUE, WED, THU, FRI, SAT, SUN = range(7)


# --------------------------------------------------------------------------- what Spanish is


def _strings(node: Any) -> list[str]:
    """Every text a language file says (not the words it reads, not the sources)."""
    if isinstance(node, dict):
        kept = [value for key, value in node.items() if key not in ("words", "source")]
        return [s for value in kept for s in _strings(value)]
    if isinstance(node, list):
        return [s for item in node for s in _strings(item)]
    return [str(node).strip()] if isinstance(node, str) else []


def _file(name: str) -> Any:
    return yaml.safe_load((BUNDLED_CONTENT_DIR / name).read_text(encoding="utf-8"))


SPANISH = _file("es.yaml")
ENGLISH = _file("en.yaml")


def _values(*paths: str) -> list[str]:
    """The Spanish texts at these paths ("exercises.*.about.text"); * is every key or item."""
    found: list[Any] = []
    for path in paths:
        nodes: list[Any] = [SPANISH]
        for part in path.split("."):
            step: list[Any] = []
            for node in nodes:
                children = node.values() if isinstance(node, dict) else node
                step += list(children) if part == "*" else [node[part]]
            nodes = step
        found += nodes
    return [str(v).strip() for v in found]


# A placeholder that holds other texts is those texts; any other holds one line (a number, a
# time, a name, a side's title).
_HOLDS = {
    "about": _values("exercises.*.about.text", "safety.about.text"),
    "instructions": _values("exercises.*.sides.*.instructions.text"),
    "safety_note": _values("safety.help_note.text"),
}
_LINES = {
    "exercises": _values("done_item", "done_item_part"),
    "lines": _values(
        "settings.hold_line",
        "settings.rest_line",
        "settings.get_ready_line",
        "settings.countdown_on_line",
        "settings.countdown_off_line",
        "settings.pain_on_line",
        "settings.pain_off_line",
    ),
}


def _pattern(template: str) -> str:
    out = ""
    for literal, name, _, _ in string.Formatter().parse(template):
        out += re.escape(literal)
        if name is None:
            continue
        if name in ("exercises", "lines"):  # the summary's lines, /settings' lines
            item = "|".join(_pattern(t) for t in _LINES[name])
            out += f"(?:{item})(?:\n(?:{item}))*"
        elif _HOLDS.get(name):
            out += "(?:" + "|".join(_pattern(t) for t in _HOLDS[name]) + ")"
        else:
            out += r"[^\n]+?"
    return out


TEMPLATES = [re.compile(_pattern(text)) for text in _strings(SPANISH)]


def _english_phrases() -> list[re.Pattern[str]]:
    """Pieces of English texts no Spanish text has: seeing one in the chat is English leaking."""
    spanish = "\n".join(_strings(SPANISH))
    phrases = set()
    for text in _strings(ENGLISH):
        for literal, *_ in string.Formatter().parse(text):
            for line in literal.splitlines():
                piece = line.strip(" .,:;!?()•\u2013·⏱⏹⏸▶⏭✓\"'-")
                if re.search(r"[A-Za-z]{4}", piece) and piece not in spanish:
                    phrases.add(piece)
    return [re.compile(rf"(?<!\w){re.escape(p)}(?!\w)") for p in sorted(phrases)]


ENGLISH_PHRASES = _english_phrases()


def _made_of_templates(text: str, joint: str) -> bool:
    """Whether `text` is texts of es.yaml joined by `joint` (blank lines between them are glue)."""
    parts = text.split(joint)
    done = [True] + [False] * len(parts)
    for end in range(1, len(parts) + 1):
        done[end] = any(
            done[start]
            and (
                (end == start + 1 and not parts[start])
                or any(t.fullmatch(joint.join(parts[start:end])) for t in TEMPLATES)
            )
            for start in range(end)
        )
    return done[-1]


def _is_spanish(text: str) -> bool:
    """A text formatted from a text of es.yaml, or made of several: the end of a hold and the
    rest (a blank line between), a list's header and its lines (one per line)."""
    return any(t.fullmatch(text) for t in TEMPLATES) or any(
        _made_of_templates(text, joint) for joint in ("\n\n", "\n")
    )


def assert_all_spanish(h: Harness, chat_id: int = CHAT) -> int:
    """Every text the chat shows (each message, each of its earlier versions, each button, each
    notice of a tap) is Spanish, and no English phrase is in any. Returns how many were read."""
    shown = []
    for message in h.server.messages(chat_id, include_deleted=True):
        shown += [message.text, *message.edits]
        shown += [b.text for row in message.buttons for b in row]
    shown += [str(a["text"]) for a in h.server.callback_answers if a.get("text")]
    times = re.compile(r"\d\d:\d\d")  # the reminder's time choices, from routine.yaml
    for text in shown:
        assert _is_spanish(text) or times.fullmatch(text), f"not from es.yaml: {text!r}"
        leaked = [p.pattern for p in ENGLISH_PHRASES if p.search(text)]
        assert not leaked, f"English in {text!r}: {leaked}"
    return len(shown)


# --------------------------------------------------------------------------- the chat


async def test_a_mexican_user_does_the_whole_routine_in_spanish(
    harness: Harness, content: Content
) -> None:
    """An es-MX user: welcome, disclaimer, safety check, warm-up, the four sides held on timers,
    the summary and the reminder offer, every word of it in Spanish, pictures too."""
    h = harness
    es = content.texts(MEXICO)
    await h.send("/start", first_name="Ana", language_code=MEXICO)
    assert h.texts()[0].startswith("¡Hola, Ana! Soy Stretch Coach.\n\nTe guiaré en una rutina")
    assert h.last().text.startswith("Antes de empezar\n\n")
    assert h.last().button_texts == ["Lo entiendo, continuar", "No, gracias"]
    await h.tap("Lo entiendo, continuar")
    assert h.last().text.startswith("1 de 6\n\n¿Tienes entumecimiento u hormigueo")
    assert h.last().button_texts == ["Sí", "No"]
    for _ in content.routine.safety.questions:
        await h.tap("No")
    assert h.last().text.startswith("6 de 6\n\n")
    await h.tap("Ninguna de estas")
    assert h.last().text.startswith("Primero, calienta\n\n")
    assert h.last().button_texts == ["Ya está caliente", "Aún no, guíame"]
    await h.tap("Ya está caliente")
    cards = []
    for _ in range(4):
        card = h.last()
        cards.append(card)
        assert card.button_texts == ["Empezar", "⏹ Parar"]
        await h.tap("Empezar")
        countdown = h.last()
        assert countdown.text.startswith("⏱ Quedan 30 s · ")
        assert countdown.button_texts == ["⏸ Pausa", "+15 s", "⏭ Saltar este lado", "⏹ Parar"]
        await h.advance(15)
        assert h.texts()[-1] == "Vas por la mitad."
        await h.advance(15 + 15)  # the end of the hold, and the rest before the next side
    released = [t for t in h.texts() if t.startswith("Se acabó el tiempo. Sal de la postura")]
    assert len(released) == 4
    assert [c.text.split("\n")[1] for c in cards] == [
        "Rodilla derecha doblada",
        "Rodilla izquierda doblada",
        "Sobre el costado derecho",
        "Sobre el costado izquierdo",
    ]
    assert "pierna izquierda completamente estirada y la rodilla derecha doblada" in cards[0].text
    # Each card's picture is the one drawn with the Spanish labels.
    pictures = [p for exercise in content.routine.exercises for p in exercise.pictures]
    for card, picture in zip(cards, pictures, strict=True):
        assert card.photo_bytes == render(picture, es, content.pictures)
    assert h.texts()[-2] == (
        "¡Bien hecho! Esa es la rutina: 4 estiramientos.\n\n"
        "• Ejercicio 1: giro sentado: los dos lados, 30 s cada uno\n"
        "• Ejercicio 2: estiramiento de lado: los dos lados, 30 s cada uno\n\n"
        "Para repetirla, escribe /routine cuando quieras."
    )
    assert h.texts()[-1].startswith("¿Te recuerdo todos los días que vuelvas a estirar?")
    assert assert_all_spanish(h) > 60


async def test_stop_and_the_warning_sign_after_it_are_in_spanish(harness: Harness) -> None:
    """Stop mid-hold, then Yes to numbness: how to come out of the position, the question, and
    the emergency message, in Spanish, with the words for "your country's emergency number"."""
    h = harness
    await h.send("/start", language_code=MEXICO)
    await h.tap("Lo entiendo, continuar")
    for _ in range(5):
        await h.tap("No")
    await h.tap("Ninguna de estas")
    await h.tap("Ya está caliente")
    await h.tap("Empezar")
    await h.send("me duele")
    assert h.last().text.startswith("¿Quieres parar? Si duele, sal de la postura")
    await h.tap("⏹ Parar")
    assert any(t.startswith("Detenido. Sal de la postura despacio") for t in h.texts())
    assert h.last().text.startswith("¿Tienes ahora entumecimiento u hormigueo")
    await h.tap("Sí")
    assert (
        "Llama ahora al número de emergencias de tu país, o ve al servicio de urgencias"
        in (h.texts()[-1])
    )
    assert_all_spanish(h)


async def test_settings_are_in_spanish(harness: Harness) -> None:
    """/settings: the menu, its buttons, the "Guardado" notice and the closed summary."""
    h = harness
    await h.send("/settings", language_code=MEXICO)
    menu = h.last()
    assert menu.text.startswith("Tus ajustes. Toca uno para cambiarlo.")
    assert "Mantener, Ejercicio 1: giro sentado: 30 s por lado" in menu.text
    assert menu.button_texts[-3:] == ["🌍 Zona horaria", "⏰ Recordatorios", "Listo"]
    await h.tap("Ejercicio 1: giro sentado: 30 s", message_id=menu.message_id)
    assert h.server.callback_answers[-1]["text"] == "Guardado"
    await h.tap("Cuenta regresiva: sí", message_id=menu.message_id)
    assert "Cuenta regresiva: no (solo los avisos)" in menu.text
    await h.tap("Listo", message_id=menu.message_id)
    assert menu.text.startswith("Tus ajustes:\n\n") and menu.text.endswith(
        "Escribe /settings para cambiarlos."
    )
    assert_all_spanish(h)


async def test_a_reminder_set_in_spanish_arrives_in_spanish(harness: Harness) -> None:
    """/timezone Nueva York and /remind 7pm entre semana: said back in Spanish, and at 19:00 in
    New York the reminder comes in Spanish with Spanish buttons."""
    h = harness
    h.clock.set(FRIDAY_0600_UTC)  # type: ignore[union-attr]
    await h.send("/start", language_code=MEXICO)
    await h.send("/timezone Nueva York")
    assert h.last().text == (
        "Zona horaria guardada: America/New_York (hora allí: 02:00, UTC-04:00). "
        "Tus recordatorios mantienen su hora local."
    )
    await h.send("/remind 7pm entre semana")
    assert h.last().text == (
        "Hecho: te lo recordaré a las 19:00 entre semana. Próximo: vie 27 de mar, 19:00."
    )
    await h.advance(17 * 3600 - 60)
    before = len(h.messages())
    await h.advance(60)
    reminder = h.last()
    assert len(h.messages()) == before + 1
    assert reminder.text in h.content.texts(MEXICO).reminders.messages
    assert reminder.button_texts == [
        "Empezar ahora", "En 15 min", "En 1 hora", "Saltar hoy", "🛌 Hoy descanso",
    ]  # fmt: skip
    await h.send("/reminders")
    assert h.last().text == (
        "Tus recordatorios (zona horaria America/New_York):\n"
        "• 19:00 entre semana (próximo: lun 30 de mar, 19:00)"
    )
    assert_all_spanish(h)


async def test_a_reminder_set_before_any_routine_arrives_in_spanish(harness: Harness) -> None:
    """A user whose very first message is /remind gets the reminder in their language too."""
    h = harness
    h.clock.set(FRIDAY_0600_UTC)  # type: ignore[union-attr]
    await h.send("/remind 07:30 todos los días", language_code=MEXICO)
    assert h.texts()[0].startswith("Hecho: te lo recordaré a las 07:30 todos los días.")
    await h.advance(90 * 60)
    assert h.last().text in h.content.texts(MEXICO).reminders.messages


async def test_a_time_typed_in_spanish_when_asked(harness: Harness) -> None:
    """ "Otra hora", then "7 de la tarde": the bot asks for the days of 19:00, in Spanish; a bare
    "7" is asked back as morning or evening, in Spanish words that it then reads."""
    h = harness
    await h.send("/remind", language_code=MEXICO)
    assert h.last().text.startswith("¿A qué hora te recuerdo que estires?")
    await h.tap("Otra hora")
    await h.send("7")
    assert h.last().text.startswith("¿«7» es por la mañana o por la tarde? Escribe «7 de la")
    await h.send("7 de la tarde")
    assert h.last().text == "¿Qué días, a las 19:00?"
    assert h.last().button_texts == ["Todos los días", "Entre semana", "Elegir días"]
    await h.tap("Elegir días")
    await h.tap("mié")
    assert "✓ mié" in h.last().button_texts
    assert_all_spanish(h)


async def test_the_command_menu_is_set_in_spanish(harness: Harness, content: Content) -> None:
    """At start-up the menu is set for language "es", beside the default English one: the same
    commands, Spanish descriptions."""
    menus = harness.server.commands_by_scope
    english, spanish = menus[('{"type": "default"}', "")], menus[('{"type": "default"}', "es")]
    assert [c["command"] for c in spanish] == [c["command"] for c in english]
    said = content.texts("es").commands
    assert {c["command"]: c["description"] for c in spanish} == {
        name: getattr(said, name) for name in type(said).model_fields
    }
    assert spanish[0] == {"command": "routine", "description": "Empezar la rutina de estiramientos"}


# --------------------------------------------------------------------------- words read


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("19:00 entre semana", RemindRequest(time(19, 0), WEEKDAYS)),
        ("7pm lun mié vie", RemindRequest(time(19, 0), frozenset({MON, WED, FRI}))),
        ("7pm lunes miércoles viernes", RemindRequest(time(19, 0), frozenset({MON, WED, FRI}))),
        ("7pm Lunes miercoles VIERNES", RemindRequest(time(19, 0), frozenset({MON, WED, FRI}))),
        ("8:30 todos los días", RemindRequest(time(8, 30), EVERY_DAY)),
        ("8:30 cada dia", RemindRequest(time(8, 30), EVERY_DAY)),
        ("mediodía", RemindRequest(time(12, 0), EVERY_DAY)),
        ("medianoche sáb", RemindRequest(time(0, 0), frozenset({SAT}))),
        ("a las 7 de la tarde de lunes a viernes", RemindRequest(time(19, 0), WEEKDAYS)),
        ("7:30 a. m. fines de semana", RemindRequest(time(7, 30), WEEKENDS)),
        ("sábados y domingos 10:00", RemindRequest(time(10, 0), WEEKENDS)),
        ("18:15 mar-jue", RemindRequest(time(18, 15), frozenset({TUE, WED, THU}))),
        ("7pm weekdays", RemindRequest(time(19, 0), WEEKDAYS)),  # English is read too
        ("no", RemindOff()),
        ("off", RemindOff()),
    ],
)
def test_remind_reads_spanish_words_and_english_ones(
    content: Content, typed: str, expected: RemindRequest | RemindOff
) -> None:
    """A Spanish user's /remind is read with the Spanish words of es.yaml and the English ones;
    accents and capitals are optional."""
    assert parse_remind_args(typed.split(), content.words(MEXICO)) == expected


@pytest.mark.parametrize(
    ("locale", "typed", "error", "text"),
    [
        (MEXICO, "19:00 mañana", DaysParseError, "mañana"),
        (MEXICO, "7", TimeParseError, "7"),
        (MEXICO, "7pm lunes a", DaysParseError, "a"),
        ("en", "19:00 entre semana", DaysParseError, "entre"),  # an English user's words only
    ],
)
def test_what_is_not_read_is_quoted_back(
    content: Content, locale: str, typed: str, error: type[Exception], text: str
) -> None:
    """A word that is no day, a bare hour and a range without its end are errors naming the
    word as typed; an English user's text is not read with Spanish words."""
    with pytest.raises(error) as caught:
        parse_remind_args(typed.split(), content.words(locale))
    assert isinstance(caught.value, TimeParseError | DaysParseError)
    assert caught.value.text == text


# --------------------------------------------------------------------------- check-content


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    target = tmp_path / "content"
    shutil.copytree(BUNDLED_CONTENT_DIR, target)
    return target


def test_check_content_says_spanish_has_every_key(capsys: pytest.CaptureFixture[str]) -> None:
    """The shipped es.yaml says every text of en.yaml itself, with no warning, even --strict."""
    content = load_content()
    keys = content.coverage["en"].keys
    assert content.coverage["es"].translated == keys > 200
    assert main(["check-content", "--strict"]) == 0
    out = capsys.readouterr().out
    assert f"\n    en: {keys} keys\n    es: {keys} of {keys} keys\n  disclaimer version" in out
    assert "warning: " not in out
    assert "For a clinician's review: every medical text in es.yaml with its sources" in out
    assert "safety.outcomes.emergency  [nhs_sciatica, nhs_back_pain, nhs_cauda_equina]" in out


def test_a_missing_key_and_a_dropped_placeholder_are_reported_and_english_fills_in(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """es.yaml without hold.finished and with {time} dropped from reminders.set: the content
    still loads, check-content counts one key less and names both, and a Spanish user reads the
    English hold.finished."""
    file = folder / "es.yaml"
    text = file.read_text(encoding="utf-8")
    text = text.replace('  finished: "Se acabó el tiempo. Sal de la postura despacio."\n', "")
    text = text.replace("te lo recordaré a las {time} {days}", "te lo recordaré {days}")
    file.write_text(text, encoding="utf-8")
    content = load_content(folder)
    keys = content.coverage["en"].keys
    assert content.texts(MEXICO).hold.finished == "Time's up. Release slowly."
    assert main(["check-content", str(folder)]) == 0
    out = capsys.readouterr().out
    assert f"    es: {keys - 1} of {keys} keys\n" in out
    assert f"warning: {file}: reminders.set: {{time}} is in English but not here\n" in out
    assert "missing from es.yaml (English is used):\n        hold.finished\n" in out
    assert main(["check-content", "--strict", str(folder)]) == 1


def test_a_placeholder_english_does_not_know_is_refused(folder: Path) -> None:
    """A Spanish text may only use the placeholders the bot fills in."""
    file = folder / "es.yaml"
    text = file.read_text(encoding="utf-8")
    file.write_text(text.replace("Quedan {seconds_left} segundos.", "Quedan {segundos} segundos."))
    with pytest.raises(ContentError) as caught:
        load_content(folder)
    assert caught.value.problems == [
        f"{file}: hold.cues.ten_seconds_left: unknown placeholder {{segundos}}; "
        "this text may use: {seconds_left}"
    ]


def test_a_spanish_word_that_means_something_else_in_english_is_refused(folder: Path) -> None:
    """Spanish and English words are read together, so a word may not mean two things."""
    file = folder / "es.yaml"
    text = file.read_text(encoding="utf-8")
    file.write_text(text.replace('"finde", "findes"]', '"finde", "findes", "sun"]'))
    with pytest.raises(ContentError) as caught:
        load_content(folder)
    assert caught.value.problems == [
        f"{file}: words.weekends: 'sun' means something else in words.days[6] (en.yaml)"
    ]
