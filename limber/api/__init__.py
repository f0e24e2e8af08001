"""The JSON API under /api/v1/: bearer tokens or the session cookie, one error shape.

Every error, whatever raised it, answers
    {"error": {"status": 422, "code": "invalid", "message": "...", "field": "holds[0].pain"}}
"""

from __future__ import annotations

import time

from django.conf import settings
from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.http import Http404, HttpRequest, JsonResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.security import HttpBearer
from ninja.security.apikey import APIKeyCookie
from ninja.utils import check_csrf

from limber.accounts.models import ApiToken
from limber.counters import count


class RateLimited(Exception):
    def __init__(self, wait: int) -> None:
        super().__init__(f"at most {WRITES_PER_MINUTE} writes a minute: try again in {wait} s")
        self.wait = wait


def _within_rate(request: HttpRequest, user):  # type: ignore[no-untyped-def]
    """The user, once a write of theirs is counted; RateLimited (429) when over the rate. Done
    where the caller is known, so that every write, whichever router it is on, is counted:
    before, each endpoint had to ask, and the clinic's writes never did (a tester made 130
    invites in a minute)."""
    if user is not None and request.method not in ("GET", "HEAD", "OPTIONS"):
        wait = _over_rate(user.pk)
        if wait:
            raise RateLimited(wait)
    return user


class BearerToken(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str):
        return _within_rate(request, ApiToken.objects.user_for(token))


class SessionCookie(APIKeyCookie):
    """The browser's login session; CSRF-checked on unsafe methods when the cookie is sent."""

    param_name = "sessionid"

    def _get_key(self, request: HttpRequest) -> str | None:
        key = request.COOKIES.get(self.param_name)
        if key and check_csrf(request):
            raise HttpError(403, "CSRF check failed: send the X-CSRFToken header")
        return key

    def authenticate(self, request: HttpRequest, key: str | None):
        return _within_rate(request, request.user if request.user.is_authenticated else None)


api = NinjaAPI(
    title="Limber API",
    version="1",
    description="Stretches, today's prescription and session script, logging and history.",
    auth=[BearerToken(), SessionCookie()],
    urls_namespace="api",
    docs_url="/docs",
)


def error(
    request,
    status: int,
    code: str,
    message: str,
    field: str | None = None,
    retry_after: int | None = None,
):
    body = {"error": {"status": status, "code": code, "message": message, "field": field}}
    response = JsonResponse(body, status=status)
    if retry_after is not None:
        response["Retry-After"] = str(retry_after)
    return response


# Limber's default: the player writes once per hold (a hold lasts 10 s or more) and flushes its
# offline outbox in one go, a session a write; a month kept offline is 30. 120 writes a minute
# is beyond that, and keeps one account from hogging the workers that everyone shares.
WRITES_PER_MINUTE = 120
WINDOW_S = 60


def _over_rate(user_id: int) -> int:
    """Count one write; the seconds to wait when that is over the rate, else 0. Counted per user
    in Django's cache (Redis when REDIS_URL is set, so every process counts together), in
    minute windows."""
    if not settings.CONFIG.rate_limits:  # LIMBER_RATE_LIMITS=off; the quotas stay
        return 0
    now = time.time()
    window = int(now // WINDOW_S)
    if count(f"rate:writes:{user_id}:{window}", WINDOW_S + 1) <= WRITES_PER_MINUTE:
        return 0
    return max(1, int((window + 1) * WINDOW_S - now) + 1)


@api.exception_handler(RateLimited)
def _rate_limited(request, exc: RateLimited):
    return error(request, 429, "rate_limited", str(exc), retry_after=exc.wait)


def _field_path(loc: tuple | list) -> str | None:
    # ninja reports ("body", "data", "holds", 0, "pain"): keep what the client wrote.
    parts = [p for p in loc if p not in ("body", "data", "query", "path", "payload")]
    path = ""
    for p in parts:
        path += f"[{p}]" if isinstance(p, int) else (f".{p}" if path else str(p))
    return path or None


@api.exception_handler(ValidationError)
def _invalid(request, exc: ValidationError):
    first = exc.errors[0] if exc.errors else {}
    message = str(first.get("msg", "invalid input")).removeprefix("Value error, ")
    field = _field_path(first.get("loc", ()))
    # (A body that is not JSON never gets here: ninja answers it with HttpError 400 itself.)
    return error(request, 422, "invalid", message, field)


@api.exception_handler(AuthenticationError)
def _unauthenticated(request, exc):
    return error(request, 401, "unauthenticated", "log in, or send Authorization: Bearer <token>")


@api.exception_handler(HttpError)
def _http_error(request, exc: HttpError):
    codes = {
        400: "bad_request",
        403: "forbidden",
        404: "not_found",
        409: "conflict",
        413: "too_large",
        429: "rate_limited",
    }
    return error(request, exc.status_code, codes.get(exc.status_code, "error"), str(exc))


@api.exception_handler(Http404)
def _not_found(request, exc):
    return error(request, 404, "not_found", "no such resource")


@api.exception_handler(PermissionDenied)
def _forbidden(request, exc):
    return error(request, 403, "forbidden", "you may not see or change this")


@api.exception_handler(RequestDataTooBig)
def _too_big(request, exc):
    return error(request, 413, "too_large", "the request body is too large")


from limber.api import views  # noqa: E402,F401  (registers the operations)
from limber.clinic.api import router as clinic_router  # noqa: E402

api.add_router("", clinic_router)
