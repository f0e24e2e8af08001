"""Accounts: sign up, log in (rate limited), log out, password reset, tokens, deleting everything."""

import html
import os
import re
from html.parser import HTMLParser

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client
from django.utils import timezone

from limber.accounts.mail import wait_for_mail
from limber.accounts.models import ApiToken, Profile, awaiting_confirmation
from limber.practice.models import Hold, PracticeSession, Screening
from tests.conftest import confirmation_link, migrate_to_latest, migrated_to, run_limber

pytestmark = pytest.mark.django_db
PASSWORD = "stretch-gently-42"


def _confirm_link(message) -> str:
    return re.search(r"http://testserver(/accounts/signup/\S+/)", message.body).group(1)


def test_sign_up_confirms_the_address_then_goes_to_the_symptoms_check(client):
    page = client.post(
        "/accounts/signup/",
        {"email": "New@Example.org", "password": PASSWORD, "password2": PASSWORD},
    )
    assert page.status_code == 302 and page.url == "/accounts/signup/sent/"
    assert b"new@example.org" in client.get(page.url).content
    wait_for_mail()
    assert [m.to for m in mail.outbox] == [["new@example.org"]]
    # Not usable before the link is opened: nobody can take an address they do not read.
    assert client.post("/accounts/login/", {"email": "new@example.org", "password": PASSWORD}
                       ).status_code == 400  # fmt: skip
    link = _confirm_link(mail.outbox[0])
    asked = client.get(link).content.decode()
    assert "new@example.org" in asked and 'autocomplete="current-password"' in asked
    opened = client.post(link, {"password": PASSWORD})
    assert opened.status_code == 302 and opened.url == "/screening/"
    assert Profile.objects.get(user__username="new@example.org").role == "patient"
    assert client.get("/screening/").status_code == 200
    assert client.get(link).status_code == 400  # used once


def test_sign_up_with_a_taken_address_answers_exactly_the_same(client, alice):
    def attempt(email):
        answer = client.post(
            "/accounts/signup/",
            {"email": email, "password": "other-pass-77", "password2": "other-pass-77"},
        )
        page = client.get(answer.url).content.decode().replace(email, "EMAIL")
        return answer.status_code, answer.url, page

    assert attempt("alice@example.org") == attempt("carol@example.org")
    wait_for_mail()
    to_alice = next(m for m in mail.outbox if m.to == ["alice@example.org"])
    assert "already has one" in to_alice.body and "/accounts/password-reset/" in to_alice.body
    alice.refresh_from_db()
    assert alice.check_password(PASSWORD)  # the stranger's password changed nothing


def test_a_closed_account_is_not_reopened_by_signing_up_again(client, alice):
    alice.is_active = False  # closed by an administrator
    alice.save()
    answer = client.post(
        "/accounts/signup/",
        {"email": "alice@example.org", "password": "taken-over-77", "password2": "taken-over-77"},
    )
    assert answer.status_code == 302 and answer.url == "/accounts/signup/sent/"  # as for anyone
    wait_for_mail()
    to_alice = next(m for m in mail.outbox if m.to == ["alice@example.org"])
    assert "already has one" in to_alice.body and "/accounts/signup/" not in to_alice.body
    alice.refresh_from_db()
    assert not alice.is_active and alice.check_password(PASSWORD)
    assert _log_in(client, password="taken-over-77").status_code == 400


def test_an_unconfirmed_sign_up_can_be_made_again_with_a_new_password(client):
    for password in ("first-try-pass-1", "second-try-pass-2"):
        client.post(
            "/accounts/signup/",
            {"email": "new@example.org", "password": password, "password2": password},
        )
    link = confirmation_link("new@example.org")
    assert client.post(link, {"password": "second-try-pass-2"}).status_code == 302
    client.post("/accounts/logout/")
    assert _log_in(client, "new@example.org", "second-try-pass-2").status_code == 302


