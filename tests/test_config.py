"""Start-up configuration: sensible defaults, and one clear line for each wrong value."""

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
