"""Mail goes out after the answer, from one background thread.

So a password reset or sign-up answers in the same time whether or not the address has an
account (sending is the slow part, and it only happens for one of the two), and a slow mail
server never holds up a page.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

log = logging.getLogger(__name__)
_outbox = ThreadPoolExecutor(max_workers=1, thread_name_prefix="limber-mail")


def _logged(send: Callable[[], object]) -> None:
    try:
        send()
    except Exception:  # the person already has their answer; the operator gets the log
        log.exception("sending mail failed")


def send_later(send: Callable[[], object]) -> Future:
    return _outbox.submit(_logged, send)


def wait_for_mail() -> None:
    """Block until everything handed over so far is sent (tests, and shutdown)."""
    _outbox.submit(lambda: None).result()
