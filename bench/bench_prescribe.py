"""What today's plan and the history page's reasons cost as a person's history grows.

Seeds one account per size (10 … 3,000 sessions of 12 holds, one a day) in a fresh SQLite
database, then times, in this process, the medians of:

- ``today``: ``plan.today`` (the 60-day window read as plain rows, one replay);
- ``reasons``: the history page's replay (``history._replayed``: once for the 30 sessions shown);
- ``prescribe``: the core alone over the whole history (records already in memory).

and the ratio of each to its 10-session time. With ``--old REV`` it also times the code of that
git revision (its ``prescribe`` over the full history read through the ORM, as ``plan.today``
did, and its history page's 31 calls) as the baseline, in the same process.

    .venv/bin/python bench/bench_prescribe.py
    .venv/bin/python bench/bench_prescribe.py --sizes 10 1000 3000 --old d77934d
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import ModuleType
from typing import Any

HOLDS = 12


def median_ms(fn: Any, runs: int) -> float:
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def old_module(rev: str) -> ModuleType:
    """The progression module as it was at ``rev``, imported under another name."""
    source = subprocess.run(
        ["git", "show", f"{rev}:limber/core/progression.py"],
        capture_output=True, text=True, check=True,
        cwd=Path(__file__).resolve().parent.parent,
    ).stdout  # fmt: skip
    path = Path(tempfile.mkdtemp()) / "old_progression.py"
    path.write_text(source)
    spec = importlib.util.spec_from_file_location("old_progression", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["old_progression"] = module
    spec.loader.exec_module(module)
    return module


def seed(user: Any, n: int, now: datetime) -> None:
    from limber.practice.models import Hold, PracticeSession

    sessions, holds = [], []
    for d in range(n):
        start = now - timedelta(days=n - d, hours=-8)
        s = PracticeSession(id=uuid.uuid4(), user=user, started_at=start,
                            finished_at=start + timedelta(minutes=10), pain_before=2,
                            pain_after=2, pain_spread=False)  # fmt: skip
        sessions.append(s)
        for i in range(HOLDS):
            side = "left" if i < HOLDS // 2 else "right"
            exercise = "towel-hamstring-stretch" if i % 2 == 0 else "wall-hamstring-stretch"
            variant = "towel" if exercise.startswith("towel") else "at-the-wall"
            holds.append(Hold(session=s, exercise=exercise, variant=variant, side=side,
                              rep=i % 3 + 1, target_s=10, held_s=10, stretch_felt=True, pain=2,
                              position=i))  # fmt: skip
    PracticeSession.objects.bulk_create(sessions, batch_size=500)
    Hold.objects.bulk_create(holds, batch_size=2000)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[10, 100, 1000, 3000])
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--old", help="a git revision to time as the baseline (e.g. d77934d)")
    args = ap.parse_args()

    os.environ["LIMBER_DATA_DIR"] = tempfile.mkdtemp(prefix="limber-prescribe-")
    os.environ.pop("DATABASE_URL", None)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "limber.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    old = old_module(args.old) if args.old else None
    now = datetime.now(UTC)
    print(f"{'sessions':>8} {'today ms':>9} {'reasons ms':>10} {'core ms':>8}"
          + (f" {'old today':>9} {'old page':>9}" if old else ""))  # fmt: skip
    base: dict[str, float] = {}
    for n in args.sizes:
        row = measure(n, now, args.runs, old)
        base = base or dict(row)
        cells = " ".join(f"{v:>8.1f}{'':1}" for v in row.values())
        ratios = " ".join(f"{k} ×{row[k] / base[k]:.1f}" for k in ("today", "reasons"))
        print(f"{n:>8} {cells}  ({ratios} against {args.sizes[0]})")


def measure(n: int, now: datetime, runs: int, old: ModuleType | None) -> dict[str, float]:
    from django.contrib.auth import get_user_model

    from limber.core import progression
    from limber.library import get_library
    from limber.practice import history, plan, store
    from limber.practice.models import Screening

    library = get_library()
    user = get_user_model().objects.create_user(f"u{n}@example.org", "pw-123-bench")
    Screening.objects.create(user=user, answers={}, flagged=False)
    seed(user, n, now)
    shown = list(store.sessions_before(user)[: history.REASONED_SESSIONS])
    shown_ids = [str(s.id) for s in shown]
    records = plan.window_records(user, None)
    row = {
        "today": median_ms(lambda: plan.today(user, now), runs),
        "reasons": median_ms(lambda: history._replayed(user, shown_ids, now), runs),
        "core": median_ms(lambda: progression.prescribe(library, records, now.date()), 3),
    }
    if old is not None:

        def old_today() -> None:
            old.prescribe(library, plan.window_records(user, None), now.date())

        def old_page() -> None:
            # The history page before: 30 prescriptions over the history before each, and today's.
            recs = plan.window_records(user, None)
            for s in shown:
                before = [r for r in recs if r.started_at < s.started_at]
                old.prescribe(library, before, s.started_at.date())
            old.prescribe(library, recs, now.date())

        row["old today"] = median_ms(old_today, 1 if n > 1000 else 3)
        row["old page"] = median_ms(old_page, 1)
    return row


if __name__ == "__main__":
    main()