def test_a_stranger_signing_up_an_address_again_cannot_share_the_owners_account(client):
    """Found by a tester: the owner signs up, a stranger signs the address up again with their
    own password, the owner opens the newest mail's link, and used to be logged in to an
    account whose password the stranger knew."""
    User = get_user_model()

    def sign_up(password):
        client.post("/accounts/signup/", {"email": "owner@example.org", "password": password,
                                          "password2": password})  # fmt: skip

    sign_up("owners-own-pass-1")
    sign_up("strangers-pass-2")
    link = confirmation_link("owner@example.org")
    refused = client.post(link, {"password": "owners-own-pass-1"})
    assert refused.status_code == 400
    assert "someone else may have used your address" in html.unescape(refused.content.decode())
    assert not User.objects.get(username="owner@example.org").is_active
    assert client.get("/accounts/").status_code == 302  # nobody is logged in
    # Signing up again gives the address the owner's password, and a link that wants it.
    sign_up("owners-own-pass-1")
    assert client.post(link, {"password": "strangers-pass-2"}).status_code == 400  # old link
    fresh = confirmation_link("owner@example.org")
    assert fresh != link
    assert client.post(fresh, {"password": "strangers-pass-2"}).status_code == 400
    assert client.post(fresh, {"password": "owners-own-pass-1"}).status_code == 302
    client.post("/accounts/logout/")
    assert _log_in(client, "owner@example.org", "strangers-pass-2").status_code == 400
    assert _log_in(client, "owner@example.org", "owners-own-pass-1").status_code == 302


def test_the_link_is_no_licence_to_guess_the_password(client):
    client.post("/accounts/signup/", {"email": "new@example.org", "password": PASSWORD,
                                      "password2": PASSWORD})  # fmt: skip
    link = confirmation_link("new@example.org")
    answers = [client.post(link, {"password": f"guess-{n}"}).status_code for n in range(6)]
    assert answers == [400] * 5 + [429]
    assert client.post(link, {"password": PASSWORD}).status_code == 429  # from here, for now
    assert not get_user_model().objects.get(username="new@example.org").is_active


@pytest.mark.django_db(transaction=True)
def test_sign_ups_waiting_for_their_link_stay_unconfirmed_after_migrating():
    old = migrated_to(("accounts", "0002_token_expiry"))
    users, profiles = old.get_model("auth", "User"), old.get_model("accounts", "Profile")
    # (Set in full: this early state of auth's User still fills last_login by default.)
    waiting = users.objects.create(username="waiting@example.org", is_active=False,
                                   last_login=None)  # fmt: skip
    closed = users.objects.create(username="closed@example.org", is_active=False,
                                  last_login=timezone.now())  # fmt: skip
    for user in (waiting, closed):
        profiles.objects.create(user=user, role="patient")
    migrate_to_latest()
    User = get_user_model()
    assert awaiting_confirmation(User.objects.get(pk=waiting.pk))
    assert not awaiting_confirmation(User.objects.get(pk=closed.pk))


def test_sign_up_refuses_a_weak_or_mismatched_password(client):
    weak = client.post(
        "/accounts/signup/", {"email": "c@example.org", "password": "123", "password2": "123"}
    )
    assert weak.status_code == 400 and b"too short" in weak.content
    differ = client.post("/accounts/signup/", {"email": "c@example.org", "password": PASSWORD,
                                               "password2": PASSWORD + "x"})  # fmt: skip
    assert b"The two passwords differ" in differ.content


def test_sign_ups_from_one_address_are_rate_limited(client):
    for i in range(5):
        ok = client.post("/accounts/signup/", {"email": f"u{i}@example.org", "password": PASSWORD,
                                               "password2": PASSWORD})  # fmt: skip
        assert ok.status_code == 302
    refused = client.post("/accounts/signup/", {"email": "u9@example.org", "password": PASSWORD,
                                                "password2": PASSWORD})  # fmt: skip
    assert refused.status_code == 429
    other = Client(REMOTE_ADDR="192.0.2.50")
    assert other.post("/accounts/signup/", {"email": "u9@example.org", "password": PASSWORD,
                                            "password2": PASSWORD}).status_code == 302  # fmt: skip


def test_passwords_are_hashed_with_argon2_in_production_settings():
    from limber import settings

    assert settings.PASSWORD_HASHERS[0].endswith("Argon2PasswordHasher")
    assert settings.SESSION_COOKIE_HTTPONLY and settings.SESSION_COOKIE_SAMESITE == "Lax"


