"""What a user typed after /timezone, as an IANA zone or suggestions: a key in any case, a city,
a country, an abbreviation or an offset. Place names live in places.yaml beside this module,
loaded and checked once. Pure: the IANA database through zoneinfo/tzdata is its only input."""

from __future__ import annotations

import difflib
import re
import unicodedata
import zoneinfo
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from importlib import resources
from typing import Literal, TypeAlias
from zoneinfo import ZoneInfo

import yaml

from bot.core.recurrence import require_aware

__all__ = [
    "PLACE_ZONES",
    "TimezoneFound",
    "TimezoneIndex",
    "TimezoneMatch",
    "TimezoneMissReason",
    "TimezoneSuggestions",
    "find_timezone",
    "tzdata_lines",
    "utc_offset_label",
]

# --------------------------------------------------------------------------------------
# Time zones
# --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class TimezoneFound:
    """An exact match: ``key`` is the IANA key to store, ``zone`` the loaded zone."""

    key: str
    zone: ZoneInfo


TimezoneMissReason: TypeAlias = Literal[
    "empty",  # nothing was given
    "unknown",  # no such zone or city; ``suggestions`` holds close spellings, maybe none
    "ambiguous",  # a city name under several regions; pick one of ``suggestions``
    "abbreviation",  # "EST", "CET", "IST"...: says nothing about DST; pick a city
]


@dataclass(frozen=True, slots=True)
class TimezoneSuggestions:
    """No exact match; ``suggestions`` holds up to 5 IANA keys to offer, best first."""

    query: str
    reason: TimezoneMissReason
    suggestions: tuple[str, ...]


TimezoneMatch: TypeAlias = TimezoneFound | TimezoneSuggestions

_MAX_SUGGESTIONS = 5
_GEOGRAPHIC_REGIONS = frozenset(
    {
        "Africa",
        "America",
        "Antarctica",
        "Arctic",
        "Asia",
        "Atlantic",
        "Australia",
        "Europe",
        "Indian",
        "Pacific",
    }
)
_EXCLUDED_KEYS = frozenset({"Factory", "localtime", "posixrules", "posix", "right"})
_UTC_KEY = "UTC"


def _normalise_place(text: str) -> str:
    """Lower-case, accents stripped, punctuation and underscores as single spaces."""
    decomposed = unicodedata.normalize("NFKD", text)
    ascii_only = "".join(c for c in decomposed if not unicodedata.combining(c)).lower()
    return " ".join(re.sub(r"[^a-z0-9]+", " ", ascii_only).split())


def _city_of(key: str) -> str:
    return _normalise_place(key.rsplit("/", 1)[-1])


# --- Curated places -------------------------------------------------------------------


@dataclass(frozen=True)
class _Places:
    """The curated place names of places.yaml (beside this module)."""

    one_zone: Mapping[str, tuple[str, ...]]
    several_zones: Mapping[str, tuple[str, ...]]
    major_zones: tuple[str, ...]
    abbreviations: Mapping[str, tuple[str, ...]]


PLACES_FILE = "places.yaml"


def _load_places() -> _Places:
    """Read places.yaml once; every zone it names must exist in the IANA database."""
    data = yaml.safe_load(resources.files("bot.core").joinpath(PLACES_FILE).read_text("utf-8"))
    places = _Places(
        one_zone={zone: tuple(names) for zone, names in data["one_zone"].items()},
        several_zones={name: tuple(zones) for name, zones in data["several_zones"].items()},
        major_zones=tuple(data["major_zones"]),
        abbreviations={
            name.upper(): tuple(group["zones"])
            for group in data["abbreviations"]
            for name in group["names"]
        },
    )
    known = zoneinfo.available_timezones()
    named = [*places.one_zone, *(z for zs in places.several_zones.values() for z in zs)]
    named += [z for zs in places.abbreviations.values() for z in zs]
    unknown = sorted({z for z in [*named, *places.major_zones] if z not in known})
    if unknown:
        raise ValueError(f"{PLACES_FILE}: unknown time zones: {', '.join(unknown)}")
    return places


_PLACES = _load_places()


