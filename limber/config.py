"""Configuration from environment variables, checked before anything starts.

Every setting a deployment may change is read here, once, and a wrong value stops start-up
with one line naming the variable and what it should be.
"""

from __future__ import annotations

import hashlib
import ipaddress
import os
import secrets
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from limber.errors import UserError

TRUE = {"1", "true", "yes", "on"}
FALSE = {"", "0", "false", "no", "off"}
DEFAULT_HOSTS = ["127.0.0.1", "localhost", "[::1]"]


class ConfigError(UserError):
    pass


@dataclass(frozen=True)
class Config:
    data_dir: Path
    database: dict[str, Any]
    secret_key: str
    debug: bool
    allowed_hosts: list[str]
    exercises_dir: Path | None
    email_backend: str
    # EMAIL_HOST, EMAIL_PORT, ... and DEFAULT_FROM_EMAIL for the smtp backend.
    email_settings: dict[str, Any]
    # Behind a TLS proxy: HSTS, Secure cookies, redirect to https.
    https: bool
    # Only these addresses may say who the client is and that it came over https.
    trusted_proxies: tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]
    # The shared cache and Channels layer when several processes serve Limber.
    redis_url: str
    token_days: int
    # LIMBER_RATE_LIMITS=off: no request rate limits (benchmarks, bulk imports); quotas stay.
    rate_limits: bool
    # `limber serve`: server processes, and threads per process for HTTP requests.
    workers: int = 1
    threads: int = 8
    # False when the key was generated into the data folder: fine for one server, not for several.
    secret_key_from_env: bool = False

    @property
    def cache_key_prefix(self) -> str:
        """Every cache key starts with this: "limber:" and a short hash of which database this
        deployment uses. The cache holds token lookups that name a user by id: two deployments
        sharing one Redis (a restored copy, a staging server) must never read each other's
        entries, or a token of one database's user 1 logs in as the other's user 1."""
        db = self.database
        engine = str(db.get("ENGINE") or "")
        port = db.get("PORT") or (5432 if engine.endswith("postgresql") else "")
        where = "|".join([engine, str(db.get("HOST") or "").lower(), str(port), str(db["NAME"])])
        return "limber:" + hashlib.sha256(where.encode()).hexdigest()[:12]


def _flag(env: dict[str, str], name: str) -> bool:
    value = env.get(name, "").strip().lower()
    if value in TRUE:
        return True
    if value in FALSE:
        return False
    raise ConfigError(f"{name} must be true or false (1/0, yes/no, on/off), not {value!r}")


def _database(url: str, data_dir: Path, synchronous: str = "NORMAL") -> dict[str, Any]:
    import dj_database_url

    if not url:
        url = f"sqlite:///{data_dir / 'limber.sqlite3'}"
    scheme = url.split(":", 1)[0].lower()
    if scheme not in ("sqlite", "postgres", "postgresql"):
        raise ConfigError(
            f"DATABASE_URL must start with sqlite:/// or postgres://, not {scheme + ':'!r}"
        )
    try:
        # Keep connections between requests (a new PostgreSQL connection costs more than a
        # typical request), checked for health before reuse.
        db = dj_database_url.parse(url, conn_max_age=60, conn_health_checks=True)
    except Exception as e:  # dj-database-url raises plain ValueErrors and friends
        raise ConfigError(f"DATABASE_URL is not a database address ({e})") from None
    if scheme == "sqlite":
        if not db.get("NAME") or db["NAME"] == ":memory:":
            raise ConfigError("DATABASE_URL for SQLite must name a file: sqlite:////path/to/db")
        # WAL lets readers work while a hold is being written. synchronous=NORMAL skips the
        # fsync per commit: a crash of Limber loses nothing, but a power cut may lose the last
        # commits (never corrupts the file); LIMBER_SQLITE_SYNCHRONOUS=full trades speed for
        # those. IMMEDIATE takes the write lock
        # at the start of a transaction, so concurrent writers wait instead of failing.
        db["OPTIONS"] = {
            "init_command": f"PRAGMA journal_mode=WAL; PRAGMA synchronous={synchronous};",
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
        }
    return db


def _synchronous(env: dict[str, str]) -> str:
    value = env.get("LIMBER_SQLITE_SYNCHRONOUS", "").strip().upper() or "NORMAL"
    if value not in ("NORMAL", "FULL"):
        raise ConfigError(
            f"LIMBER_SQLITE_SYNCHRONOUS must be normal or full, not {value.lower()!r}"
        )
    return value


