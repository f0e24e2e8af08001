"""The ASGI application: Django for HTTP, the live camera socket (Django Channels) at /ws/form/.

HTTP requests run Django's plain WSGI handler in a pool of threads (a2wsgi). Measured with
bench/bench_sessions.py (50 clients, 6-hold sessions), this took the p99 of POST /api/v1/sessions
from about 65 ms to about 25 ms on SQLite and from about 110 ms to about 35 ms on PostgreSQL:
every view here is synchronous, and Django's async handler funnels them all through one thread
with several hops between threads per request.
"""

import gc
import os

from a2wsgi import WSGIMiddleware
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "limber.settings")
# Django is set up first: the socket's imports below need the app registry ready.
wsgi_app = get_wsgi_application()

from django.conf import settings  # noqa: E402

HTTP_THREADS = settings.CONFIG.threads  # LIMBER_THREADS, checked with the other settings
django_app = WSGIMiddleware(wsgi_app, workers=HTTP_THREADS)

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402
from django.urls import path  # noqa: E402

from limber.practice.consumers import FormConsumer  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_app,
        "websocket": AllowedHostsOriginValidator(
            AuthMiddlewareStack(URLRouter([path("ws/form/", FormConsumer.as_asgi())]))
        ),
    }
)

# Everything imported so far lives as long as the process: kept out of the collector's scans,
# a full collection no longer walks Django's and the libraries' objects. bench/bench_sessions.py
# (200 clients, PostgreSQL and Redis, 2 workers), 2 interleaved pairs on a quiet machine: the
# slowest request 72 and 74 ms without, 21 and 21 ms with (p99 within noise either way).
gc.freeze()
