"""Per-user quotas that no honest use reaches: they bound what one account can make the server
store (and so what its history costs to read), whoever sends it and however fast.

Counted in Django's cache: Redis when REDIS_URL is set, so every process counts together;
without it each process counts alone (one process is the SQLite default). Unlike the request
rate limits, quotas stay on with LIMBER_RATE_LIMITS=off.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from django.utils import timezone

from limber.counters import count

# Limber's default: the program is one session a day; restarts, abandoned sessions and a
# month of sessions kept offline and sent at once stay far below 100. Past that it is a
# script, and each stored session makes every later read of the history longer.
SESSIONS_PER_DAY = 100
# Limber's default: the spec files allow at most 20 reps a side, and three stretches x two
# sides x 20 reps is 120 holds; a session is done in minutes. 200 is past any prescription.
MAX_HOLDS = 200

# The whole routine takes minutes; a session "lasting" longer than 12 hours is a clock or a
# client gone wrong, and would skew the history's durations.
MAX_SESSION = timedelta(hours=12)

SESSIONS_MESSAGE = f"at most {SESSIONS_PER_DAY} new sessions a day: send this one again tomorrow"
HOLDS_MESSAGE = f"a session has at most {MAX_HOLDS} holds"


def finish_problem(started: datetime, finished: datetime) -> str:
    """Why a session cannot have finished then (checked against the start as stored when the
    finish comes in a later send), or ""."""
    if finished < started:
        return "finished_at is before started_at"
    if finished - started > MAX_SESSION:
        return "finished_at is more than 12 hours after started_at"
    return ""


def _day_key(user_id: int, now: datetime) -> str:
    return f"quota:sessions:{user_id}:{now.astimezone(UTC):%Y-%m-%d}"


def take_session(user_id: int) -> int:
    """Count a new session; 0 when it is within today's quota, else the seconds until tomorrow.

    One round trip to the cache."""
    now = timezone.now()
    # The key outlives its day by a day, then goes.
    if count(_day_key(user_id, now), 2 * 24 * 3600) <= SESSIONS_PER_DAY:
        return 0
    tomorrow = (now.astimezone(UTC) + timedelta(days=1)).replace(
        hour=0, minute=0, second=0, microsecond=0
    )
    return max(1, int((tomorrow - now).total_seconds()) + 1)
