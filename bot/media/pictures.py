"""Pictures of the positions, drawn from their sources in content/pictures/ (Pillow).

    png = render("seated_twist_right", content.texts(locale), content.pictures)

The same source and texts always give the same bytes. Every word in a picture comes from the
language file (pictures.<picture id>.<label>); the style (colours, line widths, font) is here,
the same for every picture. To look at every picture after editing a source:

    python -m bot.media.pictures [content folder] [output folder] [--locale en]
"""

from __future__ import annotations

import argparse
import io
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from bot.core.content import Content, drawing_of, load_content
from bot.core.content_models import Texts
from bot.core.picture_models import (
    HEIGHT,
    WIDTH,
    Arrow,
    Box,
    Camera,
    Colour,
    Drawing,
    Mirror,
    Part,
    PictureLabel,
    PictureSource,
    Place,
    Point,
)

# Drawn this many times larger, then scaled down: smooth edges without anti-aliased drawing.
_SS = 3

RGB = tuple[int, int, int]
_BACKGROUND: RGB = (255, 255, 255)
_INK: RGB = (33, 37, 41)
_COLOURS: dict[Colour, RGB] = {
    "grey": (72, 80, 92),
    "orange": (226, 100, 30),
    "blue": (38, 110, 190),
}
# How much of the background a far part takes on: 0 none, 1 all.
_FAR_FADE = 0.55
# A rim of background around every part, so a part in front of another stands apart.
_HALO_PX = 3.0
_FLOOR: RGB = (226, 230, 235)
_BED_FACES: dict[str, RGB] = {"top": (236, 226, 208), "side": (205, 188, 160)}
_BED_EDGE: RGB = (150, 130, 100)
_ARROW_PX = 6.0
_LABEL_FONT_PX = 25
_LABEL_MAX_WIDTH_PX = 250
_LABEL_PAD_PX = 8


@dataclass(frozen=True)
class _View:
    camera: Camera
    mirrored: bool

    def project(self, point: Point) -> tuple[float, float]:
        """Where a point lands in the (supersampled) picture."""
        yaw, pitch = math.radians(self.camera.yaw), math.radians(self.camera.pitch)
        x, y, z = point
        across = x * math.cos(yaw) - z * math.sin(yaw)
        up = (
            -x * math.sin(yaw) * math.sin(pitch)
            + y * math.cos(pitch)
            - z * math.cos(yaw) * math.sin(pitch)
        )
        ox, oy = self.camera.origin
        sx = ox + self.camera.scale * across
        if self.mirrored:
            sx = WIDTH - sx
        return sx * _SS, (oy - self.camera.scale * up) * _SS

    def towards_camera(self) -> tuple[float, float, float]:
        yaw, pitch = math.radians(self.camera.yaw), math.radians(self.camera.pitch)
        return (
            math.sin(yaw) * math.cos(pitch),
            math.sin(pitch),
            math.cos(yaw) * math.cos(pitch),
        )


def render(picture_id: str, texts: Texts, pictures: Mapping[str, PictureSource]) -> bytes:
    """The picture as an 800x600 PNG, with its labels in the language of `texts`.

    `pictures` is Content.pictures (a loaded, checked content folder); a picture or label
    missing there raises KeyError.
    """
    drawing = drawing_of(picture_id, pictures)
    if drawing is None:
        raise KeyError(f"no picture {picture_id!r} (pictures: {', '.join(sorted(pictures))})")
    words = texts.pictures.get(picture_id, {})
    for label in drawing.labels:
        if label.text not in words:
            raise KeyError(f"no text pictures.{picture_id}.{label.text} in the language file")
    view = _View(drawing.camera, mirrored=isinstance(pictures[picture_id], Mirror))
    image = Image.new("RGB", (WIDTH * _SS, HEIGHT * _SS), _BACKGROUND)
    draw = ImageDraw.Draw(image)
    for item in drawing.scenery:
        if item.polygon is not None:
            draw.polygon([view.project(p) for p in item.polygon], fill=_FLOOR)
        if item.box is not None:
            _box(draw, view, item.box)
    for part in drawing.parts:
        _part(draw, view, drawing, part)
    for arrow in drawing.arrows:
        _arrow(draw, view, drawing, arrow)
    font = _font(_LABEL_FONT_PX * _SS)
    for label in drawing.labels:
        _label(draw, view, drawing, label, words[label.text], font)
    small = image.resize((WIDTH, HEIGHT), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    small.save(out, format="PNG")
    return out.getvalue()


def _font(size: int) -> ImageFont.FreeTypeFont:
    # Pillow's own bundled font: the same on every machine, no system fonts needed.
    font = ImageFont.load_default(size=size)
    if not isinstance(font, ImageFont.FreeTypeFont):
        raise RuntimeError("this Pillow has no FreeType support; install Pillow from PyPI")
    return font


def undrawable(texts: Texts) -> list[str]:
    """The labels of a language with a letter the picture font lacks (drawn as an empty box):
    "pictures.<picture>.<label>: ..."."""
    font = _font(_LABEL_FONT_PX)
    nothing = bytes(font.getmask("\u0378"))  # an unassigned code point: the "missing" box
    found = []
    for picture, labels in texts.pictures.items():
        for key, text in labels.items():
            missing = sorted(
                {c for c in text if not c.isspace() and bytes(font.getmask(c)) == nothing}
            )
            if missing:
                found.append(
                    f"pictures.{picture}.{key}: the pictures' font has no {', '.join(missing)}; "
                    "it would be drawn as an empty box"
                )
    return found


def _place(drawing: Drawing, place: Place) -> Point:
    return drawing.joints[place] if isinstance(place, str) else place


def _colour(colour: Colour, far: bool = False) -> RGB:
    rgb = _COLOURS[colour]
    if not far:
        return rgb
    r, g, b = (round(c + (bg - c) * _FAR_FADE) for c, bg in zip(rgb, _BACKGROUND, strict=True))
    return (r, g, b)


def _dot(draw: ImageDraw.ImageDraw, xy: tuple[float, float], radius: float, fill: RGB) -> None:
    x, y = xy
    draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=fill)


