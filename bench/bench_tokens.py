"""What a bearer-token lookup costs: from the database every time, against the brief token cache.

    .venv/bin/python bench/bench_tokens.py                                   # SQLite, in-process cache
    .venv/bin/python bench/bench_tokens.py --database postgres://postgres@127.0.0.1:5432/bench \
        --redis redis://127.0.0.1:6379/1

Prints the median time of ApiToken.objects.user_for() with the cache emptied before each call
(the database path, as before the cache) and with the cache warm, and their ratio, all in one
process on a fresh database.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--database", default="", help="DATABASE_URL (default: a fresh SQLite)")
    parser.add_argument("--redis", default="", help="REDIS_URL for the cache (default: in-process)")
    parser.add_argument("--calls", type=int, default=2000)
    args = parser.parse_args()

    os.environ["LIMBER_DATA_DIR"] = tempfile.mkdtemp(prefix="limber-bench-tokens-")
    os.environ["DATABASE_URL"] = args.database
    os.environ["REDIS_URL"] = args.redis
    os.environ["DJANGO_SETTINGS_MODULE"] = "limber.settings"
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.cache import cache
    from django.core.management import call_command

    from limber.accounts.models import ApiToken, Profile, _cache_key, _digest

    call_command("migrate", verbosity=0)
    User = get_user_model()
    user = User.objects.filter(username="bench@example.org").first() or User.objects.create_user(
        "bench@example.org", "bench@example.org", "x"
    )
    Profile.objects.get_or_create(user=user)
    _, key = ApiToken.objects.issue(user, name="bench")
    ck = _cache_key(_digest(key))

    def timed(warm: bool) -> float:
        samples = []
        for _ in range(args.calls):
            if not warm:
                cache.delete(ck)
            t = time.perf_counter()
            assert ApiToken.objects.user_for(key) is not None
            samples.append(time.perf_counter() - t)
        return statistics.median(samples) * 1e6

    ApiToken.objects.user_for(key)  # connections and imports out of the way
    cold = timed(warm=False)
    warm = timed(warm=True)
    where = "PostgreSQL" if args.database else "SQLite"
    backend = "Redis" if args.redis else "in-process cache"
    print(f"token lookup, {where}, {backend}, {args.calls} calls each (medians):")
    print(f"  from the database (cache emptied each call): {cold:8.0f} µs")
    print(
        f"  from the cache:                              {warm:8.0f} µs   ({cold / warm:.1f}× faster)"
    )
    ApiToken.objects.revoke(user)


if __name__ == "__main__":
    main()
