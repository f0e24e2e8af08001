"""Counters that live for a window of time in Django's cache: the write rate limit, the daily
session quota and the login, reset and sign-up throttles all count with `count`.

With REDIS_URL every process and machine counts in the same place; without it each process
counts alone (fine for the single process a small install runs).
"""

from __future__ import annotations

from typing import Any

from django.core.cache import cache, caches


def count(key: str, window_s: int) -> int:
    """Add one to `key` and answer its new value. The key lives `window_s` seconds from its
    first count, then a new window starts at 0.

    With Redis this is one round trip (a script); django-redis's `incr` takes three (EXISTS,
    INCRBY and a script that keeps the key's expiry), and POST /sessions counts twice."""
    script = _redis_script()
    if script is not None:
        return int(script(keys=[cache.make_key(key)], args=[window_s]))
    try:
        return cache.incr(key)
    except ValueError:  # the window's first count (or another thread's, just before)
        return 1 if cache.add(key, 1, timeout=window_s) else cache.incr(key)


# One command, so atomic: the key cannot expire between the INCR and the EXPIRE (an INCR alone
# would leave a key that never expires). Works on every Redis version Limber supports.
_COUNT = """
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return n
"""


def _redis_script() -> Any:
    """The counting script on the Redis behind the default cache, or None when the cache is not
    Redis (redis-py sends it by its SHA-1, and the script itself only when Redis lacks it)."""
    backend = caches["default"]
    if not type(backend).__module__.startswith("django_redis"):
        return None
    return backend.client.get_client(write=True).register_script(_COUNT)  # type: ignore[attr-defined]
