"""Who the client is, and the headers every answer carries.

Behind a TLS proxy, the proxy tells us the client's address (X-Forwarded-For) and that it came
over https (X-Forwarded-Proto). Anyone can send those headers, so they are believed only from
the addresses in LIMBER_TRUSTED_PROXIES; from anyone else they are dropped. uvicorn's own proxy
handling is turned off (`limber serve`) so this is the one place that decides.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings

# Scripts only from our own files (no inline script, no eval): the pages keep their data in
# <script type="application/json"> blocks, which are not run. Styles may be inline because the
# vendored chart and API-docs libraries set style attributes; styles cannot run code.
CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "img-src 'self' data: blob:",
        "media-src 'self' blob:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
# The camera is for the form check in the player, and nothing else may ask for it. So are the
# motion sensors: the player's level reads the phone's tilt from deviceorientation events, which
# browsers deliver only where accelerometer and gyroscope are allowed (their default is every
# page of the site; another page has no use for how the phone moves).
CAMERA_PAGES = {"practice"}
PERMISSIONS = (
    "camera=({0}), accelerometer=({0}), gyroscope=({0}),"
    " microphone=(), geolocation=(), payment=(), usb=()"
)


def _address(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(value.strip().strip("[]"))
    except ValueError:
        return None


def is_trusted_proxy(addr: str) -> bool:
    ip = _address(addr)
    return ip is not None and any(ip in net for net in settings.TRUSTED_PROXIES)


def client_ip(request) -> str:
    """The client's address, after trusted_proxy has replaced the proxy's with it."""
    return request.META.get("REMOTE_ADDR", "")


def _forwarded_client(header: str) -> str | None:
    # Each proxy appends the address it saw: read from the right, skipping our own proxies;
    # the first one that is not ours is the client (anything further left the client wrote).
    hops = [h.strip() for h in header.split(",") if h.strip()]
    for hop in reversed(hops):
        if _address(hop) is None:
            return None
        if not is_trusted_proxy(hop):
            return str(_address(hop))
    return str(_address(hops[0])) if hops else None


def trusted_proxy(get_response):
    def middleware(request):
        meta = request.META
        forwarded_for = meta.pop("HTTP_X_FORWARDED_FOR", "")
        forwarded_proto = meta.pop("HTTP_X_FORWARDED_PROTO", "")
        if is_trusted_proxy(meta.get("REMOTE_ADDR", "")):
            client = _forwarded_client(forwarded_for) if forwarded_for else None
            if client:
                meta["REMOTE_ADDR"] = client
            proto = forwarded_proto.split(",")[0].strip().lower()
            if proto in ("http", "https"):
                meta["wsgi.url_scheme"] = proto  # what request.is_secure() reads
        return get_response(request)

    return middleware


def headers(get_response):
    static = settings.STATIC_URL

    def middleware(request):
        response = get_response(request)
        if request.path.startswith(static):
            return response  # whitenoise's own caching headers: files never hold health data
        response.setdefault("Content-Security-Policy", CSP)
        match = getattr(request, "resolver_match", None)
        camera = "self" if match is not None and match.url_name in CAMERA_PAGES else ""
        response.setdefault("Permissions-Policy", PERMISSIONS.format(camera))
        # Pages and API answers carry someone's health data (history, exports, today's plan):
        # no browser or proxy cache may keep them.
        response.setdefault("Cache-Control", "no-store")
        return response

    return middleware
