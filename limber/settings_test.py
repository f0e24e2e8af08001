"""Fast settings for the test suite: a throwaway data folder and a quick password hasher."""

import os
import tempfile

os.environ.setdefault("LIMBER_DATA_DIR", tempfile.mkdtemp(prefix="limber-test-"))

from limber.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# Servers started inside tests (the live camera socket runs the real ASGI app in a thread) must
# not keep connections open past their requests, or the test database cannot be dropped.
DATABASES["default"]["CONN_MAX_AGE"] = 0  # noqa: F405
# `?speed=` fast playback for the browser tests (never honoured in production).
LIMBER_FAST_PLAYBACK = True
