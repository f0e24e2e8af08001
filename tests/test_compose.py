"""compose.yaml as far as it can be tested without a Docker engine (none runs here).

What is tested: the app containers' command lines and environment, through the real `limber`
command. What is not: building the image, Caddy's certificate, the compose network itself.
"""

import ipaddress
import re
import shlex

import pytest
import yaml

from limber.cli import build_parser
from tests.conftest import REPO, run_limber

COMPOSE = yaml.safe_load((REPO / "compose.yaml").read_text())
SERVICES = COMPOSE["services"]
EXAMPLE = {
    "LIMBER_DOMAIN": "limber.clinic.example",
    "LIMBER_SECRET_KEY": "k" * 20 + "secret-key-for-the-compose-test-0123456789",
    "POSTGRES_PASSWORD": "pw",
}


def _resolve(value: str) -> str:
    """Compose's ${VAR}, ${VAR:-default} and ${VAR:?message}, from the example .env."""

    def one(m: re.Match) -> str:
        name, op, rest = m.group(1), m.group(2), m.group(3)
        if name in EXAMPLE:
            return EXAMPLE[name]
        if op == ":?":
            raise AssertionError(f"{name} must be set: {rest}")
        return rest if op == ":-" else ""

    return re.sub(r"\$\{(\w+)(?:(:[-?])([^}]*))?\}", one, value)


def _env(service: str) -> dict[str, str]:
    return {k: _resolve(str(v)) for k, v in SERVICES[service]["environment"].items()}


# Every mail setting limber.config reads: a clinic's .env must reach the app containers.
MAIL = {
    "LIMBER_EMAIL": "smtp",
    "LIMBER_FROM_EMAIL": "Limber at the clinic <limber@clinic.example>",
    "EMAIL_HOST": "smtp.clinic.example",
    "EMAIL_PORT": "465",
    "EMAIL_HOST_USER": "limber@clinic.example",
    "EMAIL_HOST_PASSWORD": "mail-password",
    "EMAIL_USE_TLS": "0",
    "EMAIL_USE_SSL": "1",
}


def test_the_example_env_names_every_variable_compose_requires():
    names = set(re.findall(r"\$\{(\w+):\?", (REPO / "compose.yaml").read_text()))
    example = (REPO / "deploy" / "env.example").read_text()
    assert names and all(re.search(rf"^{n}=", example, re.M) for n in names), names


def test_compose_has_the_database_redis_two_app_servers_and_a_proxy():
    assert {"db", "redis", "app1", "app2", "proxy", "migrate"} <= set(SERVICES)
    caddy = (REPO / "deploy" / "Caddyfile").read_text()
    assert "reverse_proxy app1:8000 app2:8000" in caddy and "health_uri /readyz" in caddy


@pytest.mark.parametrize("service", ["app1", "app2"])
def test_app_containers_serve_on_all_interfaces_port_8000(service):
    args = build_parser().parse_args(SERVICES[service]["command"][1:])
    assert (args.command, args.host, args.port, args.workers) == ("serve", "0.0.0.0", 8000, 1)
    dockerfile = (REPO / "Dockerfile").read_text()
    cmd = re.search(r"^CMD (\[.*\])$", dockerfile, re.M).group(1)
    assert yaml.safe_load(cmd) == SERVICES[service]["command"]


def test_the_proxy_network_is_what_the_apps_trust():
    env = _env("app1")
    subnet = COMPOSE["networks"]["limber"]["ipam"]["config"][0]["subnet"]
    assert ipaddress.ip_network(env["LIMBER_TRUSTED_PROXIES"]) == ipaddress.ip_network(subnet)
    assert env["REDIS_URL"].startswith("redis://redis:")
    assert env["DATABASE_URL"].startswith("postgres://limber:pw@db:5432/")


