"""`manage.py createoperator`: the platform operator's login, signed in with an email like everyone.

Sign-in asks for an email and looks the account up by it (accounts store the lower-cased email as
the username), so Django's `createsuperuser`, which asks for a free-form username, makes a login
that cannot sign in unless the username typed is the email. This command asks for the email and a
password (checked by the password validators), and creates a superuser who lands on /master/; an
existing account with that email is made an operator (its password is replaced when one is given).

    manage.py createoperator                         # asks for both
    manage.py createoperator --email ops@example.com # asks for the password
    OPERATOR_PASSWORD=… manage.py createoperator --email ops@example.com --no-input
"""

from __future__ import annotations

import getpass
import os
from typing import Any

from django.contrib.auth.models import User
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.core.validators import validate_email


class Command(BaseCommand):
    help = "Create the platform operator's login (a superuser who signs in with an email) for /master/."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--email", help="the operator's email: what they type to sign in")
        parser.add_argument(
            "--no-input",
            action="store_true",
            help="ask nothing: the password comes from the OPERATOR_PASSWORD environment variable",
        )

    def handle(self, *args: Any, **opts: Any) -> None:
        interactive = not opts["no_input"]
        email = (opts["email"] or (input("Email (to sign in with): ") if interactive else "")).strip().lower()
        try:
            validate_email(email)
        except ValidationError:
            raise CommandError(f"“{email}” is not an email address; sign-in asks for an email.") from None
        user = User.objects.filter(username=email).first() or User(username=email, email=email)
        password = os.environ.get("OPERATOR_PASSWORD", "") if not interactive else self._ask_password(user)
        if not password and user.pk is None:
            raise CommandError("A new operator needs a password (set OPERATOR_PASSWORD with --no-input).")
        if password:
            try:
                validate_password(password, user)
            except ValidationError as exc:
                raise CommandError(" ".join(exc.messages)) from None
            user.set_password(password)
        existed = user.pk is not None
        user.email, user.is_superuser, user.is_staff, user.is_active = email, True, True, True
        user.save()
        verb = "is now an operator" if existed else "created"
        self.stdout.write(self.style.SUCCESS(f"{email} {verb}: sign in with this email; you land on /master/."))

    def _ask_password(self, user: User) -> str:
        keep = " (empty: keep the current one)" if user.pk is not None else ""
        first = getpass.getpass(f"Password{keep}: ")
        if first and getpass.getpass("Password (again): ") != first:
            raise CommandError("The two passwords differ.")
        return first
