"""More than one process: real servers on loopback sharing PostgreSQL and Redis.

Skipped, saying why, when PostgreSQL or Redis cannot be reached; CI starts both and sets
LIMBER_REQUIRE_SERVICES=1 so there it must run.
"""

import os
import re
import urllib.parse

import pytest

from tests.conftest import request, run_limber, server

PASSWORD = "stretch-gently-42"
PG_URL = os.environ.get("LIMBER_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres")
REDIS_URL = os.environ.get("LIMBER_TEST_REDIS_URL", "redis://127.0.0.1:6379/1")


def _unavailable(reason: str):
    if os.environ.get("LIMBER_REQUIRE_SERVICES"):
        pytest.fail(f"LIMBER_REQUIRE_SERVICES is set but {reason}")
    pytest.skip(reason)


@pytest.fixture
def redis_client():
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2)
    try:
        client.ping()
    except redis.RedisError as e:
        _unavailable(f"Redis is not reachable at {REDIS_URL} ({e})")

    def forget_counters():  # earlier runs' login counters would still be in their window
        for key in client.scan_iter("limber:*:limit:*"):
            client.delete(key)

    forget_counters()
    yield client
    forget_counters()


@pytest.fixture
def postgres_url():
    import psycopg

    name = f"limber_twoproc_{os.getpid()}"
    try:
        admin = psycopg.connect(PG_URL, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as e:
        _unavailable(f"PostgreSQL is not reachable at {PG_URL} ({str(e).strip()})")
    with admin:
        admin.execute(f"DROP DATABASE IF EXISTS {name}")
        admin.execute(f"CREATE DATABASE {name}")
        url = urllib.parse.urlsplit(PG_URL)._replace(path="/" + name).geturl()
        try:
            yield url
        finally:
            admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def log_in(port: int, csrf: str, email: str, password: str) -> int:
    body = urllib.parse.urlencode(
        {"email": email, "password": password, "csrfmiddlewaretoken": csrf}
    )
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "Cookie": f"csrftoken={csrf}",
    }
    return request(port, "POST", "/accounts/login/", body, headers)[0]


def test_two_servers_count_failed_logins_together_in_redis(tmp_path, postgres_url, redis_client):
    env = {
        "LIMBER_DATA_DIR": str(tmp_path),  # one secret key for both, as a deployment shares it
        "DATABASE_URL": postgres_url,
        "REDIS_URL": REDIS_URL,
    }
    assert run_limber("migrate", "--no-input", env=env).returncode == 0
    made = run_limber("createuser", "alice@example.org", env={**env, "LIMBER_PASSWORD": PASSWORD})
    assert made.returncode == 0, made.stderr
    # Server A has two worker processes behind one port (LIMBER_WORKERS=2); server B is a third
    # process, as another machine would be. Requests alternate between them.
    with server(env, workers=2) as a, server(env, workers=1) as b:
        for port in (a, b):
            status, body, *_ = request(port, "GET", "/readyz")
            assert status == 200 and '"cache": "ok"' in body, body
        _, _, cookie, _ = request(a, "GET", "/accounts/login/")
        csrf = re.search(r"csrftoken=([^;]+)", cookie).group(1)
        for i in range(10):
            port = (a, b)[i % 2]
            assert log_in(port, csrf, f"guess{i}@example.org", "wrong-one") == 400, i
        # The eleventh, even with the right password, is refused whichever server answers.
        for port in (a, b, a, b):
            assert log_in(port, csrf, "alice@example.org", PASSWORD) == 429


def test_counters_in_redis_keep_one_window_readable_by_the_throttles(settings, redis_client):
    """The rate limits, quotas and throttles count in Redis in one round trip (limber.counters):
    the window starts at the first count and later counts do not stretch it; when it ends the
    count starts again at 1; and the throttles read the same number back through the cache."""
    import time

    from django.core.cache import cache

    from limber.accounts.throttle import Limit
    from limber.counters import count

    settings.CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": "limber",
        }
    }
    limit = Limit("test", allowed=3, window_s=60, why="a test")
    key = limit._key("203.0.113.9")
    name = cache.make_key(key)
    assert [count(key, 60) for _ in range(3)] == [1, 2, 3]
    assert limit.reached("203.0.113.9")  # read back with cache.get: a plain integer
    ttl = redis_client.pttl(name)
    assert 0 < ttl <= 60_000
    time.sleep(0.01)
    limit.count("203.0.113.9")
    assert cache.get(key) == 4
    assert redis_client.pttl(name) < ttl  # counting again did not restart the window
    redis_client.pexpire(name, 1)  # the window ends
    time.sleep(0.01)
    assert count(key, 60) == 1
    assert not limit.reached("203.0.113.9")