def _stroke(
    draw: ImageDraw.ImageDraw, points: Sequence[tuple[float, float]], width: float, fill: RGB
) -> None:
    """A thick line with round ends and joints."""
    if len(points) > 1:
        draw.line(list(points), fill=fill, width=round(width), joint="curve")
    for p in points:
        _dot(draw, p, width / 2, fill)


def _part(draw: ImageDraw.ImageDraw, view: _View, drawing: Drawing, part: Part) -> None:
    points = [view.project(_place(drawing, p)) for p in part.through]
    width = part.width * drawing.camera.scale * _SS
    halo = _HALO_PX * _SS
    fill = _colour(part.colour, part.far)
    if part.shape == "circle":
        _dot(draw, points[0], width / 2 + halo, _BACKGROUND)
        _dot(draw, points[0], width / 2, fill)
    elif part.shape == "polygon":
        ring = [*points, points[0]]
        corner = 4 * drawing.camera.scale * _SS  # rounded corners
        _stroke(draw, ring, 2 * corner + 2 * halo, _BACKGROUND)
        draw.polygon(points, fill=_BACKGROUND)
        _stroke(draw, ring, 2 * corner, fill)
        draw.polygon(points, fill=fill)
    else:
        _stroke(draw, points, width + 2 * halo, _BACKGROUND)
        _stroke(draw, points, width, fill)


def _box(draw: ImageDraw.ImageDraw, view: _View, box: Box) -> None:
    (x0, y0, z0), (x1, y1, z1) = box.corner, box.opposite
    xs, ys, zs = sorted((x0, x1)), sorted((y0, y1)), sorted((z0, z1))
    eye = view.towards_camera()
    faces: list[tuple[tuple[float, float, float], list[Point], str]] = []
    for axis in range(3):
        for end, sign in ((0, -1.0), (1, 1.0)):
            normal = tuple(sign if a == axis else 0.0 for a in range(3))
            corners: list[Point] = []
            for u, v in ((0, 0), (0, 1), (1, 1), (1, 0)):
                pick = [0, 0, 0]
                others = [a for a in range(3) if a != axis]
                pick[axis], pick[others[0]], pick[others[1]] = end, u, v
                corners.append((xs[pick[0]], ys[pick[1]], zs[pick[2]]))
            kind = "top" if axis == 1 else "side"
            faces.append(((normal[0], normal[1], normal[2]), corners, kind))
    for normal, corners, kind in faces:
        if sum(n * e for n, e in zip(normal, eye, strict=True)) <= 1e-9:
            continue
        points = [view.project(c) for c in corners]
        draw.polygon(points, fill=_BED_FACES[kind])
        draw.line([*points, points[0]], fill=_BED_EDGE, width=2 * _SS, joint="curve")


def _arrow(draw: ImageDraw.ImageDraw, view: _View, drawing: Drawing, arrow: Arrow) -> None:
    if arrow.around is not None:
        cx, cy, cz = _place(drawing, arrow.around.centre)
        a, b = arrow.around.start, arrow.around.end
        steps = max(8, int(abs(b - a) / 3))
        path3 = [
            (
                cx - arrow.around.radius * math.sin(math.radians(a + (b - a) * i / steps)),
                cy,
                cz + arrow.around.radius * math.cos(math.radians(a + (b - a) * i / steps)),
            )
            for i in range(steps + 1)
        ]
        points = [view.project(p) for p in path3]
    else:
        points = list(_smooth([view.project(_place(drawing, p)) for p in arrow.through or ()]))
    width = _ARROW_PX * _SS
    head = 4.2 * width
    # Stop the line short of the tip so the head's point stays sharp.
    tip = points[-1]
    while len(points) > 2 and math.dist(points[-2], tip) < head * 0.8:
        points.pop(-2)
    back = points[-2]
    dx, dy = tip[0] - back[0], tip[1] - back[1]
    length = math.hypot(dx, dy) or 1.0
    ux, uy = dx / length, dy / length
    base = (tip[0] - ux * head, tip[1] - uy * head)
    wing = (-uy * head * 0.55, ux * head * 0.55)
    triangle = [tip, (base[0] + wing[0], base[1] + wing[1]), (base[0] - wing[0], base[1] - wing[1])]
    line = [*points[:-1], (tip[0] - ux * head * 0.6, tip[1] - uy * head * 0.6)]
    halo = _HALO_PX * _SS
    fill = _COLOURS[arrow.colour]
    _stroke(draw, line, width + 2 * halo, _BACKGROUND)
    draw.polygon(triangle, fill=_BACKGROUND, outline=_BACKGROUND, width=round(2 * halo))
    _stroke(draw, line, width, fill)
    draw.polygon(triangle, fill=fill)