def _build_places(
    one: Mapping[str, tuple[str, ...]], several: Mapping[str, tuple[str, ...]]
) -> dict[str, tuple[str, ...]]:
    table: dict[str, tuple[str, ...]] = {}
    entries = [(name, (zone,)) for zone, names in one.items() for name in names]
    for raw, zones in [*entries, *several.items()]:
        name = _normalise_place(raw)
        if name in table or name != raw:
            raise ValueError(f"place listed twice or not normalised: {raw!r}")
        table[name] = zones
    return table


_MAJOR_ZONES: tuple[str, ...] = _PLACES.major_zones
PLACE_ZONES: Mapping[str, tuple[str, ...]] = _build_places(_PLACES.one_zone, _PLACES.several_zones)
"""Curated place names -> zones, consulted before the city parts of IANA keys.

Keys are normalised names (lower case, ASCII, single spaces; see ``_normalise_place``):
cities, metro areas and short forms ("nyc", "la", "sf", "dc") that are not the city of
a key, old spellings of key cities, and countries or regions. One zone means an exact
match; several (countries spanning zones, names shared by distant places) mean reason
"ambiguous" with those zones offered, most populous first. Typed without spaces
("sanfrancisco") the names match too.
"""


# --- Abbreviations and offsets ------------------------------------------------------------

# Names of UTC itself (compared upper-case, spaces removed): the exact zone "UTC".
_UTC_NAMES = frozenset(
    {"UTC", "UCT", "Z", "ZULU", "UNIVERSAL", "ETC/UTC", "ETC/UCT", "ETC/UNIVERSAL", "ETC/ZULU"}
)
# Abbreviations that name an offset rather than a place (places.yaml, `abbreviations`).
_ABBREVIATION_SUGGESTIONS: Mapping[str, tuple[str, ...]] = _PLACES.abbreviations

# A typed UTC offset ("UTC+2", "GMT-05:00", "+0530", "utc + 5.30"), after removing spaces
# and lower-casing; and an Etc key ("Etc/GMT+2"), whose sign is inverted (POSIX: UTC-2).
_RE_OFFSET = re.compile(r"(?:utc|gmt|z)?(?P<sign>[+-])(?P<h>[0-9]{1,2})(?:[:.h]?(?P<m>[0-9]{2}))?")
_RE_ETC_OFFSET = re.compile(r"etc/gmt(?P<sign>[+-])(?P<h>[0-9]{1,2})")
_DASHES = str.maketrans({"\u2212": "-", "\u2013": "-", "\u2014": "-"})
# Without an ``at`` instant, a zone is "at" an offset if it is so in mid-January or
# mid-July 2026 (standard time first, then summer time): deterministic, and
# covers both hemispheres' daylight saving.
_OFFSET_REFERENCE = (
    datetime(2026, 1, 15, 12, 0, tzinfo=UTC),
    datetime(2026, 7, 15, 12, 0, tzinfo=UTC),
)


def _typed_offsets(compact: str) -> tuple[timedelta, ...] | None:
    """The offsets a compact lower-case query could mean, as written first; None if none.

    "etc/gmt+2" gives (+2 h, -2 h): as written, then in its POSIX meaning. Readings
    outside -12:00..+14:00 or with minutes over 59 are dropped, possibly leaving none.
    """
    etc = _RE_ETC_OFFSET.fullmatch(compact)
    match = etc or _RE_OFFSET.fullmatch(compact)
    if match is None:
        return None
    minutes = int(match.groupdict().get("m") or 0)
    offset = timedelta(hours=int(match["h"]), minutes=minutes)
    if match["sign"] == "-":
        offset = -offset
    readings = (offset, -offset) if etc and offset else (offset,)
    return tuple(
        r for r in readings if minutes <= 59 and timedelta(hours=-12) <= r <= timedelta(hours=14)
    )


# --- Index ------------------------------------------------------------------------------


