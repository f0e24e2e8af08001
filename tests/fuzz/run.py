"""Schemathesis against a real Limber server: every operation, every check, a fixed seed.

    make fuzz                                     # what CI runs
    .venv/bin/python tests/fuzz/run.py --max-examples 300 --seed 7

Starts `limber serve` on a fresh SQLite database in a temporary folder with a user and a token,
runs `schemathesis run --checks all` over the API's own OpenAPI schema, prints its report and
exits with its code: any server error, schema violation or mismatch fails. Request rate limits
are off (the fuzzer is one user writing hundreds of times a minute); the quotas stay on.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
MIN_CASES = 1000  # over all operations, whatever the phases
PYTHON = sys.executable
SCHEMATHESIS = str(Path(PYTHON).with_name("schemathesis"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def limber(env: dict[str, str], *args: str) -> str:
    run = subprocess.run([PYTHON, "-m", "limber", *args], env=env, capture_output=True, text=True)
    if run.returncode:
        sys.exit(f"limber {' '.join(args)} failed: {run.stderr.strip()}")
    return run.stdout.strip()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--seed", type=int, default=20261125)
    # 21 operations (the clinic's included): 50 each is about 2,000 cases with the coverage and
    # stateful phases, over the 1,000 CI asks for, in about a minute.
    ap.add_argument("--max-examples", type=int, default=50)
    ap.add_argument("--port", type=int, default=0, help="default: any free port")
    args = ap.parse_args()

    data = tempfile.mkdtemp(prefix="limber-fuzz-")
    env = {**os.environ, "LIMBER_DATA_DIR": data, "LIMBER_PASSWORD": "fuzz-password-123",
           "LIMBER_RATE_LIMITS": "off", "SCHEMATHESIS_HOOKS": "fuzz_hooks",
           "PYTHONPATH": os.pathsep.join(filter(None, [str(HERE), os.environ.get("PYTHONPATH")]))}  # fmt: skip
    for name in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL", "REDIS_URL"):
        env.pop(name, None)
    limber(env, "migrate", "--no-input")
    limber(env, "createuser", "fuzz@example.org")
    token = limber(env, "token", "fuzz@example.org").split()[-1]
    limber(env, "shell", "-c", (
        "from django.contrib.auth.models import User;from limber.practice.models import Screening;"
        "from limber.core.screening import QUESTIONS;"
        "Screening.objects.create(user=User.objects.get(username='fuzz@example.org'),"
        "answers={q.id: False for q in QUESTIONS}, flagged=False)"
    ))  # fmt: skip

    port = args.port or free_port()
    server = subprocess.Popen(
        [PYTHON, "-m", "limber", "serve", "--port", str(port)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        for _ in range(150):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        url = f"http://127.0.0.1:{port}/api/v1/openapi.json"
        command = [
            SCHEMATHESIS, "run", url,
            "--checks", "all",
            "--seed", str(args.seed),
            "--max-examples", str(args.max_examples),
            "--header", f"Authorization: Bearer {token}",
            "--suppress-health-check", "all",
            "--no-color",
        ]  # fmt: skip
        print("$", " ".join(command).replace(token, "<token>"), flush=True)
        run = subprocess.Popen(command, env=env, cwd=data, stdout=subprocess.PIPE, text=True)
        generated = 0
        for line in run.stdout or ():
            print(line, end="", flush=True)
            found = re.search(r"(\d+) generated", line)
            generated = int(found.group(1)) if found else generated
        code = run.wait()
        if code == 0 and generated < MIN_CASES:
            print(f"only {generated} cases were generated; CI asks for {MIN_CASES}")
            code = 1
    finally:
        server.terminate()
        try:
            _, errors = server.communicate(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            _, errors = server.communicate()
        shutil.rmtree(data, ignore_errors=True)
    if "Traceback" in (errors or ""):
        print("the server logged a traceback:\n" + errors[-4000:], file=sys.stderr)
        code = code or 1
    return code


if __name__ == "__main__":
    sys.exit(main())
