"""`limber createuser`, `limber token` and `limber account`."""

from __future__ import annotations

import argparse
import getpass
import os
import sys

from limber.errors import UserError


def _setup() -> None:
    from limber.cli import _setup as setup

    setup()


def cmd_createuser(args: argparse.Namespace) -> int:
    _setup()
    from django.contrib.auth import get_user_model, password_validation
    from django.core.exceptions import ValidationError
    from django.core.validators import validate_email
    from django.db import transaction

    from limber.accounts.models import Profile

    email = args.email.strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        raise UserError(f"{args.email!r} is not an e-mail address") from None
    User = get_user_model()
    if User.objects.filter(username=email).exists():
        raise UserError(f"an account for {email} already exists")
    password = os.environ.get("LIMBER_PASSWORD")
    if password is None:
        if not sys.stdin.isatty():
            raise UserError("set LIMBER_PASSWORD, or run this in a terminal to be asked")
        password = getpass.getpass("Password: ")
        if getpass.getpass("Password again: ") != password:
            raise UserError("the two passwords differ")
    try:
        password_validation.validate_password(password, User(username=email, email=email))
    except ValidationError as e:
        raise UserError(" ".join(e.messages)) from None
    with transaction.atomic():
        user = User.objects.create_user(username=email, email=email, password=password)
        Profile.objects.create(user=user, role=args.role)
    print(f"created {args.role} {email}")
    return 0


def _account(email: str):  # type: ignore[no-untyped-def]
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.filter(username=email.strip().lower()).first()
    if user is None:
        raise UserError(f"no account for {email}")
    return user


def cmd_token(args: argparse.Namespace) -> int:
    _setup()

    from limber.accounts.models import ApiToken

    user = _account(args.email)
    if args.revoke:
        n = ApiToken.objects.revoke(user)
        print(f"revoked {n} token{'' if n == 1 else 's'} of {user.email}{_cache_note()}")
        return 0
    if args.list:
        for t in ApiToken.objects.filter(user=user):
            state = "expired" if t.expired else f"expires {t.expires:%Y-%m-%d}"
            used = f"last used {t.last_used:%Y-%m-%d}" if t.last_used else "never used"
            print(f"{t.prefix}…  {t.name or '-'}  {state}  {used}")
        return 0
    _, key = ApiToken.objects.issue(user, name=args.name, days=args.days)
    print(key)
    return 0


def cmd_account(args: argparse.Namespace) -> int:
    """Close an account (it can no longer log in or use its tokens; its data stays) or reopen it."""
    _setup()
    from django.db import transaction

    from limber.accounts.models import ApiToken, Profile

    user = _account(args.email)
    if args.close or args.reopen:
        with transaction.atomic():
            user.is_active = bool(args.reopen)
            user.save(update_fields=["is_active"])
            # Closed on purpose, not a sign-up waiting for its link: signing up again must not
            # reopen it (accounts/views.py).
            Profile.objects.filter(user=user).update(confirmed=True)
            if args.close:
                ApiToken.objects.revoke(user)
    note = _cache_note() if args.close else ""
    print(f"{user.email}: {'open' if user.is_active else 'closed'}{note}")
    return 0


def _cache_note() -> str:
    # A server remembers a token it has looked up for TOKEN_CACHE_S. This command reaches that
    # memory only when it is shared (Redis): a server with its own in-process cache may still
    # let a remembered token in for that long. Revoking from the account page is at once.
    from django.conf import settings

    from limber.accounts.models import TOKEN_CACHE_S

    if "redis" in str(settings.CACHES["default"]["BACKEND"]).lower():
        return ""
    return (
        f" (a running server without REDIS_URL may still let in a token it used in the last "
        f"{TOKEN_CACHE_S} s, for up to {TOKEN_CACHE_S} s more)"
    )


def _days(value: str) -> int:
    if not value.isdigit() or not 1 <= int(value) <= 3650:
        raise argparse.ArgumentTypeError(f"a number of days from 1 to 3650, not {value!r}")
    return int(value)


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("createuser", help="create an account")
    p.add_argument("email")
    p.add_argument("--role", choices=["patient", "clinician"], default="patient")
    p.set_defaults(func=cmd_createuser)

    p = sub.add_parser("token", help="print a new personal API token, or list or revoke them")
    p.add_argument("email")
    p.add_argument("--name", default="cli", help="a label to recognise the token by")
    p.add_argument("--days", type=_days, help="lifetime (default LIMBER_TOKEN_DAYS, 90)")
    what = p.add_mutually_exclusive_group()
    what.add_argument("--list", action="store_true", help="list the account's tokens")
    what.add_argument("--revoke", action="store_true", help="revoke all the account's tokens")
    p.set_defaults(func=cmd_token)

    p = sub.add_parser("account", help="show whether an account is open, or close or reopen it")
    p.add_argument("email")
    what = p.add_mutually_exclusive_group()
    what.add_argument("--close", action="store_true", help="no more logins or tokens; data kept")
    what.add_argument("--reopen", action="store_true", help="let it log in again")
    p.set_defaults(func=cmd_account)
