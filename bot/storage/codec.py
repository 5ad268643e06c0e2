"""A chat's state as stored JSON, each document tagged with its format version.

Old and new releases overlap during a deploy, so every reader takes what it knows: a field it
does not know is ignored, a missing one takes its default, and a document in an older format is
read by that format's rules. Renaming a field means a new version number and a rule here.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, fields
from datetime import time
from typing import Any

from bot.core.events import History
from bot.core.reminder_types import Draft, Reminder
from bot.core.safety import Safety, StopMark
from bot.core.state import ChatState, PainMark, Phase, Prefs, Progress, RoutineState
from bot.core.times import parse_days_key
from bot.storage.protocols import Pending, RoutineRecord

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


# --- rows, as every store reads them (the SQL differs; what a row means does not) ----------

# The columns of a chat's state, in the order `chat_state` reads them.
CHAT_STATE_COLUMNS = (
    "locale, consent_version, consent_at, declined_at, routine, safety, reminders_paused, "
    "timezone, last_press, prefs, progress"
)
# The columns of a reminder, in the order `reminder_from_row` reads them.
REMINDER_COLUMNS = "id, local_time, days, next_due, snooze_at, retry_at, retry_of"
# The columns of a routine of the history, in the order `routine_record` reads them.
ROUTINE_COLUMNS = "begun_at, ended_at, outcome, holds, pain_before, pain_after"


def chat_state(row: Sequence[Any] | None) -> ChatState:
    """A chat's state from its CHAT_STATE_COLUMNS (no row: a chat never seen)."""
    if row is None:
        return ChatState()
    return ChatState(
        locale=row[0],
        consent_version=row[1],
        consent_at=row[2],
        declined_at=row[3],
        routine=load_routine(row[4]),
        safety=load_safety(row[5]),
        reminders_paused=bool(row[6]),
        timezone=row[7],
        last_press=row[8],
        prefs=load_prefs(row[9]),
        progress=load_progress(row[10]),
    )


def reminder_from_row(row: Sequence[Any]) -> Reminder:
    """A reminder from its REMINDER_COLUMNS."""
    hh, mm = str(row[1]).split(":")
    return Reminder(
        id=int(row[0]),
        local_time=time(int(hh), int(mm)),
        days=parse_days_key(str(row[2])),
        next_due=float(row[3]),
        snooze_at=None if row[4] is None else float(row[4]),
        retry_at=None if row[5] is None else float(row[5]),
        retry_of=None if row[6] is None else float(row[6]),
    )


def routine_record(row: Sequence[Any]) -> RoutineRecord:
    """A routine of the history from its ROUTINE_COLUMNS."""
    return RoutineRecord(
        float(row[0]),
        None if row[1] is None else float(row[1]),
        row[2],
        tuple((int(i), int(s)) for i, s in json.loads(row[3] or "[]")),
        row[4],
        row[5],
    )


def dump_holds(history: History) -> str:
    """What an ended routine held: [[stretch, seconds], ...]."""
    return json.dumps([list(h) for h in history.holds])
