"""The shape of a picture's source: content/pictures/<picture id>.yaml.

A picture is a figure drawn from joints placed in 3-D (centimetres, y up, the floor at y = 0),
seen through a camera, with the floor or a bed, arrows and labels. Its label texts live in the
language files (`pictures.<picture id>.<label>`), never here. A picture may instead be the
mirror image of another (`mirror_of`), with its own label texts.

Checking that the names used inside a picture exist (joints, pictures) is `reference_problems`;
loading the files is bot.core.content's job, drawing them bot.media.pictures'.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainValidator, model_validator

# The size of every picture, in pixels: label positions (`at`) are given in this frame.
WIDTH = 800
HEIGHT = 600

_NAME = r"^[a-z][a-z0-9_]{0,30}$"
Name = Annotated[str, Field(pattern=_NAME)]


def _is_point(value: Any) -> bool:
    return (
        isinstance(value, list | tuple)
        and len(value) == 3
        and all(isinstance(v, int | float) and not isinstance(v, bool) for v in value)
        and all(-1000 <= v <= 1000 for v in value)
    )


def _point(value: Any) -> tuple[float, float, float]:
    if not _is_point(value):
        raise ValueError(
            f"{value!r} is not a point [x, y, z]: three numbers from -1000 to 1000 (centimetres)"
        )
    return (float(value[0]), float(value[1]), float(value[2]))


def _place(value: Any) -> str | tuple[float, float, float]:
    """A joint's name or a point [x, y, z], with one plain message when it is neither."""
    if isinstance(value, str) and re.match(_NAME, value):
        return value
    if _is_point(value):
        return _point(value)
    raise ValueError(
        f"{value!r} is neither a joint's name (lower case, like r_knee) nor a point "
        "[x, y, z] in centimetres"
    )


# A point written out as [x, y, z], in centimetres.
Point = Annotated[tuple[float, float, float], PlainValidator(_point)]
# A joint's name, or a point written out as [x, y, z].
Place = Annotated[str | tuple[float, float, float], PlainValidator(_place)]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Camera(_Frozen):
    """Where the figure is seen from; the projection has no perspective (parallel lines stay)."""

    # Degrees around the vertical: 0 looks from +z (x to the right), -90 from -x, 90 from +x.
    yaw: float = Field(ge=-180, le=180)
    # Degrees above the horizontal: 0 at eye level, 90 straight down.
    pitch: float = Field(ge=-89, le=89)
    # Pixels per centimetre.
    scale: float = Field(gt=0, le=20)
    # Where the point [0, 0, 0] lands in the picture, in pixels from the top-left corner.
    origin: tuple[Annotated[float, Field(ge=0, le=WIDTH)], Annotated[float, Field(ge=0, le=HEIGHT)]]


# Grey for the trunk and head; orange and blue tell the two sides of the body apart (the same
# meaning in a picture and in its mirror image, so a side keeps its colour).
Colour = Literal["grey", "orange", "blue"]


class Part(_Frozen):
    """A part of the figure: a rounded limb through joints, a filled shape, or a circle."""

    shape: Literal["limb", "polygon", "circle"] = "limb"
    through: tuple[Place, ...] = Field(min_length=1)
    # Thickness of a limb or diameter of a circle, in centimetres.
    width: float = Field(default=10, gt=0, le=60)
    colour: Colour = "grey"
    # On the far side of the body: drawn lighter, so the near side stands out.
    far: bool = False

    @model_validator(mode="after")
    def _points(self) -> Part:
        least = {"limb": 2, "polygon": 3, "circle": 1}[self.shape]
        if self.shape == "circle" and len(self.through) != 1:
            raise ValueError("a circle goes through exactly one joint (its centre)")
        if len(self.through) < least:
            raise ValueError(f"a {self.shape} goes through at least {least} joints")
        return self


class Box(_Frozen):
    """An upright box (a bed, a table) from one corner to the opposite one."""

    corner: Point
    opposite: Point


