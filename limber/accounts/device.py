"""What Limber knows of the person's own device: where the player keeps its records in the
browser, and the time zone the person lives in.

The player keeps the session in progress and the records not yet sent in the browser's
localStorage, so that a reload or a dropped network loses nothing. A browser can be shared (a
family tablet, a clinic's computer), so those keys carry a name of their own for each account:
one person is never offered another's unfinished session, and never sends it as their own.
The name is a keyed hash of the account, not its number, so it tells nothing to whoever reads
the browser's storage. Logging out and deleting the account forget it (limber/static/limber/site.js).

The browser also says which time zone it is in (site.js, PUT /api/v1/time-zone); a person's
days and the times they read are theirs, not the server's: a session at 23:30 in New York is
that day's session, not the next day's.
"""

from datetime import datetime, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from django.utils import timezone
from django.utils.crypto import salted_hmac


def storage_key(user) -> str:
    """The prefix of this account's keys in the browser's localStorage."""
    return "limber." + salted_hmac("limber.device-storage", str(user.pk)).hexdigest()[:16]


@lru_cache(maxsize=1)
def _zone_names() -> frozenset[str]:
    # Not "localtime" (the server machine's own zone, which no browser reports) nor "Factory"
    # (a placeholder zone, "local time zone must be set").
    return frozenset(available_timezones()) - {"localtime", "Factory"}


def zone_names() -> list[str]:
    """Every time zone name Limber takes, sorted (the API's schema lists them)."""
    return sorted(_zone_names())


def valid_zone(name: str) -> bool:
    """Whether ``name`` is an IANA time zone this machine knows ("Europe/London", "UTC")."""
    return name in _zone_names()


@lru_cache(maxsize=512)
def zone_named(name: str) -> tzinfo:
    """The time zone a profile names; the site's when it names none (or one no longer known)."""
    if not name:
        return timezone.get_default_timezone()
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return timezone.get_default_timezone()


def zone_of(user) -> tzinfo:
    """The person's time zone: the one their browser reported, else the site's."""
    profile = getattr(user, "profile", None)
    return zone_named(getattr(profile, "time_zone", "") if profile is not None else "")


def local(user, when: datetime) -> datetime:
    """``when`` as the person's own clock shows it."""
    return timezone.localtime(when, zone_of(user))


def local_time(get_response):
    """Middleware: pages a signed-in person reads show times in their own time zone."""

    def middleware(request):
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            with timezone.override(zone_of(user)):
                return get_response(request)
        return get_response(request)

    return middleware


def device_storage(request) -> dict[str, str]:
    """Template context: `device_storage`, the signed-in account's prefix, `time_zone`, the
    zone Limber has for them, and what the page was drawn in (pages name these for the scripts,
    which may not be inline under the site's Content-Security-Policy)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    profile = getattr(user, "profile", None)
    return {
        "device_storage": storage_key(user),
        "time_zone": getattr(profile, "time_zone", "") if profile is not None else "",
        # The zone this page was drawn in: the site's while the person's is not known yet.
        "drawn_in": str(zone_of(user)),
        # Drawn for a plain visit (GET): a page the script may load again once the zone is known.
        "redraw": request.method == "GET",
    }
