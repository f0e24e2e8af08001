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
