"""Safety, pure: what a person told the warning-sign check, their recent Stops, who to call.

The check itself is a phase of the routine (bot.core.routine); this module keeps its record and
rules: when the full check is due again, which exercises a person's answers leave out, whether
the warm-up may use heat, and the emergency and urgent numbers for the country of a time zone
(from the table in content/numbers.yaml; a country not in it gets no number, never a guess).

Knows nothing of Telegram, storage or clocks: time is a parameter.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache

from bot.core.content import Content
from bot.core.content_models import Texts
from bot.core.timezones import tzdata_lines

DAY = 86_400.0
HOUR = 3_600.0


@dataclass(frozen=True)
class StopMark:
    """A Stop pressed during a routine: when, and in which exercise ("warm_up" for the warm-up)."""

    at: float
    exercise_id: str


@dataclass(frozen=True)
class Safety:
    """What a chat answered in its last warning-sign check, and its Stops of recent days."""

    screened_at: float | None = None
    version: str | None = None  # Content.safety_version() of the check that was answered
    flag: str | None = None  # the question answered Yes; the check ended there
    conditions: tuple[str, ...] = ()  # the ticks of the last question
    stops: tuple[StopMark, ...] = field(default_factory=tuple)


class Rules:
    """The safety rules of one content folder, applied to a chat's record at a given time."""

    def __init__(self, content: Content) -> None:
        self.content = content
        self.spec = content.routine.safety
        self.versions = {locale: content.safety_version(locale) for locale in content.locales}
        self.exercise_ids = tuple(e.id for e in content.routine.exercises)

    def version(self, locale: str | None) -> str:
        """The safety version for a user's language (Content.safety_version)."""
        return self.versions[self.content.language(locale)]

    def full_check_due(self, safety: Safety, now: float, locale: str | None) -> bool:
        """The whole check is asked before the first routine, after `recheck_days`, when a safety
        text changed, after a warning sign, and when the last answers left nothing to do."""
        return (
            safety.screened_at is None
            or safety.version != self.version(locale)
            or safety.flag is not None
            or now - safety.screened_at > self.spec.recheck_days * DAY
            or not self.allowed_exercises(safety, now)
        )

    def left_out_by_conditions(self, conditions: tuple[str, ...]) -> frozenset[str]:
        return frozenset(
            name for c in self.spec.conditions if c.id in conditions for name in c.leaves_out
        )

    def stopped_too_often(self, safety: Safety, now: float) -> tuple[str, ...]:
        """Exercises stopped `count` times within `days`: left out until a professional is seen."""
        pattern = self.spec.stop_pattern
        recent = [s.exercise_id for s in safety.stops if now - s.at <= pattern.days * DAY]
        return tuple(e for e in self.exercise_ids if recent.count(e) >= pattern.count)

    def allowed_exercises(self, safety: Safety, now: float) -> tuple[str, ...]:
        left_out = self.left_out_by_conditions(safety.conditions)
        left_out |= set(self.stopped_too_often(safety, now))
        return tuple(e for e in self.exercise_ids if e not in left_out)

    def no_heat(self, safety: Safety, now: float) -> bool:
        """A recent strain or injury: no heat and no vigorous rubbing in the warm-up yet."""
        if safety.screened_at is None:
            return False
        return any(
            c.no_heat_hours is not None
            and c.id in safety.conditions
            and now - safety.screened_at < c.no_heat_hours * HOUR
            for c in self.spec.conditions
        )

    def record_stop(self, safety: Safety, exercise_id: str, now: float) -> Safety:
        """Add a Stop; keep only those recent enough to count towards a pattern."""
        window = self.spec.stop_pattern.days * DAY
        kept = tuple(s for s in safety.stops if now - s.at <= window)
        return Safety(
            safety.screened_at,
            safety.version,
            safety.flag,
            safety.conditions,
            (*kept, StopMark(now, exercise_id)),
        )

    def help_words(self, texts: Texts, timezone: str | None) -> dict[str, str]:
        """{emergency} and {urgent} for the outcome texts, from the country of the time zone."""
        words = texts.safety.numbers
        entry = self.content.numbers.get(country_of_zone(timezone) or "")
        if entry is None:
            return {"emergency": words.emergency_unknown, "urgent": words.urgent_unknown}
        urgent = (
            words.urgent_known.format(name=entry.urgent.name, number=entry.urgent.number)
            if entry.urgent
            else words.urgent_unknown
        )
        return {"emergency": entry.emergency, "urgent": urgent}


def country_of_zone(timezone: str | None) -> str | None:
    """The ISO 3166 country of an IANA zone, from tzdata's zone.tab (None for UTC and the like)."""
    if not timezone:
        return None
    return _zone_countries().get(timezone)


@cache
def _zone_countries() -> dict[str, str]:
    countries: dict[str, str] = {}
    for line in tzdata_lines("zone.tab"):
        fields = line.split("\t")
        if not line.startswith("#") and len(fields) >= 3:
            countries[fields[2]] = fields[0]
    # A link (Europe/Belfast, US/Eastern) is in the country of the zone it names.
    for line in tzdata_lines("tzdata.zi"):
        fields = line.split()
        if len(fields) == 3 and fields[0] == "L" and fields[1] in countries:
            countries.setdefault(fields[2], countries[fields[1]])
    return countries
