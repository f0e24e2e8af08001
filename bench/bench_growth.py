"""Does a request cost more as a user's history grows? Medians by history size, in one process.

For users with 10, 100, 1,000 and 3,000 sessions of 12 holds each (one session a day, going
back from today), times /api/v1/today, the /history/ page, /api/v1/history (its first page) and
their clinician's page of the patient through Django's test client on a throwaway database, and
prints each median and the ratio of
the largest history to the smallest. Goal (issue 10): the 3,000-session median within 2x of the
10-session one, and no median over 100 ms.

    .venv/bin/python bench/bench_growth.py
    .venv/bin/python bench/bench_growth.py --sizes 10,100 --repeat 3
    .venv/bin/python bench/bench_growth.py --database postgres://postgres@127.0.0.1:5432/growth

Each request is timed --repeat times (after one untimed warm-up), or fewer when one size has
already taken --budget seconds, so a slow endpoint still finishes.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import timedelta

ENDPOINTS = ("/api/v1/today", "/history/", "/api/v1/history", "/clinic/patients/{id}/")
HOLDS = [(ex, v, side, rep) for ex, v in (("towel-hamstring-stretch", "towel"),
                                          ("wall-hamstring-stretch", "at-the-wall"))
         for side in ("left", "right") for rep in (1, 2, 3)]  # fmt: skip


def setup(database: str) -> str:
    data = tempfile.mkdtemp(prefix="limber-growth-")
    os.environ.update(LIMBER_DATA_DIR=data, DJANGO_SETTINGS_MODULE="limber.settings",
                      LIMBER_RATE_LIMITS="off")  # fmt: skip
    os.environ.pop("REDIS_URL", None)
    if database:
        os.environ["DATABASE_URL"] = database
        if database.startswith("postgres"):
            name = database.rsplit("/", 1)[1]
            subprocess.run(["dropdb", "-h", "127.0.0.1", "-U", "postgres", "--if-exists", name])
            subprocess.run(["createdb", "-h", "127.0.0.1", "-U", "postgres", name], check=True)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return "PostgreSQL" if database.startswith("postgres") else "SQLite"


def make_user(n_sessions: int):
    """A user with n sessions of 12 holds, one a day up to yesterday, and a clean screening."""
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from limber.accounts.models import Profile
    from limber.core.screening import QUESTIONS
    from limber.practice.models import Hold, PracticeSession, Screening

    email = f"growth-{n_sessions}-{uuid.uuid4().hex[:6]}@example.org"
    user = get_user_model().objects.create_user(username=email, email=email)
    Profile.objects.create(user=user, role="patient")
    Screening.objects.create(user=user, answers={q.id: False for q in QUESTIONS}, flagged=False)
    now = timezone.now().replace(hour=8, minute=0, second=0, microsecond=0)
    for start in range(0, n_sessions, 500):
        sessions = [
            PracticeSession(user=user, started_at=now - timedelta(days=d + 1),
                            finished_at=now - timedelta(days=d + 1) + timedelta(minutes=9),
                            pain_before=3, pain_after=2, pain_spread=False)
            for d in range(start, min(n_sessions, start + 500))
        ]  # fmt: skip
        PracticeSession.objects.bulk_create(sessions)
        Hold.objects.bulk_create(
            Hold(session=s, exercise=ex, variant=v, side=side, rep=rep, target_s=15,
                 held_s=14.5 + (i % 3), good_form_s=12.0, stretch_felt=True, pain=2, position=i)
            for s in sessions for i, (ex, v, side, rep) in enumerate(HOLDS)
        )  # fmt: skip
    return user


def measure(client, path: str, repeat: int, budget: float) -> tuple[float, int]:
    response = client.get(path)  # warm-up, and a check that it works at all
    if response.status_code != 200:
        sys.exit(f"{path} answered {response.status_code}: {response.content[:300]!r}")
    times: list[float] = []
    spent = 0.0
    while len(times) < repeat and (not times or spent < budget):
        t0 = time.perf_counter()
        client.get(path)
        times.append(time.perf_counter() - t0)
        spent += times[-1]
    return statistics.median(times) * 1000, len(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", default="10,100,1000,3000", help="sessions per user")
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--budget", type=float, default=20.0, help="seconds per size and endpoint")
    ap.add_argument("--database", default="", help="DATABASE_URL (default: a fresh SQLite file)")
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]

    db = setup(args.database)
    from django.contrib.auth import get_user_model
    from django.test import Client

    from limber.accounts.models import Profile
    from limber.clinic.models import CareLink

    clinician = get_user_model().objects.create_user(username="carol", email="carol@example.org")
    Profile.objects.create(user=clinician, role="clinician")
    carol = Client(HTTP_HOST="localhost")
    carol.force_login(clinician)
    print(f"database {db}; 12 holds a session; median of up to {args.repeat} requests, in ms")
    print(f"{'sessions':>9}" + "".join(f"{p:>23}" for p in ENDPOINTS), flush=True)
    results: dict[int, list[float]] = {}
    for n in sizes:
        t0 = time.perf_counter()
        user = make_user(n)
        made = time.perf_counter() - t0
        client = Client(HTTP_HOST="localhost")
        client.force_login(user)
        CareLink.objects.create(patient=user, clinician=clinician)
        row, counts = [], []
        for path in ENDPOINTS:
            who = carol if path.startswith("/clinic/") else client
            median, count = measure(who, path.format(id=user.pk), args.repeat, args.budget)
            row.append(median)
            counts.append(count)
        results[n] = row
        cells = "".join(f"{m:>23.1f}" for m in row)
        few = f", requests timed {counts}" if min(counts) < args.repeat else ""
        print(f"{n:>9}{cells}   (history made in {made:.1f} s{few})", flush=True)
    small, large = min(sizes), max(sizes)
    if small != large:
        ratios = "".join(
            f"{results[large][i] / results[small][i]:>22.1f}x" for i in range(len(ENDPOINTS))
        )
        print(f"{f'{large}/{small}':>9}{ratios}")
        worst = max(max(r) for r in results.values())
        print(f"goal: ratio <= 2x and every median <= 100 ms; slowest median here {worst:.0f} ms")
    print(f"load average (1, 5, 15 min): {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