def test_log_in_and_out(client, alice):
    page = client.post("/accounts/login/", {"email": "alice@example.org", "password": PASSWORD})
    assert page.status_code == 302
    assert client.get("/history/").status_code == 200
    assert client.post("/accounts/logout/").status_code == 302
    assert client.get("/history/").status_code == 302  # back to the login page


def _log_in(client, email="alice@example.org", password=PASSWORD):
    return client.post("/accounts/login/", {"email": email, "password": password})


def test_failing_on_purpose_cannot_lock_the_owner_out(alice):
    attacker = Client(REMOTE_ADDR="203.0.113.66")
    for _ in range(5):
        assert _log_in(attacker, password="wrong-one").status_code == 400
    # From the attacker's address even the right password is refused now...
    blocked = _log_in(attacker)
    assert blocked.status_code == 429 and b"Too many attempts" in blocked.content
    assert b"/accounts/password-reset/" in blocked.content  # the owner's way out
    # ...but Alice, at home, logs in as usual.
    assert _log_in(Client(REMOTE_ADDR="198.51.100.7")).status_code == 302


def test_one_address_guessing_across_accounts_is_stopped_at_the_eleventh(make_user):
    for i in range(11):
        make_user(f"p{i}@example.org")
    guesser = Client(REMOTE_ADDR="203.0.113.66")
    for i in range(10):
        assert _log_in(guesser, f"p{i}@example.org", "wrong-one").status_code == 400
    assert _log_in(guesser, "p10@example.org", PASSWORD).status_code == 429
    assert _log_in(Client(REMOTE_ADDR="198.51.100.7"), "p10@example.org").status_code == 302


def test_a_password_reset_lets_the_owner_back_in_from_the_throttled_address(client, alice):
    for _ in range(5):
        _log_in(client, password="wrong-one")
    assert _log_in(client).status_code == 429
    new = _reset_password(client, "alice@example.org")
    assert _log_in(client, password=new).status_code == 302


def _reset_password(client, email, new="a-new-long-password-9") -> str:
    client.post("/accounts/password-reset/", {"email": email})
    wait_for_mail()
    link = re.search(
        r"http://testserver(/accounts/password-reset/\S+/)", mail.outbox[-1].body
    ).group(1)
    form = client.get(link, follow=True)
    assert form.status_code == 200
    done = client.post(form.redirect_chain[-1][0], {"new_password1": new, "new_password2": new})
    assert done.status_code == 302
    return new


def test_password_reset_by_email_revokes_api_tokens(client, alice, api):
    _, key = ApiToken.objects.issue(alice)
    auth = {"Authorization": "Bearer " + key}
    assert client.get("/api/v1/screening", headers=auth).status_code == 200  # now cached too
    new = _reset_password(client, "alice@example.org")
    alice.refresh_from_db()
    assert alice.check_password(new)
    assert client.get("/api/v1/screening", headers=auth).status_code == 401


def test_password_reset_answers_before_any_mail_is_sent(client, alice, monkeypatch):
    """Known and unknown addresses get the same answer at once; the mail follows."""
    import threading

    from django.core.mail.backends.locmem import EmailBackend

    release = threading.Event()
    real_send = EmailBackend.send_messages
    monkeypatch.setattr(
        EmailBackend, "send_messages", lambda self, msgs: release.wait(10) and real_send(self, msgs)
    )
    known = client.post("/accounts/password-reset/", {"email": "alice@example.org"})
    unknown = client.post("/accounts/password-reset/", {"email": "nobody@example.org"})
    assert (known.status_code, known.url) == (unknown.status_code, unknown.url) == (
        302, "/accounts/password-reset/sent/"
    )  # fmt: skip
    assert mail.outbox == []  # the answer did not wait for the mail server
    release.set()
    wait_for_mail()
    assert [m.to for m in mail.outbox] == [["alice@example.org"]]


def test_password_reset_mail_is_rate_limited(client, alice):
    for _ in range(4):
        answer = client.post("/accounts/password-reset/", {"email": "alice@example.org"})
        assert answer.status_code == 302  # the same answer, so the limit reveals nothing
    wait_for_mail()
    assert len(mail.outbox) == 3  # at most three reach one inbox in an hour
    client.post("/accounts/password-reset/", {"email": "x@example.org"})
    assert client.post("/accounts/password-reset/", {"email": "y@example.org"}).status_code == 429


