"""Throttles on failed logins, password-reset mails and sign-ups, counted in the shared cache
(`limber.counters`)."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from django.core.cache import cache

from limber.counters import count


@dataclass(frozen=True)
class Limit:
    name: str
    allowed: int
    window_s: int
    why: str

    def _key(self, *parts: str) -> str:
        # Hashed: addresses and e-mails make safe, short cache keys and are not kept in clear.
        raw = "\x00".join(parts).lower().encode()
        return f"limit:{self.name}:{hashlib.sha256(raw).hexdigest()[:32]}"

    def reached(self, *parts: str) -> bool:
        return cache.get(self._key(*parts), 0) >= self.allowed

    def count(self, *parts: str) -> None:
        count(self._key(*parts), self.window_s)  # the window starts at the first event

    def spend(self, *parts: str) -> bool:
        """Count one more event, unless the limit is reached: False then, and nothing counted."""
        if self.reached(*parts):
            return False
        self.count(*parts)
        return True

    def clear(self, *parts: str) -> None:
        cache.delete(self._key(*parts))


LOGIN_PER_ACCOUNT_AND_ADDRESS = Limit(
    "login-account-address", 5, 15 * 60,
    "Limber's default: five tries cover typing mistakes; from another address the owner is "
    "not affected, so nobody can lock an account by failing on purpose",
)  # fmt: skip
LOGIN_PER_ADDRESS = Limit(
    "login-address", 10, 15 * 60,
    "Limber's default: ten failures in 15 minutes from one address, whatever the accounts, "
    "stops guessing across many accounts while a shared clinic computer still works",
)  # fmt: skip
RESET_PER_ADDRESS = Limit(
    "reset-address", 5, 60 * 60,
    "Limber's default: nobody needs more than five reset mails an hour",
)  # fmt: skip
RESET_PER_ACCOUNT = Limit(
    "reset-account", 3, 60 * 60,
    "Limber's default: at most three reset mails an hour reach one inbox",
)  # fmt: skip
SIGNUP_PER_ADDRESS = Limit(
    "signup-address", 5, 60 * 60,
    "Limber's default: five new accounts an hour from one address is more than a family needs",
)  # fmt: skip
