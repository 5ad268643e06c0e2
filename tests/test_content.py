"""Content validation: a physiotherapist's mistake is refused with file, path and problem."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from bot.cli import main
from bot.core.content import (
    BUNDLED_CONTENT_DIR,
    DATA_FILES,
    DEFAULT_LOCALE,
    Content,
    ContentError,
    load_content,
)


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A copy of the bundled content in English alone: each test sees one file's problems."""
    target = tmp_path / "content"
    shutil.copytree(BUNDLED_CONTENT_DIR, target)
    for file in target.glob("*.yaml"):
        if file.name not in DATA_FILES and file.stem != DEFAULT_LOCALE:
            file.unlink()
    return target


def edit(file: Path, old: str, new: str) -> None:
    text = file.read_text()
    assert old in text, f"{old!r} not in {file}"
    file.write_text(text.replace(old, new, 1))


def problems(folder: Path) -> list[str]:
    with pytest.raises(ContentError) as caught:
        load_content(folder)
    return caught.value.problems


def test_bundled_content_is_valid() -> None:
    """The content shipped with the bot loads, in English and Spanish, with two exercises."""
    content = load_content()
    assert content.locales == ("en", "es")
    assert [e.id for e in content.routine.exercises] == ["seated_twist", "side_lying"]


def test_a_hold_outside_its_range_names_file_path_and_problem(folder: Path) -> None:
    """A hold of 90 s where the range ends at 60 s is refused with the exact place."""
    edit(
        folder / "routine.yaml",
        "seconds: 30\n      min_seconds: 30",
        "seconds: 90\n      min_seconds: 30",
    )
    assert problems(folder) == [
        f"{folder / 'routine.yaml'}: exercises[0].hold: seconds (90) must lie between "
        "min_seconds (30) and max_seconds (60)"
    ]


def test_a_misspelled_key_is_refused(folder: Path) -> None:
    """An unknown key (a typo) is named, not silently ignored."""
    edit(folder / "en.yaml", "  guide_done: |", "  guide_dnoe: |")
    assert problems(folder) == [
        f"{folder / 'en.yaml'}: warm_up.guide_done: missing: this key is required",
        f"{folder / 'en.yaml'}: warm_up.guide_dnoe: unknown key (a typo? remove it or check "
        "the spelling)",
    ]


def test_an_unknown_placeholder_is_refused(folder: Path) -> None:
    """A cue may use only the placeholders the bot fills in."""
    edit(folder / "en.yaml", '"{seconds_left} seconds left."', '"{secs} seconds left."')
    assert problems(folder) == [
        f"{folder / 'en.yaml'}: hold.cues.ten_seconds_left: unknown placeholder {{secs}}; "
        "this text may use: {seconds_left}"
    ]


def test_broken_yaml_names_the_line(folder: Path) -> None:
    """A YAML syntax error is reported with its line and column."""
    edit(folder / "routine.yaml", "rest_seconds: 15", "rest_seconds: [15")
    (problem,) = problems(folder)
    assert problem.startswith(f"{folder / 'routine.yaml'}: line ")
    assert "not valid YAML" in problem


def test_a_cue_without_text_is_refused(folder: Path) -> None:
    """routine.yaml may only name cues that the language file has."""
    edit(folder / "routine.yaml", "text: halfway", "text: half_way")
    assert problems(folder) == [
        f"{folder / 'routine.yaml'}: cues[0].text: no cue named 'half_way' under hold.cues in "
        "en.yaml (it has: halfway, ten_seconds_left)"
    ]


def test_a_missing_exercise_text_is_refused(folder: Path) -> None:
    """Every exercise in routine.yaml needs its texts."""
    edit(folder / "routine.yaml", "- id: side_lying", "- id: side_lying_new")
    assert problems(folder) == [
        f"{folder / 'en.yaml'}: exercises: no texts for exercise 'side_lying_new' "
        "(routine.yaml exercises[1].id)",
        f"{folder / 'routine.yaml'}: safety.conditions[0].leaves_out: no exercise 'side_lying' "
        "(exercises: seated_twist, side_lying_new)",
        f"{folder / 'routine.yaml'}: safety.conditions[3].remind_on: no exercise 'side_lying' "
        "(exercises: seated_twist, side_lying_new)",
        f"{folder / 'en.yaml'}: exercises.side_lying: not in routine.yaml, so never shown",
    ]


def test_a_partial_translation_falls_back_to_english(folder: Path) -> None:
    """A language file may translate a few keys; the rest comes from English."""
    (folder / "de.yaml").write_text('buttons:\n  start_hold: "Dehnung starten"\n')
    content = load_content(folder)
    assert content.texts("de-AT").buttons.start_hold == "Dehnung starten"
    assert content.texts("de").buttons.accept == "I understand, continue"
    assert content.texts("fr").buttons.start_hold == "Start hold"


