"""POST /api/v1/sessions under load: latency percentiles, errors, lost or doubled sessions.

Starts `limber serve` (uvicorn) on a fresh database, then runs N concurrent clients for a while,
each a user of its own posting sessions of 6 holds; one post in ten is a replay of an earlier
one, as a flaky phone would send. Afterwards it counts what the database holds. The rate limits
and quotas are on, as in production: an honest client never meets them.

    .venv/bin/python bench/bench_sessions.py                       # SQLite, 50 clients, 30 s
    .venv/bin/python bench/bench_sessions.py --database postgres://postgres@127.0.0.1:5432/bench
    .venv/bin/python bench/bench_sessions.py --interval 0          # closed loop: as fast as possible
    # what issue 10 asks: a clinic's load on PostgreSQL, two workers sharing Redis
    .venv/bin/python bench/bench_sessions.py --clients 200 --seconds 60 --workers 2 \
        --database postgres://postgres@127.0.0.1:5432/bench --redis redis://127.0.0.1:6379/2

--interval is the pause of each client between posts (default 1 s: 50 clients ≈ 50 posts/s, far
above what a clinic's patients send); 0 measures the server's ceiling, where latency is queueing.
A phone in a session posts once per hold, and a hold lasts 10 s or more, so `--interval 10` is
the pace of people actually practising: 200 clients then send about 20 posts a second.
"""

from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing
import os
import random
import statistics
import subprocess
import tempfile
import threading
import time

from benchlib import PYTHON, environment, free_port, limber, load_average, make_users, wait_for
from benchlib import session_body as body

KEEP_ALIVE_S = 4  # under uvicorn's timeout_keep_alive (5 s)


def client(port, token, window, interval, latencies, errors, sent, lock, seed):
    """One simulated phone: post a session, wait, repeat until the deadline. Latencies count
    from the window's start on (the warm-up before it opens connections and fills caches)."""
    measure_from, deadline = window
    rng = random.Random(seed)
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    mine: list[dict] = []
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    if interval:
        time.sleep(rng.uniform(0, interval))  # clients arrive spread out, not all at once
    last = time.monotonic()
    while time.monotonic() < deadline:
        if time.monotonic() - last > KEEP_ALIVE_S:
            # uvicorn closes an idle connection after 5 s; a phone would open a new one, and
            # so do we (the connect is part of the latency), rather than write into a closed one.
            conn.close()
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        replay = mine and rng.random() < 0.1
        payload = rng.choice(mine) if replay else body()
        data = json.dumps(payload)
        t0, t0_wall = time.perf_counter(), time.monotonic()
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
        last = time.monotonic()
        with lock:
            if status == 201:
                if t0_wall >= measure_from:
                    latencies.append(elapsed)
                if not replay:
                    sent.add(payload["id"])
                    mine.append(payload)
            else:
                errors.append(status)
        if interval:
            # Jittered pacing so clients do not march in step.
            time.sleep(rng.uniform(0.5, 1.5) * interval)


def worker(port, tokens, window, interval, first_seed):
    """A process of client threads: spreading clients over processes keeps the load generator's
    own GIL out of the measured latency."""
    latencies: list[float] = []
    errors: list = []
    sent: set[str] = set()
    lock = threading.Lock()
    threads = [
        threading.Thread(
            target=client,
            args=(port, token, window, interval, latencies, errors, sent, lock, first_seed + i),
        )
        for i, token in enumerate(tokens)
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
    ap.add_argument(
        "--warmup", type=float, default=None, help="seconds not measured first (default: 5 s "
        "or one interval, whichever is longer: a server in use is warm)",
    )  # fmt: skip
    ap.add_argument("--workers", type=int, default=1, help="server processes")
    ap.add_argument(
        "--server-cpus", default="", help="pin the server to these cores, e.g. 0 (taskset)"
    )
    ap.add_argument("--processes", type=int, default=5, help="load-generating processes")
    ap.add_argument("--database", default="", help="DATABASE_URL (default: a fresh SQLite file)")
    ap.add_argument("--redis", default="", help="REDIS_URL: the cache the workers share")
    args = ap.parse_args()

    env = environment(args.database)
    if args.redis:
        env["REDIS_URL"] = args.redis
        subprocess.run(["redis-cli", "-u", args.redis, "flushdb"], check=True, capture_output=True)
    limber(env, "migrate", "--no-input")
    tokens = make_users(env, args.clients)
    load_before = load_average()

    port = free_port()
    pin = ["taskset", "-c", args.server_cpus] if args.server_cpus else []
    if args.server_cpus:
        # The load generator gets the other cores, as clients on other machines would.
        others = sorted(
            set(range(os.cpu_count() or 1)) - {int(c) for c in args.server_cpus.split(",")}
        )
        if others:
            os.sched_setaffinity(0, others)
    # The server's log goes to a file: a pipe nobody reads fills up and stalls the server.
    log = tempfile.TemporaryFile("w+")
    server = subprocess.Popen(
        [*pin, PYTHON, "-m", "limber", "serve", "--port", str(port), "--workers", str(args.workers)],
        env=env,
        stdout=subprocess.DEVNULL, stderr=log,
    )  # fmt: skip
    try:
        wait_for(port)
        latencies: list[float] = []
        errors: list = []
        sent: set[str] = set()
        warmup = max(5.0, args.interval) if args.warmup is None else args.warmup
        # Monotonic clocks agree across processes.
        started = time.monotonic() + warmup
        window = (started, started + args.seconds)
        shares = [tokens[i :: args.processes] for i in range(args.processes)]
        with multiprocessing.Pool(args.processes) as pool:
            jobs = [
                pool.apply_async(worker, (port, share, window, args.interval, 1000 * i))
                for i, share in enumerate(shares)
            ]
            for job in jobs:
                lat, err, ids = job.get()
                latencies += lat
                errors += err
                sent |= ids
    finally:
        server.terminate()
        server.wait(10)
        log.seek(0)
        if "Traceback" in (logged := log.read()):
            print("the server logged a traceback:\n" + logged[-3000:])
        log.close()

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
    print(f"database            {db}" + (" and Redis" if args.redis else ""))
    pinned = f", pinned to cores {args.server_cpus}" if args.server_cpus else ""
    print(f"server              limber serve --workers {args.workers} (uvicorn){pinned}")
    print(
        f"clients, duration   {args.clients} clients, {args.seconds:g} s measured after {warmup:g} s "
        f"of warm-up, interval {args.interval:g} s"
    )
    rate = len(lat) / args.seconds
    print(f"requests ok         {len(lat)} ({rate:.0f}/s), errors {len(errors)}")
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
    print(f"before: {load_before}")
    print(f"after:  {load_average()}")


if __name__ == "__main__":
    main()