def test_the_app_containers_settings_pass_the_deploy_check(tmp_path):
    """The containers' own environment, through the real command: production-ready."""
    env = {**_env("app1"), "LIMBER_DATA_DIR": str(tmp_path)}
    run = run_limber("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert run.returncode == 0, run.stderr
    origins = run_limber(
        "shell", "-c", "from django.conf import settings as s; print(s.CSRF_TRUSTED_ORIGINS, s.CACHES['default']['BACKEND'], s.CHANNEL_LAYERS['default']['BACKEND'])",
        env=env,
    )  # fmt: skip
    assert origins.stdout.strip().splitlines()[-1] == (
        "['https://limber.clinic.example'] django_redis.cache.RedisCache "
        "channels_redis.core.RedisChannelLayer"
    )


def test_the_migrate_container_runs_limbers_migrate():
    command = SERVICES["migrate"]["command"]
    assert shlex.join(command) == "limber migrate --no-input"
    apps = [s for s in ("app1", "app2") if "migrate" in SERVICES[s]["depends_on"]]
    assert apps == ["app1", "app2"]


def test_every_mail_setting_in_env_reaches_the_app_containers(tmp_path, monkeypatch):
    for name, value in MAIL.items():
        monkeypatch.setitem(EXAMPLE, name, value)
    example = (REPO / "deploy" / "env.example").read_text()
    assert all(re.search(rf"^{n}=", example, re.M) for n in MAIL), "named in env.example"
    env = {**_env("app1"), "LIMBER_DATA_DIR": str(tmp_path)}
    assert {n: env.get(n) for n in MAIL} == MAIL
    show = (
        "from django.conf import settings as s; print(repr((s.EMAIL_BACKEND, s.DEFAULT_FROM_EMAIL, "
        "s.EMAIL_HOST, s.EMAIL_PORT, s.EMAIL_HOST_USER, s.EMAIL_HOST_PASSWORD, s.EMAIL_USE_TLS, "
        "s.EMAIL_USE_SSL)))"
    )
    run = run_limber("shell", "-c", show, env=env)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip().splitlines()[-1] == repr(
        (
            "django.core.mail.backends.smtp.EmailBackend",
            "Limber at the clinic <limber@clinic.example>",
            "smtp.clinic.example",
            465,
            "limber@clinic.example",
            "mail-password",
            False,
            True,
        )
    )


def test_mail_settings_left_empty_in_env_keep_limbers_defaults(tmp_path):
    env = {**_env("app1"), "LIMBER_DATA_DIR": str(tmp_path)}
    assert all(env[n] == "" for n in MAIL if n != "LIMBER_EMAIL")  # passed on, empty
    show = (
        "from django.conf import settings as s; "
        "print(repr((s.EMAIL_BACKEND, s.DEFAULT_FROM_EMAIL, s.EMAIL_PORT, s.EMAIL_USE_TLS)))"
    )
    run = run_limber("shell", "-c", show, env=env)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip().splitlines()[-1] == repr(
        ("django.core.mail.backends.console.EmailBackend", "Limber <limber@localhost>", 25, False)
    )


def test_the_image_can_make_handouts():
    """The handout extra (WeasyPrint) and the system's Pango it needs, the packages `make pango`
    installs on a developer's machine; without them /handout.pdf answers 503."""
    dockerfile = (REPO / "Dockerfile").read_text()
    extras = re.search(r"pip install '\.\[([\w,]+)\]'", dockerfile).group(1).split(",")
    assert {"postgres", "redis", "vision", "handout"} <= set(extras)
    makefile = (REPO / "Makefile").read_text().replace("\\\n", " ")
    make_apt = re.search(r"^pango:.*?apt-get install ([^>]*)", makefile, re.M | re.S).group(1)
    packages = {w for w in make_apt.split() if not w.startswith("-")}
    assert {"libpango-1.0-0", "fonts-dejavu-core"} <= packages
    apt = re.search(r"apt-get install ([^&]*)", dockerfile.replace("\\\n", " ")).group(1)
    assert packages <= set(apt.split()), packages
