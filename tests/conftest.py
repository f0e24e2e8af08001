import http.client
import os
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
# The article the stretches come from, kept in the repository (see tests/data/README.md).
SOURCE_ARTICLE = REPO / "tests" / "data" / "hamstring-stretches-for-sciatica.txt"
EXERCISES = REPO / "limber" / "exercises"


def run_limber(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """`python -m limber ARGS` in a fresh process, as a person would type it (no test settings)."""
    full = {**os.environ, **(env or {})}
    full.pop("DJANGO_SETTINGS_MODULE", None)
    full.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)  # set for Playwright in this process only
    return subprocess.run(
        [sys.executable, "-m", "limber", *args],
        env=full,
        capture_output=True,
        text=True,
        timeout=120,
    )


def _free_port() -> int:
    # Inside the range this project's servers use on a shared machine; any free one will do.
    for port in range(8560, 8600):
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port from 8560 to 8599")


@contextmanager
def server(env: dict[str, str], workers: int = 1):
    """`limber serve` in its own process (as a person starts it), stopped at the end."""
    port = _free_port()
    full = {**os.environ, **env, "LIMBER_WORKERS": str(workers)}
    full.pop("DJANGO_SETTINGS_MODULE", None)
    full.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)  # set for Playwright in the test process only
    proc = subprocess.Popen(
        [sys.executable, "-m", "limber", "serve", "--port", str(port)],
        env=full,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if request(port, "GET", "/healthz")[0] == 200:
                    break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise AssertionError(f"the server did not start: {proc.stderr.read()}")
            time.sleep(0.2)
        yield port
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def request(port: int, method: str, path: str, body: str = "", headers=None, source: str = ""):
    """One request on a new connection (so the kernel may hand it to any worker), optionally
    from another loopback address, as a proxy on another machine would connect."""
    source_address = (source, 0) if source else None
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30, source_address=source_address)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        answer = conn.getresponse()
        cookies = "; ".join(answer.headers.get_all("Set-Cookie") or [])
        return answer.status, answer.read().decode(), cookies, answer.headers
    finally:
        conn.close()


@pytest.fixture(scope="session")
def library():
    """The exercise library as shipped."""
    from limber.core.spec import load_library

    return load_library()


@pytest.fixture(scope="session")
def models():
    """The pose model files, fetched once into ./var/models (git-ignored) and reused after."""
    from limber.vision.models import ensure_models

    return ensure_models(REPO / "var" / "models")


@pytest.fixture(scope="session")
def article() -> str:
    """The source article, as plain lowercase words (it is stored that way)."""
    if not SOURCE_ARTICLE.exists():
        pytest.fail(f"the source article is missing: {SOURCE_ARTICLE}")
    return SOURCE_ARTICLE.read_text(encoding="utf-8")


@pytest.fixture(autouse=True)
def _empty_cache():
    """Throttle counters and cached tokens never leak from one test into the next."""
    from django.core.cache import cache

    cache.clear()
    yield


@pytest.fixture
def make_user(db):
    from django.contrib.auth import get_user_model

    from limber.accounts.models import Profile

    def make(email: str, role: str = "patient", password: str = "stretch-gently-42"):
        user = get_user_model().objects.create_user(username=email, email=email, password=password)
        Profile.objects.create(user=user, role=role)
        return user

    return make


@pytest.fixture
def alice(make_user):
    """The owner of the data in most tests."""
    return make_user("alice@example.org")


@pytest.fixture
def bob(make_user):
    """An outsider: another patient who must never see Alice's data."""
    return make_user("bob@example.org")


@pytest.fixture
def token_for():
    from limber.accounts.models import ApiToken

    def issue(user) -> str:
        return ApiToken.objects.issue(user)[1]

    return issue


@pytest.fixture
def api(client):
    """A JSON client: api.get(path, user=...), api.post(path, body, user=...) using a bearer token."""
    import json

    from limber.accounts.models import ApiToken

    class Api:
        def _headers(self, user, extra):
            headers = dict(extra or {})
            if user is not None:
                headers["Authorization"] = "Bearer " + ApiToken.objects.issue(user)[1]
            return headers

        def get(self, path, user=None, headers=None):
            return client.get("/api/v1" + path, headers=self._headers(user, headers))

        def post(self, path, body, user=None, headers=None, raw=False):
            data = body if raw else json.dumps(body)
            return client.post(
                "/api/v1" + path, data, content_type="application/json",
                headers=self._headers(user, headers),
            )  # fmt: skip

    return Api()


