"""What the server benchmarks share: a throwaway Limber, its users and tokens, a session body."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid

PYTHON = sys.executable


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(port: int, seconds: float = 20) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    sys.exit(f"the server did not start on port {port}")


def environment(database: str = "", **extra: str) -> dict[str, str]:
    """A fresh data folder, and DATABASE_URL's database created afresh when it is PostgreSQL."""
    env = {**os.environ, "LIMBER_DATA_DIR": tempfile.mkdtemp(prefix="limber-bench-"), **extra}
    for name in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL", "REDIS_URL"):
        env.pop(name, None)
    if database:
        env["DATABASE_URL"] = database
        if database.startswith("postgres"):
            name = database.rsplit("/", 1)[1]
            pg = ["-h", "127.0.0.1", "-U", "postgres"]
            subprocess.run(["dropdb", *pg, "--if-exists", name], check=True)
            subprocess.run(["createdb", *pg, name], check=True)
    return env


def limber(env: dict[str, str], *args: str) -> str:
    run = subprocess.run([PYTHON, "-m", "limber", *args], env=env, capture_output=True, text=True)
    if run.returncode:
        sys.exit(f"limber {' '.join(args)} failed: {run.stderr.strip()}")
    return run.stdout.strip()


MAKE_USERS = """
import json, sys, django
django.setup()
from django.contrib.auth import get_user_model
from limber.accounts.models import ApiToken, Profile
tokens = []
for i in range(int(sys.argv[1])):
    email = f"{sys.argv[2]}{i}@example.org"
    user = get_user_model().objects.create_user(username=email, email=email)  # no password: fast
    Profile.objects.create(user=user, role="patient")
    tokens.append(ApiToken.objects.issue(user)[1])
print(json.dumps(tokens))
"""


def make_users(env: dict[str, str], count: int, prefix: str = "bench") -> list[str]:
    """`count` users in one process (the CLI would start Python once per user); their tokens."""
    run = subprocess.run(
        [PYTHON, "-c", MAKE_USERS, str(count), prefix],
        env={**env, "DJANGO_SETTINGS_MODULE": "limber.settings"},
        capture_output=True,
        text=True,
    )
    if run.returncode:
        sys.exit(f"making users failed: {run.stderr.strip()[-2000:]}")
    return json.loads(run.stdout)


def session_body(holds: int = 6) -> dict:
    """A session as the player sends it: towel stretch, both legs, three reps each."""
    return {
        "id": str(uuid.uuid4()), "started_at": "2026-11-24T08:00:00Z",
        "finished_at": "2026-11-24T08:09:30Z", "pain_before": 3, "pain_after": 2,
        "pain_spread": False,
        "holds": [
            {"id": str(uuid.uuid4()), "exercise": "towel-hamstring-stretch", "variant": "towel",
             "side": ("left", "right")[n % 2], "rep": n // 2 + 1, "target_s": 15, "held_s": 15.2,
             "stretch_felt": True, "pain": 2}
            for n in range(holds)
        ],
    }  # fmt: skip


def load_average() -> str:
    return "load average (1, 5, 15 min): " + " ".join(f"{x:.2f}" for x in os.getloadavg())