def test_pages_of_one_user_need_login(client):
    for path in (
        "/practice/",
        "/history/",
        "/screening/",
        "/history/export.json",
        "/accounts/delete/",
    ):
        assert client.get(path).url.startswith("/accounts/login/")


def test_deleting_the_account_deletes_all_its_data(client, alice, bob, token_for):
    from tests.conftest import clear_answers

    _, cached_key = ApiToken.objects.issue(alice)
    assert _today(client, cached_key).status_code == 200  # its lookup is now in the cache

    for user in (alice, bob):
        Screening.objects.create(user=user, answers=clear_answers(), flagged=False)
        s = PracticeSession.objects.create(user=user, started_at="2026-11-24T08:00:00Z")
        Hold.objects.create(session=s, exercise="towel-hamstring-stretch", variant="towel",
                            side="left", rep=1, target_s=10, held_s=10)  # fmt: skip
        token_for(user)
    client.force_login(alice)
    wrong = client.post("/accounts/delete/", {"password": "not-it"})
    assert wrong.status_code == 400 and PracticeSession.objects.filter(user=alice).exists()
    gone = client.post("/accounts/delete/", {"password": PASSWORD})
    assert gone.status_code == 200
    assert not PracticeSession.objects.filter(user__username="alice@example.org").exists()
    assert (
        Hold.objects.count() == 1
        and Screening.objects.count() == 1
        and ApiToken.objects.count() == 1
    )
    assert PracticeSession.objects.get().user == bob  # the other user's data is untouched
    assert _today(client, cached_key).status_code == 401  # not served from the cache either


@pytest.fixture
def cli_db(tmp_path):
    env = {"LIMBER_DATA_DIR": str(tmp_path), "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"}
    assert run_limber("migrate", "--no-input", env=env).returncode == 0
    return env


def test_createuser_and_token_from_the_command_line(cli_db):
    env = {**cli_db, "LIMBER_PASSWORD": PASSWORD}
    made = run_limber("createuser", "pat@example.org", "--role", "clinician", env=env)
    assert made.returncode == 0, made.stderr
    assert "created clinician pat@example.org" in made.stdout
    again = run_limber("createuser", "pat@example.org", env=env)
    assert (
        again.returncode == 2
        and again.stderr.strip() == "limber: error: an account for pat@example.org already exists"
    )
    token = run_limber("token", "pat@example.org", env=env)
    assert token.returncode == 0 and token.stdout.startswith("lmb_")
    missing = run_limber("token", "nobody@example.org", env=env)
    assert missing.returncode == 2 and "no account for nobody@example.org" in missing.stderr
    weak = run_limber("createuser", "weak@example.org", env={**cli_db, "LIMBER_PASSWORD": "123"})
    assert weak.returncode == 2 and "too short" in weak.stderr
    listed = run_limber("token", "pat@example.org", "--list", env=env)
    assert (
        listed.returncode == 0 and token.stdout[:10] in listed.stdout and "expires" in listed.stdout
    )
    revoked = run_limber("token", "pat@example.org", "--revoke", env=env)
    assert revoked.returncode == 0
    assert revoked.stdout.startswith("revoked 1 token of pat@example.org")
    # This process cannot reach a running server's own memory, and says what that means.
    shared = bool({**os.environ, **env}.get("REDIS_URL"))
    assert ("without REDIS_URL may still let in a token" in revoked.stdout) is not shared
    assert run_limber("token", "pat@example.org", "--list", env=env).stdout == ""


def test_an_administrator_closes_and_reopens_an_account_from_the_command_line(
    client, alice, token_for, capsys
):
    from limber.cli import main

    key = token_for(alice)
    assert _log_in(client).status_code == 302
    assert main(["account", "alice@example.org", "--close"]) == 0
    assert capsys.readouterr().out.startswith("alice@example.org: closed")
    assert client.get("/history/").status_code == 302  # the open browser session ends
    assert _today(client, key).status_code == 401  # and the tokens with it
    assert _log_in(Client()).status_code == 400
    client.post("/accounts/signup/", {"email": "alice@example.org", "password": "new-pass-7788",
                                      "password2": "new-pass-7788"})  # fmt: skip
    assert _log_in(Client(), password="new-pass-7788").status_code == 400  # still closed
    assert main(["account", "alice@example.org", "--reopen"]) == 0
    assert capsys.readouterr().out.strip() == "alice@example.org: open"
    assert _log_in(Client()).status_code == 302  # the data and password were kept
    assert main(["account", "nobody@example.org"]) == 2
    assert "no account for nobody@example.org" in capsys.readouterr().err


