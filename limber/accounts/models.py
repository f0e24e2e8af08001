import hashlib
import secrets
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import IntegrityError, models, transaction
from django.utils import timezone

TOKEN_PREFIX = "lmb_"
# A looked-up token is remembered this long, so a busy client costs one query per half minute
# instead of one per request (measured 0.6-0.9 ms of server CPU each). Revoking drops it at
# once from the shared cache; with several processes and no Redis, another process may go on
# accepting a revoked token for up to this long.
TOKEN_CACHE_S = 30
# What a revoked token's cache entry holds for TOKEN_CACHE_S (a tombstone, not a delete).
REVOKED = "revoked"


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def _cache_key(digest: str) -> str:
    return "token:" + digest


class Profile(models.Model):
    PATIENT = "patient"
    CLINICIAN = "clinician"
    ROLES = [(PATIENT, "Patient"), (CLINICIAN, "Clinician")]

    user = models.OneToOneField(settings.AUTH_USER_MODEL, models.CASCADE, related_name="profile")
    role = models.CharField(max_length=16, choices=ROLES, default=PATIENT)
    # False from sign-up until the mailed link is opened. An inactive account that was once
    # confirmed has been closed by an administrator, and signing up again must not reopen it.
    confirmed = models.BooleanField(default=True)
    # The person's time zone (an IANA name such as "Europe/London"), as their browser reports
    # it: their days (a session "today", one step up a day) and the times they read follow it.
    # Blank until a browser has said: the site's TIME_ZONE.
    time_zone = models.CharField(max_length=64, blank=True, default="")

    def __str__(self) -> str:
        return f"{self.user.email} ({self.role})"


def awaiting_confirmation(user) -> bool:
    """A sign-up whose mailed link has not been opened: it may be made again, with a new
    password, or completed by joining a clinician. A closed account is not one of these."""
    return not user.is_active and Profile.objects.filter(user=user, confirmed=False).exists()


def sign_up(email: str, password: str, confirmed: bool):  # type: ignore[no-untyped-def]
    """The patient account a sign-up makes for ``email``, and whether it was made: a new one,
    or a sign-up still waiting for its link made again with this password. Any other account
    of the address is answered untouched (made: False). A ``confirmed`` one is in use at once
    (a clinician's invite stands for the mailed link); otherwise it waits for its link.

    A ``confirmed`` sign-up (an invite) never completes one still waiting for its link: that
    would let anyone holding an invite take over an address someone had just signed up with.
    """
    User = get_user_model()
    try:
        with transaction.atomic():
            user = User.objects.select_for_update().filter(username=email).first()
            if user is not None and (confirmed or not awaiting_confirmation(user)):
                return user, False
            user = user or User(username=email, email=email)
            user.is_active = confirmed
            user.set_password(password)
            user.save()
            Profile.objects.update_or_create(
                user=user, defaults={"role": Profile.PATIENT, "confirmed": confirmed}
            )
            return user, True
    except IntegrityError:  # the same new address signed up at the same moment
        return User.objects.get(username=email), False


class ApiTokenManager(models.Manager["ApiToken"]):
    def issue(self, user, name: str = "", days: int | None = None) -> tuple["ApiToken", str]:
        """Make a new token; the key itself is returned once and only its digest is stored."""
        key = TOKEN_PREFIX + secrets.token_urlsafe(32)
        expires = timezone.now() + timedelta(days=days or settings.TOKEN_DAYS)
        token = self.create(
            user=user, name=name, digest=_digest(key), prefix=key[:10], expires=expires
        )
        return token, key

    def user_for(self, key: str):
        """The active user a live token belongs to, or None (unknown, revoked or expired)."""
        if not key.startswith(TOKEN_PREFIX) or len(key) > 100:
            return None
        digest = _digest(key)
        now = timezone.now()
        hit = cache.get(_cache_key(digest))
        if hit == REVOKED:
            return None
        if hit is not None:
            user, expires = hit
            return user if expires > now else None
        # The profile comes along: the role and the person's time zone are read on most requests.
        token = self.select_related("user", "user__profile").filter(digest=digest).first()
        if token is None or not token.user.is_active or token.expires <= now:
            return None
        # One write per request at most once a minute keeps "last used" useful and cheap.
        if token.last_used is None or (now - token.last_used).total_seconds() > 60:
            ApiToken.objects.filter(pk=token.pk).update(last_used=now)
        # add, not set: if the token was revoked since its row was read here, the revoke's
        # tombstone is in the cache and stays (this request, already under way, still passes).
        cache.add(_cache_key(digest), (token.user, token.expires), TOKEN_CACHE_S)
        return token.user

    def revoke(self, user, pk: int | None = None) -> int:
        """Revoke one of the user's tokens (by id) or all of them; answers how many."""
        tokens = self.filter(user=user) if pk is None else self.filter(user=user, pk=pk)
        digests = list(tokens.values_list("digest", flat=True))
        tokens.delete()
        # Tombstones, not deletes: a lookup that read a row just before it went cannot put it
        # back in the cache afterwards.
        cache.set_many({_cache_key(d): REVOKED for d in digests}, TOKEN_CACHE_S)
        return len(digests)


class ApiToken(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, blank=True)
    digest = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=10)
    created = models.DateTimeField(default=timezone.now)
    last_used = models.DateTimeField(null=True, blank=True)
    expires = models.DateTimeField()

    objects = ApiTokenManager()

    class Meta:
        ordering = ["-created"]

    def __str__(self) -> str:
        return f"{self.prefix}… for {self.user.email}"

    @property
    def expired(self) -> bool:
        return self.expires <= timezone.now()


def role_of(user) -> str:
    profile = getattr(user, "profile", None)
    return profile.role if profile else Profile.PATIENT
