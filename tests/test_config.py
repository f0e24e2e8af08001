"""Start-up configuration: sensible defaults, and one clear line for each wrong value."""

import os
import re
import socket
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
        # Read by the server after "Limber is running": a traceback there, said here instead.
        ({"LIMBER_THREADS": "abc"}, "LIMBER_THREADS must be a number of threads from 1 to 256"),
        ({"LIMBER_THREADS": "0"}, "LIMBER_THREADS must be a number of threads"),
        ({"LIMBER_WORKERS": "0"}, "LIMBER_WORKERS must be a number of server processes"),
        ({"LIMBER_WORKERS": "two"}, "LIMBER_WORKERS must be a number of server processes"),
        # Digits int() refuses must not slip past the check into a traceback.
        ({"LIMBER_TOKEN_DAYS": "²"}, "LIMBER_TOKEN_DAYS must be a number of days"),
        ({"EMAIL_PORT": "²"}, "EMAIL_PORT must be a port number"),
        # Django matches the Host header without its port: such a name would refuse everything.
        (
            {"LIMBER_ALLOWED_HOSTS": "limber.clinic.example:443"},
            "LIMBER_ALLOWED_HOSTS takes host names without a port: 'limber.clinic.example', "
            "not 'limber.clinic.example:443'",
        ),
        ({"LIMBER_ALLOWED_HOSTS": "a.example,[::1]:8000"}, "without a port: '[::1]', not"),
        ({"LIMBER_ALLOWED_HOSTS": "::1"}, "without a port: '[::1]', not '::1'"),
        # Django's SMTP backend refuses both, but only at the first mail.
        (
            {"LIMBER_EMAIL": "smtp", "EMAIL_USE_TLS": "1", "EMAIL_USE_SSL": "1"},
            "EMAIL_USE_TLS and EMAIL_USE_SSL cannot both be on",
        ),
    ],
)
def test_a_wrong_value_is_refused_with_one_line(tmp_path, env, message):
    with pytest.raises(config.ConfigError) as e:
        config.load({"LIMBER_DATA_DIR": str(tmp_path), **env})
    assert message in str(e.value) and "\n" not in str(e.value)


def test_hosts_threads_workers_and_mail_security_that_work_are_taken(tmp_path):
    c = config.load(
        {
            "LIMBER_DATA_DIR": str(tmp_path),
            "LIMBER_ALLOWED_HOSTS": "limber.clinic.example, .limber.test,[::1],10.0.0.5",
            "LIMBER_THREADS": "16",
            "LIMBER_WORKERS": "4",
            "EMAIL_USE_TLS": "1",
            "EMAIL_USE_SSL": "0",
        }
    )
    assert c.allowed_hosts == ["limber.clinic.example", ".limber.test", "[::1]", "10.0.0.5"]
    assert (c.threads, c.workers) == (16, 4)
    assert c.email_settings["EMAIL_USE_TLS"] and not c.email_settings["EMAIL_USE_SSL"]
    defaults = config.load({"LIMBER_DATA_DIR": str(tmp_path)})
    assert (defaults.threads, defaults.workers) == (8, 1)


def test_cache_keys_are_tied_to_the_deployments_database(tmp_path):
    """Two deployments sharing one Redis (a restored copy, staging) never share cache entries:
    a cached token names a user by id, which is another person in the other database."""

    def prefix(url: str) -> str:
        return config.load({"LIMBER_DATA_DIR": str(tmp_path), "DATABASE_URL": url}).cache_key_prefix

    production = prefix("postgres://limber@db.clinic.example:5432/limber")
    assert re.fullmatch(r"limber:[0-9a-f]{12}", production)
    # The same database, however the URL is written (user, password, default port): one prefix.
    assert prefix("postgres://other:pw@DB.clinic.example/limber") == production
    assert len({
        production,
        prefix("postgres://limber@db.clinic.example:5432/limber_restored"),
        prefix("postgres://limber@staging.clinic.example:5432/limber"),
        prefix("postgres://limber@db.clinic.example:5433/limber"),
        prefix(f"sqlite:///{tmp_path / 'a.sqlite3'}"),
        prefix(f"sqlite:///{tmp_path / 'b.sqlite3'}"),
    }) == 6  # fmt: skip


def test_the_redis_cache_and_channel_layer_use_the_databases_prefix(tmp_path):
    show = (
        "from django.conf import settings as s; "
        "print(s.CACHES['default']['KEY_PREFIX'], s.CHANNEL_LAYERS['default']['CONFIG']['prefix'])"
    )
    seen = []
    for name in ("qa_it", "qa_it_restored"):
        env = {
            "LIMBER_DATA_DIR": str(tmp_path),
            "DATABASE_URL": f"postgres://limber@127.0.0.1:5432/{name}",
            "REDIS_URL": "redis://127.0.0.1:6379/7",  # only configured: nothing is sent to it
        }
        run = run_limber("shell", "-c", show, env=env)
        assert run.returncode == 0, run.stderr
        cache_prefix, channels_prefix = run.stdout.strip().splitlines()[-1].split()
        assert cache_prefix == config.load(env).cache_key_prefix
        assert channels_prefix == cache_prefix.replace("limber:", "limber-channels:")
        seen.append(cache_prefix)
    assert seen[0] != seen[1]


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


@pytest.fixture(scope="module")
def migrated(tmp_path_factory) -> dict[str, str]:
    """A migrated SQLite data folder for `limber serve`, which refuses an unmigrated one."""
    env = {"LIMBER_DATA_DIR": str(tmp_path_factory.mktemp("served")), "DATABASE_URL": ""}
    run = run_limber("migrate", "--no-input", env=env)
    assert run.returncode == 0, run.stderr
    return env


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # nothing listens there once this socket is closed


def test_serve_refuses_an_unreachable_redis_in_one_line(migrated):
    port = _closed_port()
    env = {**migrated, "REDIS_URL": f"redis://:s3cret@127.0.0.1:{port}/5"}
    run = run_limber("serve", "--port", str(_closed_port()), env=env)
    assert run.returncode == 2
    assert "running" not in run.stdout
    assert run.stderr.count("\n") == 1, run.stderr
    assert run.stderr.startswith(
        f"limber: error: cannot use the cache at 127.0.0.1:{port}/5 (REDIS_URL): "
    )
    assert "s3cret" not in run.stderr


@pytest.mark.parametrize("threads", ["abc", "0"])
def test_serve_refuses_a_wrong_thread_count_before_it_claims_to_run(migrated, threads):
    run = run_limber(
        "serve", "--port", str(_closed_port()), env={**migrated, "LIMBER_THREADS": threads}
    )
    assert run.returncode == 2
    assert "running" not in run.stdout
    assert run.stderr == (
        f"limber: error: LIMBER_THREADS must be a number of threads from 1 to 256, not {threads!r}\n"
    )


def test_serve_on_a_taken_port_says_so_in_one_line_before_it_claims_to_run(migrated):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        run = run_limber("serve", "--port", str(port), env=migrated)
    assert run.returncode == 2
    assert "running" not in run.stdout
    assert run.stderr == (
        f"limber: error: port {port} on 127.0.0.1 is taken by another program: stop it, or "
        "choose another port with --port (or LIMBER_PORT)\n"
    )
