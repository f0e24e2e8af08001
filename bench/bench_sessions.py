"""POST /api/v1/sessions under load: latency percentiles, errors, lost or doubled sessions.

Starts `limber serve` (uvicorn, one process) on a fresh database, then runs N concurrent clients
for a while, each posting sessions of 6 holds; one post in ten is a replay of an earlier one,
as a flaky phone would send. Afterwards it counts what the database holds.

    .venv/bin/python bench/bench_sessions.py                       # SQLite, 50 clients, 30 s
    .venv/bin/python bench/bench_sessions.py --database postgres://postgres@127.0.0.1:5432/bench
    .venv/bin/python bench/bench_sessions.py --interval 0          # closed loop: as fast as possible

--interval is the pause of each client between posts (default 1 s: 50 clients ≈ 50 posts/s, far
above what a clinic's patients send); 0 measures the server's ceiling, where latency is queueing.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def limber(env: dict, *args: str) -> str:
    run = subprocess.run([PYTHON, "-m", "limber", *args], env=env, capture_output=True, text=True)
    if run.returncode:
        sys.exit(f"limber {' '.join(args)} failed: {run.stderr.strip()}")
    return run.stdout.strip()


def body() -> dict:
    holds = [
        {
            "id": str(uuid.uuid4()), "exercise": "towel-hamstring-stretch", "variant": "towel",
            "side": side, "rep": rep, "target_s": 15, "held_s": 15.2, "stretch_felt": True,
            "pain": 2,
        }
        for side in ("left", "right") for rep in (1, 2, 3)
    ]  # fmt: skip
    return {
        "id": str(uuid.uuid4()), "started_at": "2026-11-24T08:00:00Z",
        "finished_at": "2026-11-24T08:09:30Z", "pain_before": 3, "pain_after": 2,
        "pain_spread": False, "holds": holds,
    }  # fmt: skip


def client(port, token, deadline, interval, latencies, errors, sent, lock, seed):
    """One simulated phone: post a session, wait, repeat until the deadline."""
    rng = random.Random(seed)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    mine: list[dict] = []
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    if interval:
        time.sleep(rng.uniform(0, interval))  # clients arrive spread out, not all at once
    while time.monotonic() < deadline:
        replay = mine and rng.random() < 0.1
        payload = rng.choice(mine) if replay else body()
        data = json.dumps(payload)
        t0 = time.perf_counter()
        try:
            conn.request("POST", "/api/v1/sessions", data, headers)
            response = conn.getresponse()
            response.read()
            status = response.status
        except (OSError, http.client.HTTPException) as e:
            status = repr(e)
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        elapsed = time.perf_counter() - t0
        with lock:
            if status == 201:
                latencies.append(elapsed)
                if not replay:
                    sent.add(payload["id"])
                    mine.append(payload)
            else:
                errors.append(status)
        if interval:
            # Jittered pacing so clients do not march in step.
            time.sleep(rng.uniform(0.5, 1.5) * interval)


def worker(port, token, deadline, interval, clients, first_seed):
    """A process of client threads: spreading clients over processes keeps the load generator's
    own GIL out of the measured latency."""
    latencies: list[float] = []
    errors: list = []
    sent: set[str] = set()
    lock = threading.Lock()
    threads = [
        threading.Thread(
            target=client,
            args=(port, token, deadline, interval, latencies, errors, sent, lock, first_seed + i),
        )
        for i in range(clients)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return latencies, [str(e) for e in errors], sent


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--clients", type=int, default=50)
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--interval", type=float, default=1.0)
    ap.add_argument("--workers", type=int, default=1, help="server processes")
    ap.add_argument(
        "--server-cpus", default="", help="pin the server to these cores, e.g. 0 (taskset)"
    )
    ap.add_argument("--processes", type=int, default=5, help="load-generating processes")
    ap.add_argument("--database", default="", help="DATABASE_URL (default: a fresh SQLite file)")
    args = ap.parse_args()

    data_dir = tempfile.mkdtemp(prefix="limber-bench-")
    env = {**os.environ, "LIMBER_DATA_DIR": data_dir, "LIMBER_PASSWORD": "bench-password-123"}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    if args.database:
        env["DATABASE_URL"] = args.database
        if args.database.startswith("postgres"):
            name = args.database.rsplit("/", 1)[1]
            subprocess.run(["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--if-exists", name])
            subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", name], check=True)
    limber(env, "migrate", "--no-input")
    limber(env, "createuser", "bench@example.org")
    token = limber(env, "token", "bench@example.org")

    port = free_port()
    pin = ["taskset", "-c", args.server_cpus] if args.server_cpus else []
    if args.server_cpus:
        # The load generator gets the other cores, as clients on other machines would.
        others = sorted(
            set(range(os.cpu_count() or 1)) - {int(c) for c in args.server_cpus.split(",")}
        )
        if others:
            os.sched_setaffinity(0, others)
    server = subprocess.Popen(
        [*pin, PYTHON, "-m", "limber", "serve", "--port", str(port), "--workers", str(args.workers)],
        env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.1)
        latencies: list[float] = []
        errors: list = []
        sent: set[str] = set()
        started = time.monotonic()
        deadline = started + args.seconds  # monotonic clocks agree across processes
        per = [args.clients // args.processes + (i < args.clients % args.processes)
               for i in range(args.processes)]  # fmt: skip
        with multiprocessing.Pool(args.processes) as pool:
            jobs = [
                pool.apply_async(worker, (port, token, deadline, args.interval, n, 1000 * i))
                for i, n in enumerate(per)
            ]
            for job in jobs:
                lat, err, ids = job.get()
                latencies += lat
                errors += err
                sent |= ids
        wall = time.monotonic() - started
    finally:
        server.terminate()
        server.wait(10)

    counts = subprocess.run(
        [PYTHON, "-c", (
            "import django,os;os.environ['DJANGO_SETTINGS_MODULE']='limber.settings';django.setup();"
            "from limber.practice.models import PracticeSession as S, Hold as H;"
            "print(S.objects.count(), H.objects.count())"
        )], env=env, capture_output=True, text=True, check=True,
    ).stdout.split()  # fmt: skip
    stored_sessions, stored_holds = int(counts[0]), int(counts[1])
    lat = sorted(latencies)

    def pct(p: float) -> float:
        return 1000 * lat[min(len(lat) - 1, int(p / 100 * len(lat)))] if lat else float("nan")

    db = "PostgreSQL" if args.database.startswith("postgres") else "SQLite"
    print(f"database            {db}")
    pinned = f", pinned to cores {args.server_cpus}" if args.server_cpus else ""
    print(f"server              limber serve --workers {args.workers} (uvicorn){pinned}")
    print(f"clients, duration   {args.clients} clients, {wall:.1f} s, interval {args.interval:g} s")
    print(f"requests ok         {len(lat)} ({len(lat) / wall:.0f}/s), errors {len(errors)}")
    print(
        f"latency ms          p50 {pct(50):.1f}  p95 {pct(95):.1f}  p99 {pct(99):.1f}  max {pct(100):.1f}"
    )
    print(f"mean ms             {1000 * statistics.fmean(lat):.1f}" if lat else "")
    print(
        f"sessions sent/kept  {len(sent)} / {stored_sessions}  (lost or doubled: {stored_sessions - len(sent)})"
    )
    print(f"holds kept          {stored_holds} (expected {6 * len(sent)})")
    if errors:
        print("first errors", errors[:5])


if __name__ == "__main__":
    main()