def _secret_key(env: dict[str, str], data_dir: Path) -> str:
    key = env.get("LIMBER_SECRET_KEY", "")
    if key:
        if len(key) < 32:
            raise ConfigError("LIMBER_SECRET_KEY must be at least 32 characters long")
        return key
    # Generated once and kept beside the data, so sessions survive a restart.
    path = data_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    key = secrets.token_urlsafe(48)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(key)
    tmp.chmod(0o600)
    tmp.replace(path)
    return key


def _email_backend(env: dict[str, str]) -> str:
    # Password-reset mail goes to the console unless a deployment names Django's SMTP backend
    # (and sets EMAIL_HOST and friends the Django way).
    choice = env.get("LIMBER_EMAIL", "console").strip().lower()
    backends = {
        "console": "django.core.mail.backends.console.EmailBackend",
        "smtp": "django.core.mail.backends.smtp.EmailBackend",
    }
    if choice not in backends:
        raise ConfigError(f"LIMBER_EMAIL must be console or smtp, not {choice!r}")
    return backends[choice]


def default_data_dir(env: dict[str, str]) -> Path:
    """$LIMBER_DATA_DIR, else the per-user data folder (~/.local/share/limber on Linux).

    Not ./var of wherever `limber` happens to run: the same person gets the same data from any
    folder. `make run` sets LIMBER_DATA_DIR=./var for a checkout.
    """
    if env.get("LIMBER_DATA_DIR"):
        return Path(env["LIMBER_DATA_DIR"]).expanduser().resolve()
    import platformdirs

    return Path(platformdirs.user_data_dir("limber", appauthor=False)).resolve()


def _proxies(raw: str) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    nets = []
    for part in raw.replace(" ", ",").split(","):
        if not part:
            continue
        try:
            nets.append(ipaddress.ip_network(part, strict=False))
        except ValueError:
            raise ConfigError(
                f"LIMBER_TRUSTED_PROXIES must be addresses or networks (10.0.0.2, 10.0.0.0/24) "
                f"separated by commas, not {part!r}"
            ) from None
    return tuple(nets)


def _whole_number(raw: str) -> int | None:
    # isdigit() alone lets "²" through, which int() then refuses.
    return int(raw) if raw.isascii() and raw.isdigit() else None


def _count(env: dict[str, str], name: str, default: int, most: int, what: str) -> int:
    raw = env.get(name, "").strip() or str(default)
    n = _whole_number(raw)
    if n is None or not 1 <= n <= most:
        raise ConfigError(f"{name} must be a number of {what} from 1 to {most}, not {raw!r}")
    return n


def _allowed_hosts(raw: str) -> list[str]:
    hosts = [h.strip() for h in raw.split(",") if h.strip()] or DEFAULT_HOSTS
    for h in hosts:
        if " " in h or "/" in h:
            raise ConfigError("LIMBER_ALLOWED_HOSTS must be host names separated by commas")
        # Django compares the Host header without its port, so a name with one never matches
        # and every request would be refused. An IPv6 address is written in brackets.
        if ":" in h and not (h.startswith("[") and h.endswith("]")):
            if h.startswith("["):
                bare = h[: h.index("]") + 1] if "]" in h else h
            elif h.count(":") > 1:
                bare = f"[{h}]"
            else:
                bare = h.rsplit(":", 1)[0]
            raise ConfigError(
                f"LIMBER_ALLOWED_HOSTS takes host names without a port: {bare!r}, not {h!r}"
            )
    return hosts


def _redis_url(raw: str) -> str:
    if not raw:
        return ""
    if not raw.startswith(("redis://", "rediss://", "unix://")):
        raise ConfigError(f"REDIS_URL must start with redis://, rediss:// or unix://, not {raw!r}")
    try:
        import channels_redis  # noqa: F401
        import django_redis  # noqa: F401
    except ModuleNotFoundError:
        raise ConfigError(
            "REDIS_URL is set but the Redis client is not installed: pip install 'limber[redis]'"
        ) from None
    return raw