def test_a_token_revoked_while_a_request_reads_it_is_not_remembered(alice, monkeypatch):
    from django.core.cache import cache

    _, key = ApiToken.objects.issue(alice)
    writes = {name: getattr(cache, name) for name in ("add", "set")}

    def revoke_first(name):  # the revoke lands between the lookup's read and its cache write
        def write(*args, **kwargs):
            monkeypatch.undo()
            ApiToken.objects.revoke(alice)
            return writes[name](*args, **kwargs)

        return write

    for name in writes:
        monkeypatch.setattr(cache, name, revoke_first(name))
    assert ApiToken.objects.user_for(key) == alice  # already under way when the revoke came
    assert ApiToken.objects.user_for(key) is None  # and not let through again from the cache


def _today(client, key):
    client = Client()  # a bare app with its token, never a logged-in browser's cookie
    return client.get("/api/v1/screening", headers={"Authorization": "Bearer " + key})


def test_tokens_expire_after_the_configured_days(client, alice, settings):
    from datetime import timedelta

    from django.utils import timezone

    token, key = ApiToken.objects.issue(alice)
    assert abs(token.expires - timezone.now() - timedelta(days=90)) < timedelta(minutes=1)
    settings.TOKEN_DAYS = 7
    short, _ = ApiToken.objects.issue(alice)
    assert abs(short.expires - timezone.now() - timedelta(days=7)) < timedelta(minutes=1)
    ApiToken.objects.filter(pk=token.pk).update(expires=timezone.now() - timedelta(seconds=1))
    answer = _today(client, key)
    assert answer.status_code == 401 and answer.json()["error"]["code"] == "unauthenticated"


def test_the_account_page_lists_makes_and_revokes_tokens(client, alice, bob):
    _, old_key = ApiToken.objects.issue(alice, name="old phone")
    _, bobs_key = ApiToken.objects.issue(bob, name="bob's")
    assert _today(client, old_key).status_code == 200  # cached from here on
    client.force_login(alice)
    page = client.get("/accounts/").content.decode()
    assert "old phone" in page and old_key[:10] in page and old_key not in page
    assert "bob's" not in page
    made = client.post("/accounts/tokens/", {"name": "tablet"}, follow=True).content.decode()
    new_key = re.search(r"(lmb_[\w-]+)", made).group(1)
    assert _today(client, new_key).status_code == 200
    assert new_key not in client.get("/accounts/").content.decode()  # shown once only
    old = ApiToken.objects.get(name="old phone")
    client.post(f"/accounts/tokens/{old.pk}/revoke/")
    assert _today(client, old_key).status_code == 401  # at once, though it was cached
    bobs = ApiToken.objects.get(user=bob)
    client.post(f"/accounts/tokens/{bobs.pk}/revoke/")  # not Alice's to revoke
    assert _today(client, bobs_key).status_code == 200


@pytest.mark.parametrize("name", ["x" * 101, "ph\x00one"])
def test_a_token_name_refused_says_so(client, alice, name):
    """Found by a tester: the page came back with no token and not a word."""
    client.force_login(alice)
    page = html.unescape(client.post("/accounts/tokens/", {"name": name}, follow=True)
                         .content.decode())  # fmt: skip
    assert "No token was made:" in page
    assert not ApiToken.objects.filter(user=alice).exists()


def test_changing_the_password_revokes_every_token(client, alice):
    _, key = ApiToken.objects.issue(alice)
    assert _today(client, key).status_code == 200
    client.force_login(alice)
    new = "another-long-password-3"
    changed = client.post("/accounts/password/", {"old_password": PASSWORD,
                          "new_password1": new, "new_password2": new})  # fmt: skip
    assert changed.status_code == 302
    assert _today(client, key).status_code == 401
    assert ApiToken.objects.filter(user=alice).count() == 0


