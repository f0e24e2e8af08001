"""kill -9 in the middle of concurrent writes: is every acknowledged session still there, whole?

Serves Limber (uvicorn, SQLite in WAL mode, as shipped) on a throwaway database, has --clients
threads post sessions of 6 holds as fast as they can, and after a random moment kills the server
with SIGKILL, without warning. Then it opens the database file itself and counts: every session
answered 201 must be there with all 6 holds; `PRAGMA integrity_check` must say "ok". Repeats
--rounds times on the same database, restarting the server each time.

    .venv/bin/python bench/bench_crash.py                 # 5 rounds, 20 clients
    .venv/bin/python bench/bench_crash.py --rounds 10 --clients 40 --synchronous FULL

A kill -9 loses nothing that SQLite has committed, whatever `synchronous` says: that setting
is about power loss, which this cannot imitate (see the README).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

from benchlib import (
    PYTHON,
    environment,
    free_port,
    limber,
    load_average,
    make_users,
    session_body,
    wait_for,
)

HOLDS = 6
# Writers take a fresh user after this many sessions, so the per-user daily quota of new
# sessions (100) never refuses a write here.
PER_USER = 80


def writer(port: int, tokens, stop: threading.Event, acked: list[str], lock) -> None:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    sent = 0
    while not stop.is_set():
        if sent % PER_USER == 0:
            with lock:
                headers = {"Authorization": f"Bearer {tokens.pop()}",
                           "Content-Type": "application/json"}  # fmt: skip
        payload = session_body(HOLDS)
        try:
            conn.request("POST", "/api/v1/sessions", json.dumps(payload), headers)
            response = conn.getresponse()
            response.read()
        except (OSError, http.client.HTTPException):
            conn.close()
            if stop.is_set():
                return
            time.sleep(0.01)
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            continue
        sent += 1
        if response.status == 201:
            with lock:
                acked.append(payload["id"])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--clients", type=int, default=20)
    ap.add_argument("--min-s", type=float, default=2.0, help="shortest time before the kill")
    ap.add_argument("--max-s", type=float, default=6.0, help="longest time before the kill")
    ap.add_argument(
        "--synchronous", default="", help="LIMBER_SQLITE_SYNCHRONOUS (default: as shipped)"
    )
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()
    rng = random.Random(args.seed)

    env = environment(LIMBER_RATE_LIMITS="off")
    data = Path(env["LIMBER_DATA_DIR"])
    if args.synchronous:
        env["LIMBER_SQLITE_SYNCHRONOUS"] = args.synchronous
    limber(env, "migrate", "--no-input")
    databases = [p for p in data.rglob("*.sqlite3")]
    if len(databases) != 1:
        sys.exit(f"expected one SQLite file under {data}, found {databases}")
    db = databases[0]
    tokens = make_users(env, 1000, "crash")

    acked: list[str] = []
    lock = threading.Lock()
    print(f"SQLite {db.name}, synchronous={args.synchronous or 'as shipped'}, "
          f"{args.clients} writers, {args.rounds} rounds")  # fmt: skip
    for round_no in range(1, args.rounds + 1):
        port = free_port()
        server = subprocess.Popen(
            [PYTHON, "-m", "limber", "serve", "--port", str(port)],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
        )  # fmt: skip
        wait_for(port)
        stop = threading.Event()
        before = len(acked)
        threads = [threading.Thread(target=writer, args=(port, tokens, stop, acked, lock))
                   for _ in range(args.clients)]  # fmt: skip
        for t in threads:
            t.start()
        time.sleep(rng.uniform(args.min_s, args.max_s))
        os.killpg(server.pid, signal.SIGKILL)  # the server and anything it started, at once
        server.wait()
        stop.set()
        for t in threads:
            t.join()
        print(f"round {round_no}: killed after {len(acked) - before} acknowledged sessions",
              flush=True)  # fmt: skip

    with sqlite3.connect(db) as conn:
        integrity = conn.execute("PRAGMA integrity_check").fetchone()[0]
        stored = dict(
            conn.execute(
                "SELECT s.id, COUNT(h.id) FROM practice_practicesession s "
                "LEFT JOIN practice_hold h ON h.session_id = s.id GROUP BY s.id"
            ).fetchall()
        )
    present = [i for i in acked if uuid.UUID(i).hex in stored]
    whole = [i for i in present if stored[uuid.UUID(i).hex] == HOLDS]
    partial = sum(1 for n in stored.values() if n not in (0, HOLDS))
    print(f"acknowledged {len(acked)}, present {len(present)}, with all {HOLDS} holds {len(whole)}")
    print(f"lost {len(acked) - len(present)}; sessions stored with some holds missing: {partial}")
    print(f"stored but never acknowledged (killed between commit and answer): "
          f"{len(stored) - len(present)}")  # fmt: skip
    print(f"PRAGMA integrity_check: {integrity}")
    print(load_average())
    ok = integrity == "ok" and len(whole) == len(acked) and not partial
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