def _email_settings(env: dict[str, str]) -> dict[str, Any]:
    out: dict[str, Any] = {
        "DEFAULT_FROM_EMAIL": env.get("LIMBER_FROM_EMAIL") or "Limber <limber@localhost>"
    }
    for name in ("EMAIL_HOST", "EMAIL_HOST_USER", "EMAIL_HOST_PASSWORD"):
        if env.get(name):
            out[name] = env[name]
    port = env.get("EMAIL_PORT", "").strip()
    if port:
        number = _whole_number(port)
        if number is None or not 1 <= number <= 65535:
            raise ConfigError(f"EMAIL_PORT must be a port number, not {port!r}")
        out["EMAIL_PORT"] = number
    for name in ("EMAIL_USE_TLS", "EMAIL_USE_SSL"):
        if env.get(name):
            out[name] = _flag(env, name)
    if out.get("EMAIL_USE_TLS") and out.get("EMAIL_USE_SSL"):
        # Django's SMTP backend refuses both at the first mail; say so before anything starts.
        raise ConfigError(
            "EMAIL_USE_TLS and EMAIL_USE_SSL cannot both be on: EMAIL_USE_TLS for STARTTLS "
            "(usually port 587), EMAIL_USE_SSL for TLS from the start (usually port 465)"
        )
    return out


def load(env: dict[str, str] | None = None) -> Config:
    env = dict(os.environ if env is None else env)
    data_dir = default_data_dir(env)
    try:
        data_dir.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise ConfigError(
            f"LIMBER_DATA_DIR {str(data_dir)!r} cannot be created: {e.strerror}"
        ) from None
    if not os.access(data_dir, os.W_OK):
        raise ConfigError(f"LIMBER_DATA_DIR {str(data_dir)!r} is not writable")
    hosts = _allowed_hosts(env.get("LIMBER_ALLOWED_HOSTS", ""))
    exercises = env.get("LIMBER_EXERCISES_DIR", "")
    exercises_dir = Path(exercises).expanduser().resolve() if exercises else None
    if exercises_dir is not None and not exercises_dir.is_dir():
        raise ConfigError(f"LIMBER_EXERCISES_DIR {exercises!r} is not a folder")
    return Config(
        data_dir=data_dir,
        database=_database(env.get("DATABASE_URL", "").strip(), data_dir, _synchronous(env)),
        secret_key=_secret_key(env, data_dir),
        debug=_flag(env, "LIMBER_DEBUG"),
        allowed_hosts=hosts,
        exercises_dir=exercises_dir,
        email_backend=_email_backend(env),
        email_settings=_email_settings(env),
        https=_flag(env, "LIMBER_HTTPS"),
        trusted_proxies=_proxies(env.get("LIMBER_TRUSTED_PROXIES", "")),
        redis_url=_redis_url(env.get("REDIS_URL", "").strip()),
        # Limber's default: 90 days, long enough that a phone app is not re-paired every few
        # weeks, short enough that a forgotten token stops working within a season.
        token_days=_count(env, "LIMBER_TOKEN_DAYS", 90, 3650, "days"),
        rate_limits=_flag(env, "LIMBER_RATE_LIMITS") if env.get("LIMBER_RATE_LIMITS") else True,
        workers=_count(env, "LIMBER_WORKERS", 1, 64, "server processes"),
        threads=_count(env, "LIMBER_THREADS", 8, 256, "threads"),
        secret_key_from_env=bool(env.get("LIMBER_SECRET_KEY")),
    )


# Every log line says when and how bad: Django's, Limber's and uvicorn's alike.
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def deploy_checks(app_configs: Any = None, **kwargs: Any) -> list[Any]:
    """What `limber check --deploy` adds to Django's own checks: settings that work on one
    machine and go wrong behind a proxy or with several servers."""
    from django.conf import settings
    from django.core.checks import Warning

    cfg: Config = settings.CONFIG
    found = []
    if cfg.https and not cfg.trusted_proxies:
        found.append(
            Warning(
                "LIMBER_HTTPS is on but LIMBER_TRUSTED_PROXIES is empty",
                hint="Set LIMBER_TRUSTED_PROXIES to the TLS proxy's address or network "
                "(10.0.0.2, 10.0.0.0/24). Until then its X-Forwarded-Proto is not believed, so "
                "the redirect to https loops, and every client has the proxy's address, so all "
                "share one login throttle and one rate limit.",
                id="limber.W001",
            )
        )
    if not cfg.secret_key_from_env and cfg.database.get("ENGINE", "").endswith("postgresql"):
        found.append(
            Warning(
                "LIMBER_SECRET_KEY is not set while the database is PostgreSQL",
                hint="Each app server would make its own key in its data folder, and a login "
                "or a mailed link made by one would be refused by the others. Set the same "
                "LIMBER_SECRET_KEY (50 or more random characters) on every app server.",
                id="limber.W002",
            )
        )
    return found
