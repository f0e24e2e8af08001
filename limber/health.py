"""/healthz and /readyz for load balancers and orchestrators.

/healthz: the process answers (no database touched), so a restart is only asked for when the
process itself is stuck. /readyz: the database and Redis (when configured) answer, so traffic is
only sent to a server that can serve it. Both are answered before host checks, https redirects
and sessions: probes come from inside the network, by address, over plain http.
"""

from __future__ import annotations

from django.conf import settings
from django.http import JsonResponse


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


def _cache() -> str:
    if not settings.CONFIG.redis_url:
        return "ok (in-process)"
    from django.core.cache import cache

    try:
        cache.set("readyz", "1", 10)
        return "ok" if cache.get("readyz") == "1" else "unreachable"
    except Exception as e:
        return f"unreachable: {type(e).__name__}"


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
