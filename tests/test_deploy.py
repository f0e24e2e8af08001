"""Production settings and headers: behind a TLS proxy, security headers, probes, error pages."""

import os
import re
import socket
import urllib.parse

import pytest
from django.test import Client, RequestFactory, override_settings
from django.views.defaults import server_error

from limber.config import _proxies
from tests.conftest import request, run_limber, server, watched_page

pytestmark = pytest.mark.django_db
PASSWORD = "stretch-gently-42"
# What LIMBER_HTTPS=1 LIMBER_ALLOWED_HOSTS=clinic.example LIMBER_TRUSTED_PROXIES=10.1.2.0/24 sets.
BEHIND_PROXY = dict(
    ALLOWED_HOSTS=["clinic.example"],
    CSRF_TRUSTED_ORIGINS=["https://clinic.example"],
    TRUSTED_PROXIES=_proxies("10.1.2.0/24"),
    SECURE_SSL_REDIRECT=True,
    SESSION_COOKIE_SECURE=True,
    CSRF_COOKIE_SECURE=True,
    SECURE_HSTS_SECONDS=31536000,
)


def test_production_settings_pass_djangos_deploy_check(tmp_path):
    env = {
        "LIMBER_DATA_DIR": str(tmp_path),
        "LIMBER_DEBUG": "0",
        "LIMBER_HTTPS": "1",
        "LIMBER_TRUSTED_PROXIES": "10.1.2.0/24",
        # Set, as every app server of a deployment has it: the suite also runs on PostgreSQL
        # (DATABASE_URL from the environment), where a key each server makes is warned of.
        "LIMBER_SECRET_KEY": "k" * 20 + "-production-secret-" + "q" * 20,
    }
    run = run_limber("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert run.returncode == 0, run.stderr
    # Without LIMBER_HTTPS the same check names what is missing.
    plain = run_limber(
        "check", "--deploy", "--fail-level", "WARNING", env={**env, "LIMBER_HTTPS": "0"}
    )
    assert plain.returncode != 0 and "SECURE_SSL_REDIRECT" in plain.stderr


def test_the_deploy_check_warns_of_an_untrusted_proxy_and_a_key_each_server_makes(tmp_path):
    """Django's own checks pass on both: the redirect loops behind a proxy whose headers are not
    believed, and several servers on one PostgreSQL would each make their own key."""
    env = {
        "LIMBER_DATA_DIR": str(tmp_path),
        "LIMBER_DEBUG": "0",
        "LIMBER_HTTPS": "1",
        "DATABASE_URL": "postgres://limber@db.clinic.example:5432/limber",  # not connected to
    }
    run = run_limber("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert run.returncode != 0
    assert "(limber.W001) LIMBER_HTTPS is on but LIMBER_TRUSTED_PROXIES is empty" in run.stderr
    assert "HINT: Set LIMBER_TRUSTED_PROXIES to the TLS proxy's address" in run.stderr
    assert "(limber.W002) LIMBER_SECRET_KEY is not set while the database is PostgreSQL" in (
        run.stderr
    )
    assert "Set the same LIMBER_SECRET_KEY" in run.stderr
    fixed = {
        **env,
        "LIMBER_TRUSTED_PROXIES": "10.1.2.0/24",
        "LIMBER_SECRET_KEY": "a-key-every-app-server-shares-" + "0123456789" * 3,
    }
    run = run_limber("check", "--deploy", "--fail-level", "WARNING", env=fixed)
    assert run.returncode == 0, run.stderr


def test_a_foreign_host_header_is_one_log_line_with_time_and_level(tmp_path):
    """A scanner's request with another Host header: one dated line, not a 14-line traceback."""
    ask = (
        "from django.test import Client; "
        "print(Client().get('/', HTTP_HOST='evil.example').status_code)"
    )
    run = run_limber("shell", "-c", ask, env={"LIMBER_DATA_DIR": str(tmp_path)})
    assert run.stdout.strip().splitlines()[-1] == "400"
    assert "Traceback" not in run.stderr
    assert len(run.stderr.splitlines()) == 1, run.stderr
    assert re.fullmatch(
        r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} WARNING django\.security\.DisallowedHost: "
        r"Invalid HTTP_HOST header: 'evil\.example'\..*\n",
        run.stderr,
    ), run.stderr


def _closed_redis() -> dict:
    """A Redis cache where nothing listens, as when Redis went away while Limber ran."""
    pytest.importorskip("django_redis")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{port}/0",
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 2, "SOCKET_TIMEOUT": 2},
        }
    }


