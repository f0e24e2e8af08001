"""Does a password-reset request take the same time for a known and an unknown address?

    .venv/bin/python bench/bench_reset.py [--mail-delay-ms 200]

Posts the reset form in one process on a fresh SQLite database, alternating a known and an
unknown address, with a mail backend that takes --mail-delay-ms to send (a slow SMTP server);
prints the median answer time of each and their difference. The rate limits are reset between
requests so that only the reset itself is measured.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time

from django.core.mail.backends.locmem import EmailBackend

MAIL_DELAY_S = 0.2


class SlowBackend(EmailBackend):
    """Django's test mailbox behind a slow mail server."""

    def send_messages(self, messages):
        time.sleep(MAIL_DELAY_S)
        return super().send_messages(messages)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mail-delay-ms", type=float, default=200)
    parser.add_argument("--requests", type=int, default=40)
    args = parser.parse_args()

    os.environ["LIMBER_DATA_DIR"] = tempfile.mkdtemp(prefix="limber-bench-reset-")
    os.environ["DJANGO_SETTINGS_MODULE"] = "limber.settings"
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.core.cache import cache
    from django.core.management import call_command
    from django.test import Client

    from limber.accounts.mail import wait_for_mail

    global MAIL_DELAY_S
    MAIL_DELAY_S = args.mail_delay_ms / 1000
    settings.EMAIL_BACKEND = f"{__name__}.SlowBackend"
    settings.ALLOWED_HOSTS = ["testserver"]
    call_command("migrate", verbosity=0)
    get_user_model().objects.create_user("known@example.org", "known@example.org", "x" * 12)
    client = Client()
    times: dict[str, list[float]] = {"known": [], "unknown": []}
    for i in range(args.requests * 2):
        who = ("known", "unknown")[i % 2]
        cache.clear()
        t = time.perf_counter()
        answer = client.post("/accounts/password-reset/", {"email": f"{who}@example.org"})
        times[who].append(time.perf_counter() - t)
        assert answer.status_code == 302
        wait_for_mail()  # so one request's mail never overlaps the next request's timing
    known, unknown = (statistics.median(times[w]) * 1000 for w in ("known", "unknown"))
    print(
        f"password reset, mail takes {args.mail_delay_ms:g} ms, {args.requests} requests each (medians):"
    )
    print(f"  known address:   {known:6.2f} ms")
    print(f"  unknown address: {unknown:6.2f} ms")
    print(f"  difference:      {known - unknown:+6.2f} ms")


if __name__ == "__main__":
    main()