def test_check_content_counts_each_languages_keys_and_names_what_english_fills_in(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A partial translation loads; check-content says how much of English it has, which keys
    English fills in, and a placeholder the translation dropped; --strict fails on them."""
    (folder / "de.yaml").write_text(
        'buttons:\n  start_hold: "Dehnung starten"\nrest:\n  text: "Pause: {seconds} s."\n'
    )
    assert main(["check-content", str(folder)]) == 0
    out = capsys.readouterr().out
    total = load_content(folder).coverage["en"].keys
    assert f"    en: {total} keys\n    de: 2 of {total} keys\n" in out
    assert (
        f"warning: {folder / 'de.yaml'}: rest.text: {{next_name}} is in English but not here" in out
    )
    assert (
        "missing from de.yaml (English is used):\n        language_name\n        disclaimer.text\n"
        in out
    )
    assert "        buttons.start_hold\n" not in out
    assert main(["check-content", "--strict", str(folder)]) == 1


def test_check_content_prints_the_outline(capsys: pytest.CaptureFixture[str]) -> None:
    """check-content lists every stretch with its hold and cues."""
    assert main(["check-content"]) == 0
    out = capsys.readouterr().out
    assert "4. Exercise 1: seated twist / Right knee bent: hold 30 s (range 30-60 s)" in out
    assert "7. Exercise 2: side-lying stretch / Lying on your left side" in out


def test_check_content_prints_every_medical_text_with_its_sources(
    content: Content, capsys: pytest.CaptureFixture[str]
) -> None:
    """For a clinician: every screening question, outcome and notice, each with its sources."""
    assert main(["check-content"]) == 0
    out = capsys.readouterr().out
    safety = content.texts("en").safety
    assert (
        "safety.screening.questions.saddle  [nhs_sciatica, nhs_back_pain, nhs_cauda_equina]" in out
    )
    for text in [
        *(q.text for q in safety.screening.questions.values()),
        *(o.text for o in safety.outcomes.values()),
        *(c.notice.text for c in safety.screening.conditions.values()),
    ]:
        assert all(f"    {line}" in out for line in text.splitlines() if line)
    assert "  GB: emergency 999, NHS 111 111 [nhs_111]" in out
    assert "nhs_sprains: Sprains and strains, NHS (nhs.uk). https://www.nhs.uk/conditions/" in out


def test_a_medical_text_without_a_source_is_refused(folder: Path) -> None:
    """A medical text must say where it comes from."""
    edit(folder / "en.yaml", "    source: nhs_sprains\n  # The numbered", "  # The numbered")
    assert problems(folder) == [
        f"{folder / 'en.yaml'}: warm_up.check_no_heat.source: missing: this key is required",
    ]


def test_a_medical_text_with_an_unknown_source_is_refused(folder: Path) -> None:
    """A source a text names must be listed in sources.yaml."""
    edit(folder / "en.yaml", "source: leeds_hip_precautions", "source: a_leaflet_i_remember")
    known = ", ".join(sorted(load_content().sources))
    assert problems(folder) == [
        f"{folder / 'en.yaml'}: safety.screening.conditions.hip_surgery.notice.source: no "
        f"source 'a_leaflet_i_remember' in sources.yaml (it has: {known})",
    ]


def test_check_content_refuses_a_broken_folder(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """check-content exits 2 and prints each problem."""
    edit(folder / "routine.yaml", "rest_seconds: 15", "rest_seconds: -1")
    assert main(["check-content", str(folder)]) == 2
    assert (
        f"{folder / 'routine.yaml'}: rest_seconds: Input should be greater than or equal to 0"
        in capsys.readouterr().err
    )


def test_a_key_given_twice_is_refused(folder: Path) -> None:
    """YAML would silently keep the last of two equal keys; the check names both lines."""
    edit(folder / "routine.yaml", "rest_seconds: 15\n", "rest_seconds: 15\nrest_seconds: 600\n")
    (problem,) = problems(folder)
    assert problem.startswith(f"{folder / 'routine.yaml'}: line ")
    assert "the key 'rest_seconds' appears twice (lines 11 and 12); keep one" in problem


def test_an_empty_text_says_so(folder: Path) -> None:
    """A text left empty is reported as empty, not as a type error."""
    edit(folder / "en.yaml", '  gone: "That reminder no longer exists."', "  gone:")
    assert problems(folder) == [f"{folder / 'en.yaml'}: reminders.gone: must not be empty"]


def test_a_broken_english_file_does_not_drown_translations_in_errors(folder: Path) -> None:
    """With en.yaml broken, a translation is reported once as not checked."""
    (folder / "de.yaml").write_text('buttons:\n  start_hold: "Dehnung starten"\n')
    edit(folder / "en.yaml", "  guide_done: |", "  guide_dnoe: |")
    assert problems(folder)[-1] == f"{folder / 'de.yaml'}: not checked until en.yaml is valid"
    assert len(problems(folder)) == 3


def test_a_word_read_with_two_meanings_is_refused(folder: Path) -> None:
    """A word the bot reads may mean one thing: "sat" as a day and as "weekends" is refused."""
    edit(folder / "en.yaml", 'weekends: ["weekends", "weekend"]', 'weekends: ["weekends", "sat"]')
    assert problems(folder) == [
        f"{folder / 'en.yaml'}: words.weekends: 'sat' is also listed in words.days[5]; "
        "a word may have one meaning"
    ]


def test_a_translation_may_translate_one_side(folder: Path) -> None:
    """Sides are merged one by one: a title translated, its instructions kept from English."""
    (folder / "de.yaml").write_text(
        "exercises:\n  seated_twist:\n    sides:\n      - title: Rechtes Knie gebeugt\n"
    )
    sides = load_content(folder).texts("de").exercises["seated_twist"].sides
    assert [s.title for s in sides] == ["Rechtes Knie gebeugt", "Left knee bent"]
    assert sides[0].instructions.text.startswith("Sit with your left leg completely straight")
