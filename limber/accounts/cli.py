"""`limber createuser` and `limber token`."""

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


def cmd_token(args: argparse.Namespace) -> int:
    _setup()
    from django.contrib.auth import get_user_model

    from limber.accounts.models import ApiToken

    user = get_user_model().objects.filter(username=args.email.strip().lower()).first()
    if user is None:
        raise UserError(f"no account for {args.email}")
    _, key = ApiToken.objects.issue(user, name=args.name)
    print(key)
    return 0


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("createuser", help="create an account")
    p.add_argument("email")
    p.add_argument("--role", choices=["patient", "clinician"], default="patient")
    p.set_defaults(func=cmd_createuser)

    p = sub.add_parser("token", help="print a new personal API token for an account")
    p.add_argument("email")
    p.add_argument("--name", default="cli", help="a label to recognise the token by")
    p.set_defaults(func=cmd_token)
