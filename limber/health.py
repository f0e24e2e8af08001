"""/healthz and /readyz for load balancers and orchestrators.

/healthz: the process answers (no database touched), so a restart is only asked for when the
process itself is stuck. /readyz: the database and Redis (when configured) answer, so traffic is
only sent to a server that can serve it. Both are answered before host checks, https redirects
and sessions: probes come from inside the network, by address, over plain http.

When Redis goes away while Limber runs, a request that needs it (logins, tokens, writes) is
answered 503 by CacheOutage, and `limber serve` does not start without it (cache_problem).
"""

from __future__ import annotations

import logging
import urllib.parse

from django.conf import settings
from django.http import HttpResponse, JsonResponse

logger = logging.getLogger("limber.health")


def _database() -> str:
    from django.db import connection

    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return "ok"
    except Exception as e:  # any driver error means "not ready"; the reason goes in the answer
        return f"unreachable: {type(e).__name__}"
    finally:
        connection.close_if_unusable_or_obsolete()


def _first_line(e: BaseException) -> str:
    """An error's message, first line only (a client error can run to a dozen), or its type."""
    return (str(e).strip().splitlines() or [type(e).__name__])[0]


def _cache_failure() -> tuple[str, str] | None:
    """None when the cache keeps a value; else the error's type name and its first line."""
    from django.core.cache import cache

    try:
        cache.set("readyz", "1", 10)
        return None if cache.get("readyz") == "1" else ("", "it did not keep a value")
    except Exception as e:  # any client error means "not usable"; the reason is reported
        return type(e).__name__, _first_line(e)


def _cache() -> str:
    if not settings.CONFIG.redis_url:
        return "ok (in-process)"
    failure = _cache_failure()
    if failure is None:
        return "ok"
    return f"unreachable: {failure[0]}" if failure[0] else "unreachable"


def _redis_where(url: str) -> str:
    """host:port/db of a REDIS_URL, without the password it may hold."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme == "unix":
        return parts.path
    return f"{parts.hostname}:{parts.port or 6379}{parts.path if parts.path != '/' else ''}"


def cache_problem() -> str | None:
    """One line saying why the shared cache (Redis) cannot be used, or None when it can."""
    url = settings.CONFIG.redis_url
    failure = _cache_failure() if url else None
    if failure is None:
        return None
    return f"cannot use the cache at {_redis_where(url)} (REDIS_URL): {failure[1]}"


def _cache_errors() -> tuple[type[BaseException], ...]:
    """What the Redis client raises when Redis cannot be reached (none without the client)."""
    try:
        from django_redis.exceptions import ConnectionInterrupted
        from redis.exceptions import ConnectionError, TimeoutError
    except ModuleNotFoundError:
        return ()
    return (ConnectionError, TimeoutError, ConnectionInterrupted)


class CacheOutage:
    """A request that needed Redis while it is down: 503 and one log line, not a 500 with a
    traceback. Logins, tokens and every counted write need the cache, so they wait for it;
    /readyz meanwhile takes the server out of the proxy's rotation."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.errors = _cache_errors()

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not self.errors or not isinstance(exception, self.errors):
            return None
        logger.error(
            "%s %s: the cache (REDIS_URL) cannot be reached: %s",
            request.method, request.path, _first_line(exception),
        )  # fmt: skip
        message = "Limber cannot reach its cache (Redis) just now: try again in a minute."
        if request.path.startswith("/api/"):
            error = {"status": 503, "code": "unavailable", "message": message, "field": None}
            response: HttpResponse = JsonResponse({"error": error}, status=503)
        else:
            response = HttpResponse(
                message + "\n", status=503, content_type="text/plain; charset=utf-8"
            )
        response["Retry-After"] = "30"
        return response


def _answer(body: dict, status: int) -> JsonResponse:
    response = JsonResponse(body, status=status)
    response["Cache-Control"] = "no-store"
    return response


def probes(get_response):
    def middleware(request):
        if request.path == "/healthz":
            return _answer({"status": "ok"}, 200)
        if request.path == "/readyz":
            checks = {"database": _database(), "cache": _cache()}
            ready = all(v.startswith("ok") for v in checks.values())
            return _answer(
                {"status": "ok" if ready else "unavailable", **checks}, 200 if ready else 503
            )
        return get_response(request)

    return middleware
