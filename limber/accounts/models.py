import hashlib
import secrets

from django.conf import settings
from django.db import models
from django.utils import timezone

TOKEN_PREFIX = "lmb_"


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


class Profile(models.Model):
    PATIENT = "patient"
    CLINICIAN = "clinician"
    ROLES = [(PATIENT, "Patient"), (CLINICIAN, "Clinician")]

    user = models.OneToOneField(settings.AUTH_USER_MODEL, models.CASCADE, related_name="profile")
    role = models.CharField(max_length=16, choices=ROLES, default=PATIENT)

    def __str__(self) -> str:
        return f"{self.user.email} ({self.role})"


class ApiTokenManager(models.Manager["ApiToken"]):
    def issue(self, user, name: str = "") -> tuple["ApiToken", str]:
        """Make a new token; the key itself is returned once and only its digest is stored."""
        key = TOKEN_PREFIX + secrets.token_urlsafe(32)
        token = self.create(user=user, name=name, digest=_digest(key), prefix=key[:10])
        return token, key

    def user_for(self, key: str):
        if not key.startswith(TOKEN_PREFIX) or len(key) > 100:
            return None
        token = self.select_related("user").filter(digest=_digest(key)).first()
        if token is None or not token.user.is_active:
            return None
        # One write per request at most once a minute keeps "last used" useful and cheap.
        now = timezone.now()
        if token.last_used is None or (now - token.last_used).total_seconds() > 60:
            ApiToken.objects.filter(pk=token.pk).update(last_used=now)
        return token.user


class ApiToken(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100, blank=True)
    digest = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=10)
    created = models.DateTimeField(default=timezone.now)
    last_used = models.DateTimeField(null=True, blank=True)

    objects = ApiTokenManager()

    def __str__(self) -> str:
        return f"{self.prefix}… for {self.user.email}"


def role_of(user) -> str:
    profile = getattr(user, "profile", None)
    return profile.role if profile else Profile.PATIENT