class TimezoneIndex:
    """Lookup tables over a set of IANA keys; :func:`find_timezone` uses the installed set.

    ``links`` maps alias keys to their target keys (the ``L`` lines of ``tzdata.zi``).
    ``locations`` lists the keys of ``zone.tab``: a link listed there is the current key
    of a place ("Europe/Amsterdam", "Europe/Oslo") and is kept, because tzdata may split
    it off again if its rules ever diverge. Every other link is a *legacy alias*
    ("Australia/Victoria", "US/Pacific", "Europe/Kiev", "Asia/Calcutta"): it never counts
    as a city and is never suggested, but typed as a full key it resolves to its target.
    ``Etc/`` keys are never returned, except as the zone "UTC".
    """

    def __init__(
        self,
        keys: Iterable[str],
        links: Mapping[str, str],
        locations: Collection[str] = (),
    ) -> None:
        all_keys = frozenset(k for k in keys if k not in _EXCLUDED_KEYS)
        self._links = dict(links)
        located = frozenset(locations)
        self.legacy_aliases = frozenset(
            k for k in all_keys if k in self._links and k not in located and k != _UTC_KEY
        )
        """Links that are neither a current place key nor "UTC"; never returned as such."""
        self.storable = frozenset(
            k
            for k in all_keys
            if k.split("/", 1)[0] in _GEOGRAPHIC_REGIONS and k not in self.legacy_aliases
        ) | {_UTC_KEY}
        """Every key :meth:`find` may return, found or suggested."""
        self._by_lower = {k.lower(): k for k in all_keys}
        by_city: dict[str, set[str]] = {}
        for key in self.storable - {_UTC_KEY}:
            city = _city_of(key)
            for name in {city, city.replace(" ", "")}:
                by_city.setdefault(name, set()).add(key)
        self._by_city = {name: tuple(sorted(keys)) for name, keys in by_city.items()}
        # A place naming a zone this index lacks is left out whole, so that an ambiguous
        # place never turns into an exact match.
        places = {
            name: zones
            for name, zones in PLACE_ZONES.items()
            if all(z in self.storable for z in zones)
        }
        for name, zones in list(places.items()):
            places.setdefault(name.replace(" ", ""), zones)
        self._places = places
        self._names = sorted(set(self._by_city) | set(self._places))
        rank = {key: i for i, key in enumerate(_MAJOR_ZONES)}
        self._rank = rank
        rest = sorted(k for k in self.storable if k not in rank and k != _UTC_KEY)
        self._offset_candidates = tuple(
            k for k in (_UTC_KEY, *_MAJOR_ZONES, *rest) if k in self.storable
        )

    # -- helpers -------------------------------------------------------------------------

    def _canonical(self, key: str) -> str:
        seen: set[str] = set()
        while key in self._links and key not in seen:
            seen.add(key)
            key = self._links[key]
        return key

    def _one_per_zone(self, keys: Sequence[str]) -> tuple[str, ...]:
        """Collapse keys that alias one zone, keeping the canonical one when it is listed."""
        groups: dict[str, list[str]] = {}
        for key in keys:
            groups.setdefault(self._canonical(key), []).append(key)
        return tuple(
            target if target in members else sorted(members)[0]
            for target, members in sorted(groups.items())
        )

    def _found(self, key: str) -> TimezoneFound:
        return TimezoneFound(key=key, zone=ZoneInfo(key))

    def _answer(self, query: str, zones: Sequence[str]) -> TimezoneMatch:
        if len(zones) == 1:
            return self._found(zones[0])
        return TimezoneSuggestions(query, "ambiguous", tuple(zones[:_MAX_SUGGESTIONS]))

    def _exact_key(self, text: str) -> str | None:
        key = self._by_lower.get("_".join(text.split()).lower())
        if key is None or key in self.storable:
            return key
        if key.startswith("Etc/"):
            return None
        target = self._canonical(key)  # "US/Eastern" -> "America/New_York"
        return target if target in self.storable else None

    def _zones_for(self, name: str) -> tuple[str, ...] | None:
        """Zones for a normalised place name: curated places first, then key cities."""
        variants = [name, name.replace(" ", "")]
        for long, short in (("saint ", "st "), ("st ", "saint ")):
            if name.startswith(long):
                variants.append(short + name[len(long) :])
        for variant in variants:
            if variant in self._places:
                return self._places[variant]
        for variant in variants:
            if variant in self._by_city:
                return self._one_per_zone(self._by_city[variant])
        return None

    def _name_rank(self, name: str) -> tuple[int, int, str]:
        """Sort key for names: the most populous zone first, then shorter names."""
        zones = self._zones_for(name) or ()
        best = min((self._rank.get(z, len(self._rank)) for z in zones), default=len(self._rank))
        return best, len(name), name

    def _similar(self, text: str) -> tuple[str, ...]:
        """Up to 5 keys for names close to ``text``: name prefixes first, then difflib."""
        parts = [_normalise_place(text)]
        if "/" in text:
            parts.append(_normalise_place(text.rsplit("/", 1)[-1]))
        if "," in text:
            parts.append(_normalise_place(text.split(",", 1)[0]))
        names: list[str] = []
        for part in parts:
            if len(part) >= 3:
                names += sorted((n for n in self._names if n.startswith(part)), key=self._name_rank)
        for part in parts:
            for form in dict.fromkeys((part, part.replace(" ", ""))):
                names += difflib.get_close_matches(
                    form, self._names, n=2 * _MAX_SUGGESTIONS, cutoff=0.75
                )
        # Each name's main zone first, then the other zones of names spanning several.
        per_name = [self._zones_for(name) or () for name in dict.fromkeys(names)]
        ordered = [zones[0] for zones in per_name if zones]
        ordered += [key for zones in per_name for key in zones[1:]]
        return tuple(dict.fromkeys(ordered))[:_MAX_SUGGESTIONS]

    def _zones_at(self, offset: timedelta, at: datetime | None) -> list[str]:
        """Zones at ``offset``: at ``at`` if given and any is, else in January or July."""
        if at is not None:
            now = [
                k
                for k in self._offset_candidates
                if at.astimezone(ZoneInfo(k)).utcoffset() == offset
            ]
            if now:
                return now
        standard: list[str] = []
        summer: list[str] = []
        others: list[str] = []
        for key in self._offset_candidates:
            local = [instant.astimezone(ZoneInfo(key)) for instant in _OFFSET_REFERENCE]
            major = key == _UTC_KEY or key in self._rank
            if any(t.utcoffset() == offset and not t.dst() for t in local):
                (standard if major else others).append(key)
            elif any(t.utcoffset() == offset for t in local):
                (summer if major else others).append(key)
        # Major zones first, keeping up to two where this is summer time (Berlin for
        # "UTC+2"), then the rest in order.
        chosen = standard[: _MAX_SUGGESTIONS - min(2, len(summer))]
        chosen += summer[: _MAX_SUGGESTIONS - len(chosen)]
        return chosen + [k for k in (*standard, *summer, *others) if k not in chosen]

    def _by_offset(
        self, query: str, offsets: Sequence[timedelta], at: datetime | None
    ) -> TimezoneSuggestions:
        if not offsets:
            return TimezoneSuggestions(query, "unknown", ())
        per_offset = [self._zones_at(offset, at) for offset in offsets]
        # Both readings of "Etc/GMT+2": three places as written, then two at its POSIX sense.
        quota = [3, 2] if len(per_offset) == 2 else [_MAX_SUGGESTIONS]
        picked: list[str] = []
        for zones, share in zip(per_offset, quota, strict=True):
            picked += [k for k in zones if k not in picked][:share]
        for zones in per_offset:
            picked += [k for k in zones if k not in picked]
        return TimezoneSuggestions(query, "abbreviation", tuple(picked[:_MAX_SUGGESTIONS]))

    # -- lookup --------------------------------------------------------------------------

    def find(self, query: str, *, at: datetime | None = None) -> TimezoneMatch:
        """See :func:`find_timezone`."""
        text = " ".join(query.translate(_DASHES).split())
        if not text:
            return TimezoneSuggestions(query, "empty", ())
        compact = text.replace(" ", "")
        upper = compact.upper()
        if upper in _UTC_NAMES:
            return self._found(_UTC_KEY)
        if upper in _ABBREVIATION_SUGGESTIONS:
            offered = tuple(k for k in _ABBREVIATION_SUGGESTIONS[upper] if k in self.storable)
            return TimezoneSuggestions(query, "abbreviation", offered)
        if (offsets := _typed_offsets(compact.lower())) is not None:
            return self._by_offset(query, offsets, at)
        if (zones := self._zones_for(_normalise_place(text))) is not None:
            return self._answer(query, zones)
        if (key := self._exact_key(text)) is not None:
            return self._found(key)
        if "/" in text:  # "Region/City" with a city we know under another region
            city = self._zones_for(_normalise_place(text.rsplit("/", 1)[-1]))
            if city is not None:
                return self._answer(query, city)
        if "," in text:  # "Berlin, Germany", "Victoria, Canada", "Smalltown, USA"
            city = self._zones_for(_normalise_place(text.split(",", 1)[0]))
            country = self._zones_for(_normalise_place(text.rsplit(",", 1)[-1]))
            if city is not None and country is not None and len(city) > 1:
                city = tuple(z for z in city if z in country) or city
            if (zones := city or country) is not None:
                return self._answer(query, zones)
        return TimezoneSuggestions(query, "unknown", self._similar(text))