def _smooth(points: Sequence[tuple[float, float]]) -> Iterator[tuple[float, float]]:
    """A Catmull-Rom curve through the points."""
    if len(points) < 3:
        yield from points
        return
    padded = [points[0], *points, points[-1]]
    for i in range(1, len(padded) - 2):
        p0, p1, p2, p3 = padded[i - 1 : i + 3]
        for step in range(12):
            t = step / 12
            yield (
                _catmull(p0[0], p1[0], p2[0], p3[0], t),
                _catmull(p0[1], p1[1], p2[1], p3[1], t),
            )
    yield points[-1]


def _catmull(a: float, b: float, c: float, d: float, t: float) -> float:
    return 0.5 * (
        2 * b + (c - a) * t + (2 * a - 5 * b + 4 * c - d) * t * t + (3 * b - a - 3 * c + d) * t**3
    )


def _wrap(text: str, font: ImageFont.FreeTypeFont, width: float) -> list[str]:
    lines: list[str] = []
    for word in text.split():
        if lines and font.getlength(f"{lines[-1]} {word}") <= width:
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(word)
    return lines


def _label(
    draw: ImageDraw.ImageDraw,
    view: _View,
    drawing: Drawing,
    label: PictureLabel,
    text: str,
    font: ImageFont.FreeTypeFont,
) -> None:
    lines = _wrap(text, font, _LABEL_MAX_WIDTH_PX * _SS)
    ascent, descent = font.getmetrics()
    line_height = ascent + descent
    text_width = max(font.getlength(line) for line in lines)
    pad = _LABEL_PAD_PX * _SS
    x, y = label.at
    if view.mirrored:
        x = WIDTH - x
    half_w, half_h = text_width / 2 + pad, line_height * len(lines) / 2 + pad * 0.75
    # A longer text (a translation) grows the box around `at`, but never out of the picture.
    margin = 4 * _SS
    cx = min(max(x * _SS, half_w + margin), WIDTH * _SS - half_w - margin)
    cy = min(max(y * _SS, half_h + margin), HEIGHT * _SS - half_h - margin)
    box = (cx - half_w, cy - half_h, cx + half_w, cy + half_h)
    colour = _COLOURS[label.colour]
    anchor = view.project(_place(drawing, label.points_to))
    edge = _edge_towards(box, anchor)
    halo = _HALO_PX * _SS
    if edge is not None:
        _stroke(draw, [edge, anchor], 2.5 * _SS + 2 * halo, _BACKGROUND)
        _stroke(draw, [edge, anchor], 2.5 * _SS, colour)
        _dot(draw, anchor, 5.5 * _SS + halo, _BACKGROUND)
        _dot(draw, anchor, 5.5 * _SS, colour)
    draw.rounded_rectangle(box, radius=8 * _SS, fill=_BACKGROUND, outline=colour, width=3 * _SS)
    for i, line in enumerate(lines):
        draw.text(
            (cx, box[1] + pad * 0.75 + line_height * (i + 0.5)),
            line,
            font=font,
            fill=_INK,
            anchor="mm",
        )


def _edge_towards(
    box: tuple[float, float, float, float], target: tuple[float, float]
) -> tuple[float, float] | None:
    """Where the line from the box's centre to the target leaves the box (None: inside)."""
    x0, y0, x1, y1 = box
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    dx, dy = target[0] - cx, target[1] - cy
    if x0 <= target[0] <= x1 and y0 <= target[1] <= y1:
        return None
    scale = min(
        (x1 - cx) / abs(dx) if dx else math.inf,
        (y1 - cy) / abs(dy) if dy else math.inf,
    )
    return cx + dx * scale, cy + dy * scale


def render_all(content: Content, locale: str | None, folder: Path) -> list[Path]:
    """Every picture the routine names, as <folder>/<picture id>.png."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    texts = content.texts(locale)
    for exercise in content.routine.exercises:
        for picture_id in exercise.pictures:
            path = folder / f"{picture_id}.png"
            path.write_bytes(render(picture_id, texts, content.pictures))
            written.append(path)
    return written


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bot.media.pictures",
        description="Draw every picture of a content folder to PNG files, to look at them.",
    )
    parser.add_argument("content", nargs="?", type=Path, help="default: the bundled content/")
    parser.add_argument("output", nargs="?", type=Path, default=Path("pictures"))
    parser.add_argument("--locale", default="en")
    args = parser.parse_args(argv)
    for path in render_all(load_content(args.content), args.locale, args.output):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