def test_a_clinician_lands_on_their_patients_and_a_patient_on_practice(client, make_user):
    make_user("carol@example.org", role="clinician")
    make_user("pat@example.org")
    for email, home, absent in (
        ("carol@example.org", "/clinic/", "Symptoms check"),
        ("pat@example.org", "/practice/", "Patients"),
    ):
        form = {"email": email, "password": "stretch-gently-42"}
        response = client.post("/accounts/login/", form)
        assert response.status_code == 302 and response.url == home
        nav = client.get("/exercises/").content.decode()
        assert 'href="/accounts/"' in nav  # the account page, with tokens, is in the navigation
        assert absent not in nav
        client.post("/accounts/logout/")


class _Tags(HTMLParser):
    """Every start tag of a page, as (tag, attributes), and every id the page has."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict]] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))

    @property
    def ids(self) -> set[str]:
        return {a["id"] for _, a in self.tags if a.get("id")}

    def input(self, name: str) -> dict:
        return next(a for t, a in self.tags if t == "input" and a.get("name") == name)


def _described_by_nothing(html: str) -> list[str]:
    """The ids that an aria-describedby names but the page does not have."""
    page = _Tags(html)
    named = [i for _, a in page.tags for i in (a.get("aria-describedby") or "").split()]
    return [i for i in named if i not in page.ids]


def test_a_screen_reader_hears_each_form_error_and_the_password_rules(client, alice):
    signup = client.post("/accounts/signup/", {"email": "nope", "password": "1", "password2": "2"})
    login = client.post("/accounts/login/", {"email": "", "password": ""})
    assert signup.status_code == 400 and b"Enter a valid email address" in signup.content
    assert b"This field is required" in login.content
    client.force_login(alice)
    delete = client.post("/accounts/delete/", {"password": "not-it"})
    assert delete.status_code == 400
    rules = client.get("/accounts/password/")
    changed = client.post("/accounts/password/", {"old_password": "not-it",
                          "new_password1": "123", "new_password2": "456"})  # fmt: skip
    for page in (signup, login, delete, rules, changed):
        html = page.content.decode()
        assert 'aria-describedby="' in html
        assert _described_by_nothing(html) == [], page.request["PATH_INFO"]
    # The error the field points to is the one said about it.
    html = delete.content.decode()
    described = _Tags(html).input("password")["aria-describedby"]
    assert re.search(rf'id="{described}"[^>]*>That is not your password', html)
    # A wrong password at login is said at the password too, and the summary leads there.
    wrong = client.post("/accounts/login/", {"email": alice.email, "password": "not-it"})
    assert wrong.status_code == 400
    html = wrong.content.decode()
    password = _Tags(html).input("password")
    assert password["aria-invalid"] == "true" and _described_by_nothing(html) == []
    said = "That e-mail and password do not match an account."
    assert re.search(rf'id="{password["aria-describedby"]}"[^>]*>{said}', html)
    assert re.search(rf'role="alert"><a href="#{password["id"]}">{said}</a>', html)
    assert _Tags(html).input("email")["value"] == alice.email
    # The password rules are on the page, where the new-password inputs point.
    html = rules.content.decode()
    assert _Tags(html).input("new_password1")["aria-describedby"] == "id_new_password1_helptext"
    assert re.search(r'id="id_new_password1_helptext"[^>]*>.*at least 8 characters', html, re.S)


def test_browsers_and_password_managers_can_fill_the_account_forms(client, alice):
    login = _Tags(client.get("/accounts/login/").content.decode())
    assert login.input("email")["autocomplete"] == "username"
    assert login.input("password")["autocomplete"] == "current-password"
    signup = _Tags(client.get("/accounts/signup/").content.decode())
    assert signup.input("email")["autocomplete"] == "email"
    assert signup.input("password")["autocomplete"] == "new-password"
    assert signup.input("password2")["autocomplete"] == "new-password"
    client.force_login(alice)
    delete = _Tags(client.get("/accounts/delete/").content.decode())
    assert delete.input("password")["autocomplete"] == "current-password"


def test_sign_up_says_truly_who_can_see_the_data(client):
    html = client.get("/accounts/signup/").content.decode()
    assert "Only you can see it" not in html
    assert "Only you, and a clinician you choose to link with, can see it." in html
