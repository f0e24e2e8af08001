"""What the player keeps in the browser, and under which name.

The player keeps the session in progress and the records not yet sent in the browser's
localStorage, so that a reload or a dropped network loses nothing. A browser can be shared (a
family tablet, a clinic's computer), so those keys carry a name of their own for each account:
one person is never offered another's unfinished session, and never sends it as their own.
The name is a keyed hash of the account, not its number, so it tells nothing to whoever reads
the browser's storage. Logging out and deleting the account forget it (limber/static/limber/site.js).
"""

from django.utils.crypto import salted_hmac


def storage_key(user) -> str:
    """The prefix of this account's keys in the browser's localStorage."""
    return "limber." + salted_hmac("limber.device-storage", str(user.pk)).hexdigest()[:16]


def device_storage(request) -> dict[str, str]:
    """Template context: `device_storage`, the signed-in account's prefix (pages name it for
    the scripts, which may not be inline under the site's Content-Security-Policy)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"device_storage": storage_key(user)}
