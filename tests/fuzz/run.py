"""Schemathesis against a real Limber server: every operation, every check, a fixed seed.

    make fuzz                                     # what CI runs (and with FUZZ_ARGS=--database)
    .venv/bin/python tests/fuzz/run.py --max-examples 300 --seed 7
    .venv/bin/python tests/fuzz/run.py --database postgres://postgres@127.0.0.1:5432/fuzz

Starts `limber serve` on a fresh SQLite database in a temporary folder with a patient and a
clinician who cares for them, each with a token, and runs `schemathesis run --checks all` over
the API's own OpenAPI schema twice: as the clinician (whose patient-id paths then mostly name
that patient, so the clinic's operations answer more than 404), then as the patient. It prints
the reports and fails on any server error, schema violation or mismatch in either run. Request
rate limits are off (the fuzzer is one user writing hundreds of times a minute); the quotas stay.
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
    ap.add_argument(
        "--database", default="", help="a PostgreSQL URL whose database is made afresh (default: "
        "SQLite); PostgreSQL refuses some text SQLite keeps, such as NUL",
    )  # fmt: skip
    args = ap.parse_args()

    data = tempfile.mkdtemp(prefix="limber-fuzz-")
    env = {**os.environ, "LIMBER_DATA_DIR": data, "LIMBER_PASSWORD": "fuzz-password-123",
           "LIMBER_RATE_LIMITS": "off", "SCHEMATHESIS_HOOKS": "fuzz_hooks",
           "PYTHONPATH": os.pathsep.join(filter(None, [str(HERE), os.environ.get("PYTHONPATH")]))}  # fmt: skip
    for name in ("DJANGO_SETTINGS_MODULE", "DATABASE_URL", "REDIS_URL"):
        env.pop(name, None)
    if args.database:
        if not args.database.startswith("postgres://"):
            sys.exit("run.py: --database takes a postgres:// URL")
        pg, name = ["-h", "127.0.0.1", "-U", "postgres"], args.database.rsplit("/", 1)[1]
        subprocess.run(["dropdb", *pg, "--if-exists", name], check=True)
        subprocess.run(["createdb", *pg, name], check=True)
        env["DATABASE_URL"] = args.database
    limber(env, "migrate", "--no-input")
    limber(env, "createuser", "fuzz@example.org")
    limber(env, "createuser", "clinician@example.org", "--role", "clinician")
    tokens = {
        "clinician": limber(env, "token", "clinician@example.org").split()[-1],
        "patient": limber(env, "token", "fuzz@example.org").split()[-1],
    }
    patient_id = limber(
        env,
        "shell",
        "-c",
        (
            "from django.contrib.auth.models import User;from limber.practice.models import Screening;"
            "from limber.clinic.models import CareLink;from limber.core.screening import QUESTIONS;"
            "p=User.objects.get(username='fuzz@example.org');"
            "Screening.objects.create(user=p,answers={q.id: False for q in QUESTIONS},flagged=False);"
            "CareLink.objects.create(patient=p,clinician=User.objects.get(username='clinician@example.org'));"
            "print(p.id)"
        ),
    ).split()[-1]  # fmt: skip (the shell prints its auto-imports first)

    port = args.port or free_port()
    print(f"server on port {port}", flush=True)
    # The server's log goes to a file: a pipe read only at the end fills up with its 4xx
    # warnings (64 KB) and then blocks every thread that logs, which looks like a hung server.
    log = open(Path(data) / "server.log", "w+")  # noqa: SIM115 (closed in finally)
    server = subprocess.Popen(
        [PYTHON, "-m", "limber", "serve", "--port", str(port)],
        env=env, stdout=subprocess.DEVNULL, stderr=log, text=True,
    )  # fmt: skip
    try:
        for _ in range(150):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        url = f"http://127.0.0.1:{port}/api/v1/openapi.json"
        generated, code = 0, 0
        for role, token in tokens.items():
            command = [
                SCHEMATHESIS, "run", url,
                "--checks", "all",
                "--seed", str(args.seed),
                "--max-examples", str(args.max_examples),
                "--header", f"Authorization: Bearer {token}",
                "--suppress-health-check", "all",
                "--no-color",
            ]  # fmt: skip
            print(f"# as the {role}\n$", " ".join(command).replace(token, "<token>"), flush=True)
            role_env = {**env, "FUZZ_PATIENT_ID": patient_id if role == "clinician" else ""}
            run = subprocess.Popen(
                command, env=role_env, cwd=data, stdout=subprocess.PIPE, text=True
            )
            cases = 0
            for line in run.stdout or ():
                print(line, end="", flush=True)
                found = re.search(r"(\d+) generated", line)
                cases = int(found.group(1)) if found else cases
            generated += cases
            returned = run.wait()
            code = code or returned
        if code == 0 and generated < MIN_CASES:
            print(f"only {generated} cases were generated; CI asks for {MIN_CASES}")
            code = 1
        print(f"{generated} cases in all", flush=True)
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        log.seek(0)
        errors = log.read()
        log.close()
        shutil.rmtree(data, ignore_errors=True)
    if "Traceback" in (errors or ""):
        print("the server logged a traceback:\n" + errors[-4000:], file=sys.stderr)
        code = code or 1
    return code


if __name__ == "__main__":
    sys.exit(main())
