"""Pictures of the positions: drawn from content/pictures/, labelled from the language file."""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import pytest
from PIL import Image, ImageChops

from bot.cli import main
from bot.core.content import BUNDLED_CONTENT_DIR, Content, ContentError, load_content
from bot.core.picture_models import HEIGHT, WIDTH, Drawing, Mirror
from bot.media.pictures import render

MIRRORED = [("seated_twist_right", "seated_twist_left"), ("side_lying_right", "side_lying_left")]


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    target = tmp_path / "content"
    shutil.copytree(BUNDLED_CONTENT_DIR, target)
    return target


def edit(file: Path, old: str, new: str) -> None:
    text = file.read_text()
    assert old in text, f"{old!r} not in {file}"
    file.write_text(text.replace(old, new, 1))


def problems(folder: Path) -> list[str]:
    with pytest.raises(ContentError) as caught:
        load_content(folder)
    return caught.value.problems


def picture(content: Content, picture_id: str) -> Image.Image:
    png = render(picture_id, content.texts("en"), content.pictures)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    image = Image.open(io.BytesIO(png))
    image.load()
    return image


def test_every_side_of_every_exercise_has_its_own_picture(content: Content) -> None:
    """Four sides, four pictures: each an 800x600 PNG, each different."""
    ids = [p for ex in content.routine.exercises for p in ex.pictures]
    assert ids == [
        "seated_twist_right",
        "seated_twist_left",
        "side_lying_right",
        "side_lying_left",
    ]
    pngs = set()
    for picture_id in ids:
        image = picture(content, picture_id)
        assert image.format == "PNG"
        assert image.size == (WIDTH, HEIGHT) == (800, 600)
        assert image.mode == "RGB"
        pngs.add(image.tobytes())
    assert len(pngs) == 4


def test_the_same_source_and_texts_give_the_same_bytes(content: Content) -> None:
    texts = content.texts("en")
    first = render("side_lying_left", texts, content.pictures)
    assert render("side_lying_left", texts, content.pictures) == first
    reloaded = load_content()
    assert render("side_lying_left", reloaded.texts("en"), reloaded.pictures) == first


def _figure(image: Image.Image, content: Content, picture_id: str) -> Image.Image:
    """Where the coloured parts of the figure are (1) and are not (0), label boxes left out."""
    r, _, b = image.split()
    # Orange (the one side of the body) or blue (the other side), at any shade.
    orange = ImageChops.subtract(r, b).point(lambda v: 255 if v > 60 else 0)
    blue = ImageChops.subtract(b, r).point(lambda v: 255 if v > 40 else 0)
    mask = ImageChops.lighter(orange, blue)
    drawing = content.pictures[picture_id]
    if isinstance(drawing, Mirror):
        drawing = content.pictures[drawing.mirror_of]
    assert isinstance(drawing, Drawing)
    for label in drawing.labels:
        for x in (label.at[0], WIDTH - label.at[0]):
            y = label.at[1]
            mask.paste(0, (int(x - 145), int(y - 45), int(x + 145), int(y + 45)))
    return mask.point(lambda v: 1 if v else 0)


def _overlap(a: Image.Image, b: Image.Image) -> float:
    """Pixels in both masks, over pixels in either."""
    both = ImageChops.darker(a, b).histogram()[1]
    either = ImageChops.lighter(a, b).histogram()[1]
    return both / either


@pytest.mark.parametrize(("right", "left"), MIRRORED)
def test_the_other_side_is_the_mirror_image(content: Content, right: str, left: str) -> None:
    """Left and right swapped: the figure of one, flipped, lies on the figure of the other."""
    one = _figure(picture(content, right), content, right)
    other = _figure(picture(content, left), content, left)
    flipped = other.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
    assert one.getbbox() is not None
    assert _overlap(one, flipped) > 0.95
    # Not merely the same picture: unflipped they hardly match.
    assert _overlap(one, other) < 0.5
    # The figure's bounding box is the mirror of the other's, to a pixel or two.
    box, mirrored = one.getbbox(), flipped.getbbox()
    assert box is not None and mirrored is not None
    assert all(abs(p - q) <= 2 for p, q in zip(box, mirrored, strict=True))


def test_labels_are_the_language_files(folder: Path, content: Content) -> None:
    """Change a label in en.yaml: that picture changes, and only the one it belongs to."""
    before = {p: render(p, content.texts("en"), content.pictures) for p in content.pictures}
    edit(folder / "en.yaml", 'hanging_leg: "Left leg hangs over the edge"', 'hanging_leg: "X"')
    changed = load_content(folder)
    after = {p: render(p, changed.texts("en"), changed.pictures) for p in changed.pictures}
    assert [p for p in before if before[p] != after[p]] == ["side_lying_right"]


def test_each_side_has_its_own_label_texts(content: Content) -> None:
    """The mirror image says left where the original says right: its own texts, not flipped."""
    labels = content.texts("en").pictures
    assert labels["seated_twist_right"]["bent_knee"] == "Right knee bent"
    assert labels["seated_twist_left"]["bent_knee"] == "Left knee bent"
    assert labels["side_lying_right"]["hanging_leg"] == "Left leg hangs over the edge"
    assert labels["side_lying_left"]["hanging_leg"] == "Right leg hangs over the edge"
    for right, left in MIRRORED:
        assert set(labels[right]) == set(labels[left])
        for key in labels[right]:
            assert labels[right][key] != labels[left][key], key