def confirmation_link(email: str) -> str:
    """The path in the sign-up mail last sent to this address (the mail goes out in the background)."""
    import re

    from django.core import mail

    from limber.accounts.mail import wait_for_mail

    wait_for_mail()
    body = next(m.body for m in reversed(mail.outbox) if m.to == [email])
    return re.search(r"https?://[^/\s]+(/accounts/signup/\S+/)", body).group(1)


def walk_pages(client, url: str, row: str) -> tuple[list[str], list[str]]:
    """Follow a page's "Older sessions →" links to the end, as a reader would: what the regex
    `row` finds on each page, in order, and each page's HTML."""
    import re

    found: list[str] = []
    pages: list[str] = []
    while url:
        page = client.get(url).content.decode()
        pages.append(page)
        found += re.findall(row, page)
        older = re.search(r'class="older" href="(\?before=[0-9a-f-]+)#', page)
        url = url.split("?")[0] + older.group(1) if older else ""
    return found, pages


def migrated_to(*targets: tuple[str, str]):
    """Migrate the test database back to these migrations; the models as they were then."""
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    executor.migrate(list(targets))
    return executor.loader.project_state(list(targets)).apps


def migrate_to_latest() -> None:
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    executor.migrate(executor.loader.graph.leaf_nodes())


def no_rate_limits(monkeypatch) -> None:
    """As LIMBER_RATE_LIMITS=off does for a server: no request rate limits, the quotas stay."""
    import dataclasses

    from django.conf import settings

    monkeypatch.setattr(settings, "CONFIG", dataclasses.replace(settings.CONFIG, rate_limits=False))


def clear_answers(value: bool = False) -> dict:
    from limber.core.screening import QUESTIONS

    return {q.id: value for q in QUESTIONS}


@pytest.fixture
def screened(alice):
    from limber.practice.models import Screening

    Screening.objects.create(user=alice, answers=clear_answers(), flagged=False)
    return alice


CHROMIUM = Path("/usr/bin/chromium")
# As root, with the machine's closed network: no sandbox, and no background connections.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@contextmanager
def chromium(*extra_args: str):
    """Debian's Chromium, headless, driven by Playwright (whose own browser download cannot work)."""
    if not CHROMIUM.exists():
        if os.environ.get("LIMBER_REQUIRE_BROWSER"):
            pytest.fail("LIMBER_REQUIRE_BROWSER is set but /usr/bin/chromium is missing")
        pytest.skip("Debian's chromium is not installed (make test installs it when run as root)")
    # Playwright's sync API runs an event loop in this thread; Django's ORM calls made by the
    # test itself are still plain synchronous calls.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=[*CHROMIUM_ARGS, *extra_args]
        )
        try:
            yield b
        finally:
            b.close()


@pytest.fixture(scope="module")
def browser():
    with chromium() as b:
        yield b


@contextmanager
def watched_page(
    browser, base_url: str, timeout_ms: int = 20_000, bypass_csp: bool = True, **context_options
):
    """A fresh page that fails the test on any JavaScript error it saw.

    Playwright's wait_for_function() evaluates strings in the page, which the site's
    Content-Security-Policy forbids; tests/test_deploy.py checks the policy with bypass_csp=False.
    """
    # The browser's clock is UTC, as the server's default, wherever the tests run: a page then
    # never needs drawing again in the person's zone unless a test asks for another one.
    context_options.setdefault("timezone_id", "UTC")
    context = browser.new_context(
        base_url=base_url,
        viewport={"width": 900, "height": 700},
        bypass_csp=bypass_csp,
        **context_options,
    )
    pg = context.new_page()
    pg.set_default_timeout(timeout_ms)
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    yield pg
    settle_outbox(pg)
    context.close()
    assert errors == [], f"JavaScript errors: {errors}"


def settle_outbox(page) -> None:
    """Let the player's outbox finish sending before the page closes.

    A save still in flight when a test ends reaches the live server while the test database is
    being emptied ("table is locked" on SQLite, a deadlock on PostgreSQL).
    """
    try:
        page.wait_for_function(
            "(() => { const s = document.getElementById('sync');"
            " return !s || !s.dataset.waiting || s.dataset.waiting === '0'; })()",
            timeout=10_000,
        )
    except Exception:  # a closed or navigated page has nothing left to send
        pass
