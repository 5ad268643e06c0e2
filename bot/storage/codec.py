"""A chat's state as stored JSON, each document tagged with its format version.

Old and new releases overlap during a deploy, so every reader takes what it knows: a field it
does not know is ignored, a missing one takes its default, and a document in an older format is
read by that format's rules. Renaming a field means a new version number and a rule here.
"""

from __future__ import annotations

import json
from dataclasses import asdict, fields
from typing import Any

from bot.core.reminder_types import Draft
from bot.core.safety import Safety, StopMark
from bot.core.state import PainMark, Phase, Prefs, Progress, RoutineState
from bot.storage.protocols import Pending

# The versions written now; a document without "v" is version 1 (the first release wrote none).
ROUTINE_FORMAT = 1
SAFETY_FORMAT = 1
DRAFT_FORMAT = 1
PENDING_FORMAT = 1
PREFS_FORMAT = 1
PROGRESS_FORMAT = 1


def _flat(record: Any) -> dict[str, Any]:
    """A dataclass of plain values (and tuples of them) as a dict: what asdict gives for these,
    without its deep copy (a routine step writes one of these for each effect)."""
    return {f.name: getattr(record, f.name) for f in fields(record)}


def _dumps(version: int, data: dict[str, Any]) -> str:
    return json.dumps({"v": version, **data}, separators=(",", ":"))


def _loads(raw: str) -> tuple[int, dict[str, Any]]:
    data: dict[str, Any] = json.loads(raw)
    return int(data.pop("v", 1)), data


def dump_routine(routine: RoutineState | None) -> str | None:
    """The routine's progress (None when no routine runs)."""
    return None if routine is None else _dumps(ROUTINE_FORMAT, _flat(routine))


def load_routine(raw: str | None) -> RoutineState | None:
    if not raw:
        return None
    _, data = _loads(raw)
    known = {f.name for f in fields(RoutineState)}
    data = {k: v for k, v in data.items() if k in known}
    for name in ("ticks", "done", "held"):
        data[name] = tuple(data.get(name, ()))
    return RoutineState(**(data | {"phase": Phase(data["phase"])}))


def dump_safety(safety: Safety) -> str | None:
    return None if safety == Safety() else _dumps(SAFETY_FORMAT, asdict(safety))


def load_safety(raw: str | None) -> Safety:
    if not raw:
        return Safety()
    _, data = _loads(raw)
    return Safety(
        screened_at=data.get("screened_at"),
        version=data.get("version"),
        flag=data.get("flag"),
        conditions=tuple(data.get("conditions", ())),
        stops=tuple(StopMark(float(s["at"]), str(s["exercise_id"])) for s in data.get("stops", ())),
    )


def dump_draft(draft: Draft) -> str | None:
    return None if draft == Draft() else _dumps(DRAFT_FORMAT, asdict(draft))


def load_draft(raw: str | None) -> Draft:
    if not raw:
        return Draft()
    _, data = _loads(raw)
    return Draft(
        data.get("waiting_for"),
        data.get("time"),
        tuple(data.get("days", ())),
        float(data.get("since", 0.0)),
    )


def dump_pending(effects: tuple[Pending, ...]) -> str | None:
    if not effects:
        return None
    return _dumps(PENDING_FORMAT, {"effects": [_flat(e) for e in effects]})


def load_pending(raw: str | None) -> tuple[Pending, ...]:
    if not raw:
        return ()
    _, data = _loads(raw)
    return tuple(
        Pending(
            kind=e["kind"],
            text=e["text"],
            buttons=tuple((b[0], b[1], b[2]) for b in e.get("buttons", ())),
            message_id=e.get("message_id"),
            countdown=bool(e.get("countdown", False)),
            attempted=bool(e.get("attempted", False)),
            picture=e.get("picture"),
        )
        for e in data.get("effects", ())
    )


def dump_prefs(prefs: Prefs) -> str | None:
    if prefs == Prefs():
        return None
    return _dumps(PREFS_FORMAT, {**asdict(prefs), "holds": [list(h) for h in prefs.holds]})


def load_prefs(raw: str | None) -> Prefs:
    if not raw:
        return Prefs()
    _, data = _loads(raw)
    return Prefs(
        holds=tuple((str(e), int(s)) for e, s in data.get("holds", ())),
        rest_seconds=data.get("rest_seconds"),
        get_ready_seconds=data.get("get_ready_seconds"),
        countdown_edits=bool(data.get("countdown_edits", True)),
        ask_pain=data.get("ask_pain"),
        language=data.get("language"),
    )


def dump_progress(progress: Progress) -> str | None:
    if progress == Progress():
        return None
    return _dumps(PROGRESS_FORMAT, asdict(progress))


def load_progress(raw: str | None) -> Progress:
    if not raw:
        return Progress()
    _, data = _loads(raw)
    return Progress(
        begun_at=data.get("begun_at"),
        pain_before=data.get("pain_before"),
        recent=tuple(
            PainMark(float(m["at"]), m.get("before"), m.get("after"))
            for m in data.get("recent", ())
        ),
        advised_at=data.get("advised_at"),
    )
