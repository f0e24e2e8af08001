"""The clinician's dashboard with 200 patients of a year's history each: latency and queries.

Builds a fresh database (a temporary SQLite file, or the PostgreSQL database named by
--database, dropped and made anew), gives one clinician 200 patients, and measures the dashboard
page (/clinic/) and GET /api/v1/patients in this process through Django's test client (no
network): first with four weeks of history per patient, then with a whole year. The dashboard
reads only the last four weeks, so the ratio year/month should stay near 1.

    .venv/bin/python bench/bench_clinic.py
    .venv/bin/python bench/bench_clinic.py --database postgres://postgres@127.0.0.1:5432/limber_clinic_bench
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BASELINE = "/api/v1/exercises"  # the library as JSON: the request machinery and no queries
sys.path.insert(0, str(ROOT))


def fresh_postgres(url: str) -> None:
    import psycopg
    from psycopg import sql

    name = url.rsplit("/", 1)[1]
    admin = url.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def setup(database: str | None) -> str:
    data_dir = tempfile.mkdtemp(prefix="limber-bench-clinic-")
    os.environ["LIMBER_DATA_DIR"] = data_dir
    os.environ["LIMBER_ALLOWED_HOSTS"] = "testserver"
    os.environ["DJANGO_SETTINGS_MODULE"] = "limber.settings"
    if database:
        fresh_postgres(database)
        os.environ["DATABASE_URL"] = database
    else:
        os.environ.pop("DATABASE_URL", None)
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    return data_dir


def seed(clinician_email: str, patients: int, days: range, now: datetime, rng: random.Random):
    """Sessions (6 holds each, one a day, some skipped) for every patient, on the given days ago."""
    from django.contrib.auth import get_user_model
    from django.db import connection

    from limber.accounts.models import Profile
    from limber.clinic.models import CareLink, Prescription
    from limber.practice.models import Hold, PracticeSession, Screening

    User = get_user_model()
    clinician = User.objects.filter(email=clinician_email).first()
    if clinician is None:
        clinician = User.objects.create_user(username=clinician_email, email=clinician_email)
        Profile.objects.create(user=clinician, role=Profile.CLINICIAN)
        for n in range(patients):
            email = f"patient{n:03d}@example.org"
            p = User.objects.create_user(username=email, email=email)
            Profile.objects.create(user=p)
            CareLink.objects.create(
                patient=p, clinician=clinician, created=now - timedelta(days=400)
            )
            Prescription.objects.create(patient=p, data={
                "items": [{"exercise": "towel-hamstring-stretch", "variant": "towel",
                           "sides": ["left", "right"], "reps_per_side": 3, "hold_cap_s": 20}],
                "times_per_week": 7 if n % 2 else 3, "affected_side": "left", "note": "",
                "override_reason": "",
            })  # fmt: skip
    ids = list(CareLink.objects.filter(clinician=clinician).values_list("patient_id", flat=True))
    sessions, holds, screenings = [], [], []
    for pid in ids:
        for day in days:
            if rng.random() < 0.15:  # a day without stretching
                continue
            start = now - timedelta(days=day, hours=rng.uniform(0, 10))
            before = rng.randint(1, 6)
            s = PracticeSession(
                id=uuid.uuid4(), user_id=pid, started_at=start,
                finished_at=start + timedelta(minutes=9), pain_before=before,
                pain_after=max(0, before + rng.choice((-1, 0, 0, 1, 2))),
                pain_spread=rng.random() < 0.01,
            )  # fmt: skip
            sessions.append(s)
            camera = rng.random() < 0.3
            for n, (side, rep) in enumerate((sd, r) for sd in ("left", "right") for r in (1, 2, 3)):
                held = rng.uniform(12, 20)
                holds.append(
                    Hold(
                        id=uuid.uuid4(),
                        session=s,
                        exercise="towel-hamstring-stretch",
                        variant="towel",
                        side=side,
                        rep=rep,
                        target_s=20,
                        held_s=held,
                        good_form_s=held * rng.uniform(0.5, 1) if camera else None,
                        stretch_felt=True,
                        pain=None,
                        position=n,
                    )  # fmt: skip
                )
            if day % 30 == 0:
                screenings.append(
                    Screening(user_id=pid, answers={}, flagged=rng.random() < 0.02, created=start)
                )
    PracticeSession.objects.bulk_create(sessions, batch_size=2000)
    Hold.objects.bulk_create(holds, batch_size=5000)
    Screening.objects.bulk_create(screenings, batch_size=2000)
    if connection.vendor == "postgresql":
        # What autovacuum does soon after a load this size: without statistics the planner
        # guesses, and the first figures would measure its guesses rather than the dashboard.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    return clinician, len(sessions), len(holds)


def measure(client, path: str, runs: int) -> tuple[float, float, int, float, float]:
    """(median ms, p95 ms, queries per request, median ratio to the baseline, median CPU ms of
    this process: on SQLite that includes the database's work) for GET path.

    Each run is paired with one GET of BASELINE (a page that reads nothing from the database but
    the session), so a machine busy with other work slows both and the ratio stays honest."""
    from django.db import connection

    queries: list[tuple[float, str]] = []

    def count(execute, sql, params, many, context):
        t0 = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            queries.append(((time.perf_counter() - t0) * 1000, sql))

    with connection.execute_wrapper(count):
        first = client.get(path)
    for ms, sql in sorted(queries, reverse=True)[:3]:
        print(
            f"      {ms:6.1f} ms  {sql[:110] if len(sql) < 2000 else sql[:60] + ' ... ' + sql[-200:]}"
        )
    if first.status_code != 200:
        sys.exit(f"GET {path} answered {first.status_code}")
    times, ratios, cpu = [], [], []
    for _ in range(runs):
        c0 = time.process_time()
        t0 = time.perf_counter()
        client.get(path)
        t1 = time.perf_counter()
        cpu.append((time.process_time() - c0) * 1000)
        client.get(BASELINE)
        t2 = time.perf_counter()
        times.append((t1 - t0) * 1000)
        ratios.append((t1 - t0) / (t2 - t1))
    times.sort()
    p95 = times[min(len(times) - 1, round(0.95 * (len(times) - 1)))]
    return (
        statistics.median(times),
        p95,
        len(queries),
        statistics.median(ratios),
        statistics.median(cpu),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--database", help="postgres://... (dropped and made anew); SQLite if absent"
    )
    parser.add_argument("--patients", type=int, default=200)
    parser.add_argument("--runs", type=int, default=60)
    parser.add_argument("--profile", action="store_true", help="profile the dashboard and stop")
    args = parser.parse_args()
    print(f"load average before: {' '.join(f'{x:.1f}' for x in os.getloadavg())} "
          f"on {os.cpu_count()} cores (other work on the machine widens the p95)")  # fmt: skip
    data_dir = setup(args.database)
    try:
        run(args)
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


def run(args: argparse.Namespace) -> None:

    from django.conf import settings
    from django.test import Client
    from django.utils import timezone

    engine = settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[1]
    now = timezone.now().astimezone(UTC)
    rng = random.Random(9)
    results = {}
    total_sessions = total_holds = 0
    if args.profile:
        import cProfile

        clinician, _, _ = seed("carol@clinic.example", args.patients, range(0, 365), now, rng)
        client = Client()
        client.force_login(clinician)
        measure(client, "/clinic/", 3)  # prints the slowest queries
        cProfile.runctx(
            "for _ in range(10): client.get('/clinic/')", globals(), locals(), sort="tottime"
        )
        return
    for label, days in (("4 weeks", range(0, 28)), ("1 year", range(28, 365))):
        t0 = time.perf_counter()
        clinician, n_sessions, n_holds = seed("carol@clinic.example", args.patients, days, now, rng)
        total_sessions += n_sessions
        total_holds += n_holds
        print(
            f"{engine}: seeded {label} ({total_sessions} sessions, {total_holds} holds in all) "
            f"in {time.perf_counter() - t0:.0f} s",
            flush=True,
        )
        client = Client()
        client.force_login(clinician)
        for path in ("/clinic/", "/api/v1/patients"):
            med, p95, queries, ratio, cpu = measure(client, path, args.runs)
            results[(label, path)] = med
            print(
                f"  {path:18} {args.patients} patients, {label:7} of history: "
                f"median {med:6.1f} ms  p95 {p95:6.1f} ms  (CPU {cpu:5.1f} ms)  {queries} queries  "
                f"{ratio:5.1f}x {BASELINE}  ({args.runs} runs)"
            )
    for path in ("/clinic/", "/api/v1/patients"):
        ratio = results[("1 year", path)] / results[("4 weeks", path)]
        print(f"  {path:18} year / four weeks (medians): {ratio:.2f}")


if __name__ == "__main__":
    main()
