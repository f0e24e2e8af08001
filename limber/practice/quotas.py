"""Per-user quotas that no honest use reaches: they bound what one account can make the server
store (and so what its history costs to read), whoever sends it and however fast.

Counted in Django's cache: Redis when REDIS_URL is set, so every process counts together;
without it each process counts alone (one process is the SQLite default). Unlike the request
rate limits, quotas stay on with LIMBER_RATE_LIMITS=off.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.core.cache import cache
from django.utils import timezone

# Limber's default: the program is one session a day; restarts, abandoned sessions and a
# month of sessions kept offline and sent at once stay far below 100. Past that it is a
# script, and each stored session makes every later read of the history longer.
SESSIONS_PER_DAY = 100
# Limber's default: the spec files allow at most 20 reps a side, and three stretches x two
# sides x 20 reps is 120 holds; a session is done in minutes. 200 is past any prescription.
MAX_HOLDS = 200

SESSIONS_MESSAGE = f"at most {SESSIONS_PER_DAY} new sessions a day: send this one again tomorrow"
HOLDS_MESSAGE = f"a session has at most {MAX_HOLDS} holds"


def _day_key(user_id: int, now: datetime) -> str:
    return f"quota:sessions:{user_id}:{now.astimezone(UTC):%Y-%m-%d}"


def sessions_refused(user_id: int) -> int:
    """0 when the user may store another new session today, else the seconds until they may."""
    now = timezone.now()
    if (cache.get(_day_key(user_id, now)) or 0) < SESSIONS_PER_DAY:
        return 0
    tomorrow = (now.astimezone(UTC) + timedelta(days=1)).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    return max(1, int((tomorrow - now).total_seconds()) + 1)


def count_session(user_id: int) -> None:
    key = _day_key(user_id, timezone.now())
    cache.add(key, 0, timeout=2 * 24 * 3600)  # outlives its day, then goes by itself
    try:
        cache.incr(key)
    except ValueError:  # evicted between the two calls: start again
        cache.set(key, 1, timeout=2 * 24 * 3600)
