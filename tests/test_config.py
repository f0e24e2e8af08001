"""Start-up configuration: sensible defaults, and one clear line for each wrong value."""

import os
import subprocess
import sys

import pytest

from limber import config
from tests.conftest import run_limber


def test_defaults_make_a_sqlite_database_and_keep_one_secret_key(tmp_path):
    env = {"LIMBER_DATA_DIR": str(tmp_path)}
    first = config.load(env)
    assert first.database["ENGINE"] == "django.db.backends.sqlite3"
    assert first.database["NAME"] == str(tmp_path / "limber.sqlite3")
    assert "journal_mode=WAL" in first.database["OPTIONS"]["init_command"]
    assert first.debug is False
    assert "127.0.0.1" in first.allowed_hosts
    assert len(first.secret_key) >= 32
    assert config.load(env).secret_key == first.secret_key  # kept, not made anew
    assert oct((tmp_path / "secret_key").stat().st_mode)[-3:] == "600"


def test_postgres_url_is_understood(tmp_path):
    c = config.load(
        {"LIMBER_DATA_DIR": str(tmp_path), "DATABASE_URL": "postgres://u@db:5433/limber"}
    )
    assert c.database["ENGINE"] == "django.db.backends.postgresql"
    assert (c.database["HOST"], c.database["PORT"], c.database["NAME"]) == ("db", 5433, "limber")


@pytest.mark.parametrize(
    "env, message",
    [
        ({"LIMBER_DEBUG": "maybe"}, "LIMBER_DEBUG must be true or false"),
        ({"DATABASE_URL": "mysql://x/y"}, "DATABASE_URL must start with sqlite:/// or postgres://"),
        ({"DATABASE_URL": "sqlite://"}, "must name a file"),
        ({"LIMBER_SECRET_KEY": "short"}, "LIMBER_SECRET_KEY must be at least 32"),
        ({"LIMBER_ALLOWED_HOSTS": "a b, c"}, "LIMBER_ALLOWED_HOSTS"),
        ({"LIMBER_EXERCISES_DIR": "/nonexistent/x"}, "LIMBER_EXERCISES_DIR"),
        ({"LIMBER_EMAIL": "pigeon"}, "LIMBER_EMAIL must be console or smtp"),
        ({"LIMBER_HTTPS": "sure"}, "LIMBER_HTTPS must be true or false"),
        ({"LIMBER_TRUSTED_PROXIES": "10.0.0.300"}, "LIMBER_TRUSTED_PROXIES must be addresses"),
        ({"REDIS_URL": "http://cache"}, "REDIS_URL must start with redis://"),
        ({"LIMBER_TOKEN_DAYS": "0"}, "LIMBER_TOKEN_DAYS must be a number of days"),
        ({"LIMBER_SQLITE_SYNCHRONOUS": "off"}, "LIMBER_SQLITE_SYNCHRONOUS must be normal or full"),
        # A typo must not leave a bulk import half-throttled with nobody told why.
        ({"LIMBER_RATE_LIMITS": "of"}, "LIMBER_RATE_LIMITS must be true or false"),
    ],
)
def test_a_wrong_value_is_refused_with_one_line(tmp_path, env, message):
    with pytest.raises(config.ConfigError) as e:
        config.load({"LIMBER_DATA_DIR": str(tmp_path), **env})
    assert message in str(e.value) and "\n" not in str(e.value)


def test_a_wrong_value_stops_the_cli_with_one_line_and_no_traceback(tmp_path):
    run = run_limber("migrate", env={"LIMBER_DATA_DIR": str(tmp_path), "LIMBER_DEBUG": "perhaps"})
    assert run.returncode == 2
    assert run.stderr.strip() == (
        "limber: error: LIMBER_DEBUG must be true or false (1/0, yes/no, on/off), not 'perhaps'"
    )


def test_without_limber_data_dir_data_goes_to_the_per_user_folder_not_the_current_one(tmp_path):
    home = tmp_path / "home"
    elsewhere = tmp_path / "somewhere"
    elsewhere.mkdir()
    env = {"HOME": str(home), "XDG_DATA_HOME": str(home / ".local" / "share")}
    run = subprocess.run(
        [sys.executable, "-c", "from limber import config; print(config.load().data_dir)"],
        env={**os.environ, **env, "LIMBER_DATA_DIR": ""},
        cwd=elsewhere,
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == str(home / ".local" / "share" / "limber")
    assert not (elsewhere / "var").exists()
    assert config.load({"LIMBER_DATA_DIR": str(tmp_path / "d")}).data_dir == tmp_path / "d"


def test_an_unmigrated_database_asks_for_limber_migrate_in_one_line(tmp_path):
    env = {
        "LIMBER_DATA_DIR": str(tmp_path),
        "DATABASE_URL": "",  # the default: a new SQLite file in the data folder
        "LIMBER_PASSWORD": "stretch-gently-42",
    }
    for args in (("createuser", "pat@example.org"), ("token", "pat@example.org"), ("serve",)):
        run = run_limber(*args, env=env)
        assert run.returncode == 2, args
        assert run.stderr.count("\n") == 1 and "run `limber migrate`" in run.stderr, run.stderr


def test_an_unreachable_database_is_one_line(tmp_path):
    env = {"LIMBER_DATA_DIR": str(tmp_path), "DATABASE_URL": "postgres://nobody@127.0.0.1:9/x"}
    run = run_limber("migrate", env=env)
    assert run.returncode == 2
    assert run.stderr.count("\n") == 1
    assert run.stderr.startswith("limber: error: cannot use the database at 127.0.0.1:9 ")


def test_limber_help_lists_limbers_own_commands_before_djangos(tmp_path):
    run = run_limber("help", env={"LIMBER_DATA_DIR": str(tmp_path)})
    assert run.returncode == 0
    out = run.stdout
    own, django = out.split("Django's commands")
    assert "createuser" in own and "migrate" in django.split()
    # The clinic's own management command is listed with Limber's, not among Django's.
    assert "clinic" in own.split() and "clinic" not in django.split()
    one = run_limber("help", "token", env={"LIMBER_DATA_DIR": str(tmp_path)})
    assert one.returncode == 0 and "usage: limber token" in one.stdout