def test_a_token_request_while_redis_is_down_is_a_503_in_the_apis_error_shape(
    client, alice, token_for, caplog
):
    token = token_for(alice)
    with override_settings(CACHES=_closed_redis()):
        answer = client.get("/api/v1/history", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert answer.status_code == 503
    assert answer["Retry-After"] == "30"
    error = answer.json()["error"]
    assert (error["status"], error["code"], error["field"]) == (503, "unavailable", None)
    assert "cache" in error["message"]
    outage = [r for r in caplog.records if r.name == "limber.health"]
    assert len(outage) == 1 and outage[0].exc_info is None
    assert "GET /api/v1/history: the cache (REDIS_URL) cannot be reached" in outage[0].getMessage()


def test_a_login_while_redis_is_down_is_a_short_503_page(client, alice):
    with override_settings(CACHES=_closed_redis()):
        answer = client.post(
            "/accounts/login/", {"email": "alice@example.org", "password": PASSWORD}
        )
    assert answer.status_code == 503
    assert answer["Content-Type"] == "text/plain; charset=utf-8"
    assert answer["Retry-After"] == "30"
    assert answer.content.decode().count("\n") == 1 and "try again" in answer.content.decode()


def _shared_redis() -> str:
    import redis

    url = os.environ.get("LIMBER_TEST_REDIS_URL", "redis://127.0.0.1:6379/1")
    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.RedisError as e:
        if os.environ.get("LIMBER_REQUIRE_SERVICES"):
            pytest.fail(f"LIMBER_REQUIRE_SERVICES is set but Redis is not reachable at {url} ({e})")
        pytest.skip(f"Redis is not reachable at {url} ({e})")
    return url


@pytest.mark.django_db(transaction=True)
def test_two_deployments_sharing_one_redis_never_let_a_token_in_as_another_person(tmp_path):
    """Deployment A and B (a restored copy, staging) on their own databases, one Redis: a
    token of B's user 1, just used on B, must not log in on A as A's user 1."""
    redis_url = _shared_redis()
    envs = {
        name: {"LIMBER_DATA_DIR": str(tmp_path / name), "DATABASE_URL": "", "REDIS_URL": redis_url}
        for name in ("a", "b")
    }
    for name, email in (("a", "alice@example.org"), ("b", "bob@example.org")):
        assert run_limber("migrate", "--no-input", env=envs[name]).returncode == 0
        made = run_limber("createuser", email, env={**envs[name], "LIMBER_PASSWORD": PASSWORD})
        assert made.returncode == 0, made.stderr
    made = run_limber("token", "bob@example.org", env=envs["b"])
    token = made.stdout.strip().splitlines()[-1]
    bearer = {"Authorization": f"Bearer {token}"}
    with server(envs["a"]) as a, server(envs["b"]) as b:
        assert request(b, "GET", "/api/v1/history", headers=bearer)[0] == 200  # now cached
        assert request(a, "GET", "/api/v1/history", headers=bearer)[0] == 401


def test_csrf_origins_follow_the_allowed_hosts(tmp_path):
    run = run_limber(
        "shell", "-c", "from django.conf import settings; print(settings.CSRF_TRUSTED_ORIGINS)",
        env={"LIMBER_DATA_DIR": str(tmp_path), "LIMBER_ALLOWED_HOSTS": "clinic.example,.limber.test"},
    )  # fmt: skip
    assert (
        run.stdout.strip().splitlines()[-1] == "['https://clinic.example', 'https://*.limber.test']"
    )


@override_settings(**BEHIND_PROXY)
def test_a_form_post_through_a_tls_proxy_on_another_address_logs_in(make_user):
    make_user("alice@example.org")
    via_proxy = Client(
        enforce_csrf_checks=True,
        REMOTE_ADDR="10.1.2.7",
        HTTP_HOST="clinic.example",
        HTTP_X_FORWARDED_PROTO="https",
        HTTP_X_FORWARDED_FOR="203.0.113.9",
    )
    form = via_proxy.get("/accounts/login/")
    assert form.status_code == 200
    assert form["Strict-Transport-Security"].startswith("max-age=31536000")
    token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', form.content).group(1)
    assert form.cookies["csrftoken"]["secure"]
    done = via_proxy.post(
        "/accounts/login/",
        {"email": "alice@example.org", "password": PASSWORD, "csrfmiddlewaretoken": token.decode()},
        HTTP_ORIGIN="https://clinic.example",
    )
    assert done.status_code == 302 and done.url == "/practice/"
    assert done.cookies["sessionid"]["secure"]


@override_settings(**BEHIND_PROXY)
def test_forwarded_headers_from_anyone_else_are_ignored(make_user):
    stranger = Client(
        REMOTE_ADDR="198.51.100.4",
        HTTP_HOST="clinic.example",
        HTTP_X_FORWARDED_PROTO="https",
        HTTP_X_FORWARDED_FOR="10.1.2.7",
    )
    answer = stranger.get("/accounts/login/")
    # Not believed to be https: sent to the https address instead of served.
    assert answer.status_code == 301 and answer.url == "https://clinic.example/accounts/login/"


@pytest.mark.parametrize(
    "remote, forwarded, seen",
    [
        ("10.1.2.7", "203.0.113.9", "203.0.113.9"),
        # A client that writes its own X-Forwarded-For cannot choose its address: the proxy
        # appends the one it saw, and that is the one believed.
        ("10.1.2.7", "192.0.2.1, 203.0.113.9", "203.0.113.9"),
        ("10.1.2.7", "203.0.113.9, 10.1.2.8", "203.0.113.9"),
        ("198.51.100.4", "203.0.113.9", "198.51.100.4"),
        ("10.1.2.7", "not-an-address", "10.1.2.7"),
    ],
)
def test_the_client_address_is_taken_from_trusted_proxies_only(remote, forwarded, seen):
    from limber.security import trusted_proxy

    request = RequestFactory().get("/", REMOTE_ADDR=remote, HTTP_X_FORWARDED_FOR=forwarded)
    with override_settings(TRUSTED_PROXIES=_proxies("10.1.2.0/24")):
        trusted_proxy(lambda r: None)(request)
    assert request.META["REMOTE_ADDR"] == seen
    assert "HTTP_X_FORWARDED_FOR" not in request.META


def test_pages_carry_a_csp_without_inline_scripts_and_no_store(client, screened):
    client.force_login(screened)
    for path in ("/exercises/", "/practice/", "/history/", "/api/v1/today", "/history/export.json"):
        answer = client.get(path)
        assert answer.status_code == 200, path
        csp = answer["Content-Security-Policy"]
        script_src = re.search(r"script-src ([^;]*)", csp).group(1)
        assert script_src == "'self'", path
        assert "frame-ancestors 'none'" in csp
        assert answer["Cache-Control"] == "no-store", path


def test_only_the_player_may_ask_for_the_camera_and_the_phones_tilt(client, screened):
    client.force_login(screened)
    player = client.get("/practice/")["Permissions-Policy"]
    for feature in ("camera", "accelerometer", "gyroscope"):
        assert f"{feature}=(self)" in player
        for path in ("/exercises/", "/history/", "/accounts/login/"):
            assert f"{feature}=()" in client.get(path)["Permissions-Policy"], (feature, path)


def test_health_answers_without_the_database_and_readiness_checks_it(client, django_db_blocker):
    with django_db_blocker.block():  # any query here would fail the test
        health = client.get("/healthz", HTTP_HOST="10.0.0.5")  # probes come by address
    assert health.status_code == 200 and health.json() == {"status": "ok"}
    ready = client.get("/readyz", HTTP_HOST="10.0.0.5")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ok", "database": "ok", "cache": "ok (in-process)"}


def test_readiness_fails_when_the_database_is_gone(client, monkeypatch):
    from django.db import OperationalError, connection

    def refused():
        raise OperationalError("connection refused")

    monkeypatch.setattr(connection, "cursor", refused)
    ready = client.get("/readyz")
    monkeypatch.undo()
    assert ready.status_code == 503
    assert ready.json()["status"] == "unavailable"
    assert ready.json()["database"].startswith("unreachable")


def test_404_is_a_site_page_with_navigation(client):
    with override_settings(DEBUG=False):
        page = client.get("/no-such-page/")
    assert page.status_code == 404
    html = page.content.decode()
    assert '<meta name="viewport"' in html and 'aria-label="Main"' in html
    assert "<h1>" in html and "not here" in html


def test_500_is_a_site_page_with_navigation():
    page = server_error(RequestFactory().get("/"))
    assert page.status_code == 500
    html = page.content.decode()
    assert '<meta name="viewport"' in html and 'aria-label="Main"' in html
    assert "nothing was lost" in html.lower() or "went wrong" in html.lower()


def test_api_docs_page_is_self_contained_and_landmarked(client):
    page = client.get("/api/v1/docs")
    assert page.status_code == 200
    html = page.content.decode()
    assert re.search(r'<html lang="en"', html)
    assert "<h1" in html and "<main" in html
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sources and all(s.startswith("/") or s.startswith("#") for s in sources), sources


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_api_docs_render_offline_and_pages_break_no_csp_rule(browser, live_server, screened):
    """The docs and the main pages in Chromium: nothing fetched elsewhere, no CSP violation."""
    with watched_page(browser, live_server.url, bypass_csp=False) as page:
        console: list[str] = []
        foreign: list[str] = []
        page.on("console", lambda m: console.append(m.text))
        page.on(
            "request",
            lambda r: None if r.url.startswith(live_server.url) else foreign.append(r.url),
        )
        page.goto("/api/v1/docs")
        page.get_by_text("/api/v1/today").first.wait_for()
        page.goto("/accounts/login/")
        page.get_by_label("E-mail").fill("alice@example.org")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Log in").click()
        page.wait_for_url("**/practice/")
        for path in (
            "/exercises/",
            "/exercises/towel-hamstring-stretch/",
            "/practice/",
            "/history/",
        ):
            page.goto(path)
            page.wait_for_load_state("networkidle")
    assert foreign == []
    assert [m for m in console if "Content Security Policy" in m] == []


def test_a_real_server_behind_a_proxy_on_another_address(tmp_path):
    """`limber serve` as deployed, with the proxy at 127.0.0.2: the form POST works over
    'https', and the same headers from any other address are not believed."""
    env = {
        "LIMBER_DATA_DIR": str(tmp_path),
        "DATABASE_URL": "",
        "LIMBER_HTTPS": "1",
        "LIMBER_ALLOWED_HOSTS": "clinic.example",
        "LIMBER_TRUSTED_PROXIES": "127.0.0.2",
    }
    assert run_limber("migrate", "--no-input", env=env).returncode == 0
    assert run_limber("createuser", "alice@example.org", env={**env, "LIMBER_PASSWORD": PASSWORD}
                      ).returncode == 0  # fmt: skip
    proxied = {
        "Host": "clinic.example",
        "X-Forwarded-Proto": "https",
        "X-Forwarded-For": "203.0.113.9",
    }
    with server(env) as port:
        status, body, cookies, headers = request(
            port, "GET", "/accounts/login/", headers=proxied, source="127.0.0.2"
        )
        assert status == 200 and headers["Strict-Transport-Security"].startswith("max-age=")
        assert "Secure" in cookies
        csrf = re.search(r"csrftoken=([^;]+)", cookies).group(1)
        form = urllib.parse.urlencode(
            {"email": "alice@example.org", "password": PASSWORD, "csrfmiddlewaretoken": csrf}
        )
        post_headers = {
            **proxied,
            "Origin": "https://clinic.example",
            "Cookie": f"csrftoken={csrf}",
            "Content-Type": "application/x-www-form-urlencoded",
        }
        status, _, cookies, headers = request(
            port, "POST", "/accounts/login/", form, post_headers, source="127.0.0.2"
        )
        assert (status, headers["Location"]) == (302, "/practice/")
        assert "sessionid=" in cookies and "Secure" in cookies
        # The same headers straight from a client: not https, so sent to the https address.
        status, _, _, headers = request(port, "GET", "/accounts/login/", headers=proxied)
        assert (status, headers["Location"]) == (301, "https://clinic.example/accounts/login/")
