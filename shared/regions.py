"""Countries and time zones the company may choose (settings, first-run setup).

Countries are ISO 3166-1 alpha-2 codes as Babel (CLDR) names them, without
CLDR's groupings and test codes; time zones are the IANA names the running
system's zoneinfo knows. Times are stored in UTC and shown in the company's zone.
"""

from __future__ import annotations

import datetime as dt
import functools
import zoneinfo

from babel import Locale

from shared.errors import ValidationFailed

# CLDR territory codes that are not countries: unions, regions, pseudo-locales, "unknown".
NOT_COUNTRIES = frozenset({"EU", "EZ", "UN", "QO", "XA", "XB", "ZZ"})


@functools.cache
def countries() -> dict[str, str]:
    """Country code -> English name, ordered by name."""
    names = Locale("en").territories
    pairs = [(code, name) for code, name in names.items() if len(code) == 2 and code.isalpha()]
    return dict(sorted(((c, n) for c, n in pairs if c not in NOT_COUNTRIES), key=lambda pair: pair[1]))


@functools.cache
def time_zones() -> tuple[str, ...]:
    """Every IANA zone name the system knows, sorted."""
    return tuple(sorted(zoneinfo.available_timezones()))


def check_country(value: object, field: str = "country") -> str:
    """An upper-case ISO country code; blank stays blank (not chosen yet)."""
    code = str(value or "").strip().upper()
    if code and code not in countries():
        raise ValidationFailed.one(field, "must be a country from the list (e.g. NG or US)")
    return code


def check_time_zone(value: object, field: str = "time_zone") -> str:
    """A zone name from the IANA database, e.g. ``Africa/Lagos``."""
    name = str(value or "").strip()
    if not name:
        raise ValidationFailed.one(field, "is required")
    if name not in time_zones():
        raise ValidationFailed.one(field, "must be a time zone from the list (e.g. Africa/Lagos)")
    return name


def zone(name: str | None) -> dt.tzinfo:
    """The zone to show times in; UTC when the stored name is unknown to this system."""
    if name and name in time_zones():
        return zoneinfo.ZoneInfo(name)
    return dt.UTC