def tzdata_lines(name: str) -> list[str]:
    """Lines of a file shipped in the tzdata package's ``zoneinfo``; empty if unavailable."""
    try:
        source = resources.files("tzdata").joinpath("zoneinfo", name)
        return source.read_text(encoding="utf-8").splitlines()
    except (ModuleNotFoundError, OSError):
        return []


def _tzdata_links() -> dict[str, str]:
    """Alias -> target from the tzdata package's ``tzdata.zi``; empty if unavailable."""
    links: dict[str, str] = {}
    for line in tzdata_lines("tzdata.zi"):
        fields = line.split()
        if len(fields) == 3 and fields[0] == "L":
            links[fields[2]] = fields[1]
    return links


def _tzdata_locations() -> frozenset[str]:
    """The keys listed in the tzdata package's ``zone.tab`` (one per place and country)."""
    return frozenset(
        fields[2]
        for line in tzdata_lines("zone.tab")
        if not line.startswith("#") and len(fields := line.split("\t")) >= 3
    )


@cache
def _default_index() -> TimezoneIndex:
    return TimezoneIndex(zoneinfo.available_timezones(), _tzdata_links(), _tzdata_locations())


def find_timezone(query: str, *, at: datetime | None = None) -> TimezoneMatch:
    """Resolve what a user typed after ``/timezone`` to an IANA zone, or suggestions.

    Tried in order (names are compared case-, accent- and punctuation-insensitively):

    1. "UTC" (and "Z", "Zulu", "UCT", "Etc/UTC") -> exact zone "UTC". Abbreviations,
       "GMT" included ("EST", "CET", "IST", "BST", "SGT", ...), are never exact,
       because they name an offset and not a place's DST rules, or several places:
       reason "abbreviation" with city zones, the likeliest first.
    2. A UTC offset ("UTC+2", "GMT-5", "+05:30", "Etc/GMT+2") is never set as a fixed
       offset without daylight saving either: reason "abbreviation" with up to 5 major
       zones at that offset, at the aware instant ``at`` if given (and any zone is),
       otherwise in January or July (standard time first). "Etc/GMT+2" means UTC-2 in
       POSIX but users read it as UTC+2: zones for both are offered, as written first.
       An impossible offset ("UTC+20") is reason "unknown" with no suggestions.
    3. A curated place (:data:`PLACE_ZONES`): city, metro name or short form ("mumbai",
       "nyc", "sf"), old spelling ("kiev"), country or region ("germany", "uk").
       Places spanning several zones ("usa", "australia", "washington") give reason
       "ambiguous" with the main zones, most populous first.
    4. An IANA key, spaces allowed for underscores ("europe/berlin", "America/New York").
       Legacy aliases ("US/Eastern", "Australia/Victoria", "Europe/Kiev") give their
       target key; current place keys ("Europe/Amsterdam") are kept as typed.
    5. A city: the last part of a place key ("berlin", "new york", "newyork",
       "são paulo"; "saint"/"st" interchangeable). One zone listed under several keys
       gives the canonical key; different zones give reason "ambiguous". For
       "Region/City" the city part is tried, and for "City, Country" the city, narrowed
       by or else replaced with the country.
    6. Otherwise reason "unknown" with up to 5 keys for names starting with the text,
       then close spellings (difflib); the tuple may be empty ("Mars/Olympus").

    Legacy aliases and ``Etc/`` keys other than UTC are never returned.
    """
    return _default_index().find(query, at=at)


def utc_offset_label(tz: ZoneInfo, at: datetime) -> str:
    """Return ``tz``'s UTC offset at the aware instant ``at``, e.g. "UTC+01:00", "UTC-03:30".

    Seconds are appended only when non-zero (historical local mean time).
    """
    require_aware(at, "at")
    offset = at.astimezone(tz).utcoffset() or timedelta(0)
    sign = "-" if offset < timedelta(0) else "+"
    seconds = abs(int(offset.total_seconds()))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    label = f"UTC{sign}{hours:02d}:{minutes:02d}"
    return f"{label}:{secs:02d}" if secs else label