class Scenery(_Frozen):
    """What the figure sits or lies on: a flat shape on the floor, or a box."""

    polygon: tuple[Point, ...] | None = Field(default=None, min_length=3)
    box: Box | None = None
    kind: Literal["floor", "bed"] = "floor"

    @model_validator(mode="after")
    def _one(self) -> Scenery:
        if (self.polygon is None) == (self.box is None):
            raise ValueError("give exactly one of `polygon` or `box`")
        return self


class Around(_Frozen):
    """An arc around an upright axis: a turn. Angles in degrees: 0 points to +z, 90 to -x (for
    a figure facing +z, its front and its right); the arrow runs from `start` to `end`."""

    centre: Place
    radius: float = Field(gt=0, le=200)
    start: float = Field(ge=-360, le=360)
    end: float = Field(ge=-360, le=360)

    @model_validator(mode="after")
    def _length(self) -> Around:
        if abs(self.end - self.start) < 10:
            raise ValueError("the arc must span at least 10 degrees")
        return self


class Arrow(_Frozen):
    """An arrow along a smooth curve through points (head at the last), or around an axis."""

    through: tuple[Place, ...] | None = Field(default=None, min_length=2)
    around: Around | None = None
    colour: Colour = "grey"

    @model_validator(mode="after")
    def _one(self) -> Arrow:
        if (self.through is None) == (self.around is None):
            raise ValueError("give exactly one of `through` or `around`")
        return self


class PictureLabel(_Frozen):
    """A short text (from the language file) in a box, with a line to what it names."""

    # The key under pictures.<picture id> in the language files.
    text: Name
    points_to: Place
    # The centre of the label's box, in pixels from the top-left corner.
    at: tuple[Annotated[float, Field(ge=0, le=WIDTH)], Annotated[float, Field(ge=0, le=HEIGHT)]]
    colour: Colour = "grey"


class Drawing(_Frozen):
    """A picture drawn from its own joints (content/pictures/<id>.yaml)."""

    camera: Camera
    joints: Mapping[Name, Point] = Field(min_length=1)
    scenery: tuple[Scenery, ...] = ()
    # Painted in this order: a later part covers an earlier one.
    parts: tuple[Part, ...] = Field(min_length=1)
    arrows: tuple[Arrow, ...] = ()
    labels: tuple[PictureLabel, ...] = ()

    @model_validator(mode="after")
    def _unique_labels(self) -> Drawing:
        keys = [label.text for label in self.labels]
        dupes = sorted({k for k in keys if keys.count(k) > 1})
        if dupes:
            raise ValueError(f"label text {dupes[0]!r} is used twice")
        return self


class Mirror(_Frozen):
    """A picture that is another one seen in a mirror: left and right swapped.

    Only the drawing is mirrored; its labels are this picture's own texts
    (pictures.<this id> in the language files), written the right way round.
    """

    mirror_of: Name


PictureSource = Drawing | Mirror


def parse_picture(raw: Any) -> PictureSource:
    """A picture file's YAML as a Drawing, or as a Mirror when it names `mirror_of`."""
    if isinstance(raw, dict) and "mirror_of" in raw:
        return Mirror.model_validate(raw)
    return Drawing.model_validate(raw)


def reference_problems(drawing: Drawing) -> list[tuple[str, str]]:
    """(path, problem) for every joint a drawing names but does not define."""
    known = ", ".join(sorted(drawing.joints))
    found: list[tuple[str, str]] = []

    def check(place: Place, path: str) -> None:
        if isinstance(place, str) and place not in drawing.joints:
            found.append((path, f"no joint {place!r} (joints: {known})"))

    for i, part in enumerate(drawing.parts):
        for j, place in enumerate(part.through):
            check(place, f"parts[{i}].through[{j}]")
    for i, arrow in enumerate(drawing.arrows):
        for j, place in enumerate(arrow.through or ()):
            check(place, f"arrows[{i}].through[{j}]")
        if arrow.around is not None:
            check(arrow.around.centre, f"arrows[{i}].around.centre")
    for i, label in enumerate(drawing.labels):
        check(label.points_to, f"labels[{i}].points_to")
    return found
