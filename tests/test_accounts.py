"""Accounts: sign up, log in (rate limited), log out, password reset, tokens, deleting everything."""

import re

import pytest
from django.core import mail

from limber.accounts.models import ApiToken, Profile
from limber.practice.models import Hold, PracticeSession, Screening
from tests.conftest import run_limber

pytestmark = pytest.mark.django_db
PASSWORD = "stretch-gently-42"


def test_sign_up_logs_in_and_goes_to_the_symptoms_check(client):
    page = client.post(
        "/accounts/signup/",
        {"email": "New@Example.org", "password": PASSWORD, "password2": PASSWORD},
    )
    assert page.status_code == 302 and page.url == "/screening/"
    profile = Profile.objects.get(user__username="new@example.org")
    assert profile.role == "patient"
    assert client.get("/screening/").status_code == 200


def test_sign_up_refuses_a_weak_or_mismatched_password_and_a_taken_email(client, alice):
    weak = client.post(
        "/accounts/signup/", {"email": "c@example.org", "password": "123", "password2": "123"}
    )
    assert weak.status_code == 400 and b"too short" in weak.content
    differ = client.post("/accounts/signup/", {"email": "c@example.org", "password": PASSWORD,
                                               "password2": PASSWORD + "x"})  # fmt: skip
    assert b"The two passwords differ" in differ.content
    taken = client.post("/accounts/signup/", {"email": "alice@example.org", "password": PASSWORD,
                                              "password2": PASSWORD})  # fmt: skip
    assert b"already exists" in taken.content


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


def test_login_is_rate_limited(client, alice):
    for _ in range(10):
        bad = client.post(
            "/accounts/login/", {"email": "alice@example.org", "password": "wrong-one"}
        )
        assert bad.status_code == 400
    # Even the right password is refused until the window passes.
    blocked = client.post("/accounts/login/", {"email": "alice@example.org", "password": PASSWORD})
    assert blocked.status_code == 429 and b"Too many attempts" in blocked.content


def test_password_reset_by_email(client, alice):
    client.post("/accounts/password-reset/", {"email": "alice@example.org"})
    assert len(mail.outbox) == 1
    link = re.search(
        r"http://testserver(/accounts/password-reset/\S+/)", mail.outbox[0].body
    ).group(1)
    form = client.get(link, follow=True)
    assert form.status_code == 200
    new = "a-new-long-password-9"
    done = client.post(form.redirect_chain[-1][0], {"new_password1": new, "new_password2": new})
    assert done.status_code == 302
    alice.refresh_from_db()
    assert alice.check_password(new)


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