def test_a_translation_draws_its_own_words(folder: Path, content: Content) -> None:
    """A language file with some labels translated; the rest falls back to English."""
    (folder / "es.yaml").write_text(
        "pictures:\n  seated_twist_right:\n    turn: 'Gira hacia la derecha'\n", encoding="utf-8"
    )
    both = load_content(folder)
    spanish = both.texts("es")
    assert spanish.pictures["seated_twist_right"]["turn"] == "Gira hacia la derecha"
    assert spanish.pictures["seated_twist_right"]["bent_knee"] == "Right knee bent"
    english = render("seated_twist_right", both.texts("en"), both.pictures)
    assert render("seated_twist_right", spanish, both.pictures) != english
    assert english == render("seated_twist_right", content.texts("en"), content.pictures)


def test_check_content_warns_of_a_letter_the_pictures_cannot_draw(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The pictures' font has no accented letters: a label with one is pointed out, not drawn
    as an empty box unnoticed."""
    (folder / "es.yaml").write_text(
        "pictures:\n  seated_twist_right:\n    hand_behind: 'Mano detrás'\n", encoding="utf-8"
    )
    assert main(["check-content", str(folder)]) == 0
    assert (
        f"warning: {folder / 'es.yaml'}: pictures.seated_twist_right.hand_behind: the pictures' "
        "font has no á; it would be drawn as an empty box"
    ) in capsys.readouterr().out


def test_a_missing_picture_file_is_refused(folder: Path) -> None:
    (folder / "pictures" / "side_lying_left.yaml").unlink()
    assert problems(folder) == [
        f"{folder / 'pictures' / 'side_lying_left.yaml'}: missing "
        "(routine.yaml exercises[1].pictures[1] names it)"
    ]


def test_a_joint_misspelled_in_a_picture_is_refused(folder: Path) -> None:
    """Every place naming the joint is reported, with its path inside the file."""
    edit(folder / "pictures" / "side_lying_right.yaml", "  l_hand: [", "  l_hnd: [")
    file = folder / "pictures" / "side_lying_right.yaml"
    found = problems(folder)
    assert [p.split(" (joints:")[0] for p in found] == [
        f"{file}: parts[8].through[2]: no joint 'l_hand'",
        f"{file}: labels[3].points_to: no joint 'l_hand'",
    ]
    assert "l_hnd" in found[0]


def test_a_malformed_picture_is_refused_with_file_and_path(folder: Path) -> None:
    file = folder / "pictures" / "seated_twist_right.yaml"
    edit(file, "  r_knee: [-6, 46, 27]", "  r_knee: [-6, 46]")
    edit(file, "colour: blue, far: true}", "colour: purple, far: true}")
    edit(file, "at: [660, 560]", "at: [660, 960]")
    assert problems(folder) == [
        f"{file}: joints.r_knee: [-6, 46] is not a point [x, y, z]: three numbers from -1000 "
        "to 1000 (centimetres)",
        f"{file}: parts[0].colour: Input should be 'grey', 'orange' or 'blue'",
        f"{file}: labels[0].at[1]: Input should be less than or equal to 600",
    ]


def test_a_place_that_is_neither_joint_nor_point_is_refused(folder: Path) -> None:
    file = folder / "pictures" / "seated_twist_right.yaml"
    edit(file, "{through: [neck, head], width: 9}", "{through: [neck, [0, 80]], width: 9}")
    assert problems(folder) == [
        f"{file}: parts[3].through[1]: [0, 80] is neither a joint's name (lower case, like "
        "r_knee) nor a point [x, y, z] in centimetres"
    ]


def test_broken_yaml_in_a_picture_names_the_line(folder: Path) -> None:
    file = folder / "pictures" / "side_lying_right.yaml"
    edit(file, "  r_knee: [10, 61, -4]", "  r_knee: [10, 61, -4")
    (problem,) = problems(folder)
    assert problem.startswith(f"{file}: line ")
    assert "not valid YAML" in problem


def test_a_label_without_its_text_is_refused(folder: Path) -> None:
    """A label the picture draws must have its words in the language file."""
    edit(folder / "en.yaml", '    hand: "Right hand holds on"\n', "")
    assert problems(folder) == [
        f"{folder / 'en.yaml'}: pictures.side_lying_left.hand: missing (the picture's label "
        "pictures/side_lying_right.yaml labels[3] uses it)"
    ]


def test_a_mirror_of_a_mirror_is_refused(folder: Path) -> None:
    (folder / "pictures" / "side_lying_left.yaml").write_text("mirror_of: seated_twist_left\n")
    assert problems(folder) == [
        f"{folder / 'pictures' / 'side_lying_left.yaml'}: mirror_of: 'seated_twist_left' is "
        "itself a mirror; name the picture it mirrors"
    ]


def test_a_picture_per_side(folder: Path) -> None:
    edit(
        folder / "routine.yaml",
        "pictures: [seated_twist_right, seated_twist_left]",
        "pictures: [seated_twist_right]",
    )
    assert problems(folder) == [
        f"{folder / 'routine.yaml'}: exercises[0]: pictures: has 1 picture(s) for 2 side(s); "
        "give one per side"
    ]


def test_check_content_names_a_broken_picture(
    folder: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file = folder / "pictures" / "seated_twist_right.yaml"
    edit(file, "yaw: -80", "yaw: -280")
    assert main(["check-content", str(folder)]) == 2
    assert (
        f"{file}: camera.yaw: Input should be greater than or equal to -180"
        in capsys.readouterr().err
    )
