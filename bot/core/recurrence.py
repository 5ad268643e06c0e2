"""When a daily reminder is due: the next instant of a local time on chosen weekdays, across
daylight-saving changes, and what to do with one that is late. Every "now" is a parameter."""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from bot.core.times import EVERY_DAY

__all__ = [
    "late_policy",
    "next_due",
    "upcoming",
]

# --------------------------------------------------------------------------------------
# When is the next reminder due?
# --------------------------------------------------------------------------------------


def require_aware(value: datetime, name: str) -> None:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} must be a timezone-aware datetime, got {value!r}")


def _wall_instant(day: date, local_time: time, tz: ZoneInfo) -> datetime:
    # fold=0 gives exactly the documented DST policy (PEP 495): in a gap it applies the
    # offset from before the transition, which lands gap-length later on the wall clock;
    # in a repeated hour it picks the first occurrence.
    return datetime.combine(day, local_time, tzinfo=tz).astimezone(UTC)


def next_due(local_time: time, days: Collection[int], tz: ZoneInfo, after: datetime) -> datetime:
    """Return the first instant strictly after ``after`` at which a reminder is due.

    The reminder is due when the wall clock in ``tz`` shows ``local_time`` on a local
    date whose weekday (0 = Monday) is in ``days``. ``after`` must be timezone-aware
    (any zone); the result is an aware datetime in UTC. If ``after`` is exactly a due
    instant, the following occurrence is returned, so feeding the result back in walks
    the schedule.

    Daylight-saving rules:

    * DST changes never move a reminder off its local time: 07:30 stays 07:30 local on
      both sides of a change (its UTC instant moves instead).
    * Spring forward: a local time inside the gap does not exist that day. The reminder
      is not skipped; it fires shifted forward by the gap length (02:30 in Berlin on
      2026-03-29 fires at 03:30 CEST; 02:15 on a Lord Howe change day, whose gap is
      30 minutes, fires at 02:45).
    * Fall back: a local time inside the repeated hour exists twice; the reminder fires
      once, at the first occurrence (fold=0), never twice.
    * Any offset works, including half-hour DST shifts (Australia/Lord_Howe), UTC+14
      (Pacific/Kiritimati, where the UTC date is the previous day) and midnight; weeks
      and year ends are plain calendar arithmetic on local dates.

    Raises :class:`ValueError` for a naive ``after``, an aware ``local_time``, or an empty
    or out-of-range ``days``.
    """
    require_aware(after, "after")
    if local_time.tzinfo is not None:
        raise ValueError("local_time must be a naive wall-clock time")
    chosen = frozenset(days)
    if not chosen or not chosen <= EVERY_DAY:
        raise ValueError(f"days must be a non-empty set of weekdays 0-6: {sorted(days)!r}")
    wall = local_time.replace(fold=0)

    # Scan a window of local dates wide enough that the answer is always inside it, and
    # take the earliest candidate: robust even if a zone skips a whole calendar day.
    start = after.astimezone(tz).date() - timedelta(days=2)
    best: datetime | None = None
    for offset in range(11):
        day = start + timedelta(days=offset)
        if day.weekday() not in chosen:
            continue
        candidate = _wall_instant(day, wall, tz)
        if candidate > after and (best is None or candidate < best):
            best = candidate
    if best is None:  # pragma: no cover - the window always contains an occurrence
        raise RuntimeError("no occurrence found in the search window")
    return best


def upcoming(
    local_time: time, days: Collection[int], tz: ZoneInfo, after: datetime, n: int
) -> list[datetime]:
    """Return the next ``n`` due instants (UTC) after ``after``, in order; see :func:`next_due`."""
    if n < 0:
        raise ValueError("n must be >= 0")
    result: list[datetime] = []
    cursor = after
    for _ in range(n):
        cursor = next_due(local_time, days, tz, cursor)
        result.append(cursor)
    return result


def late_policy(due: datetime, now: datetime, grace: timedelta) -> Literal["send", "skip"]:
    """Decide what to do with a reminder whose due instant has passed (e.g. after downtime).

    "send" if it is at most ``grace`` late (``now - due <= grace``, boundary included),
    otherwise "skip"; on "skip" the caller schedules the next occurrence instead. A
    reminder that is not late at all (``now <= due``) is "send": a job runner firing a
    few milliseconds early must not lose it. Both datetimes must be aware; ``grace``
    must not be negative.
    """
    require_aware(due, "due")
    require_aware(now, "now")
    if grace < timedelta(0):
        raise ValueError("grace must not be negative")
    return "send" if now - due <= grace else "skip"
