"""Sign-in by an emailed link, for a right password the page no longer confirms.

When the throttle hides whether a password was right (too many failures from the client's
network, or on the account from everywhere), the account's owner finishes signing in from
their inbox: the guesser, who knows the password but not the mailbox, learns nothing.
"""

from __future__ import annotations

from django.contrib.auth.models import User
from django.core import signing
from django.core.mail import send_mail
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.crypto import constant_time_compare, salted_hmac

from panelrelay.accounts import throttle

SALT = "panelrelay.accounts.signin-link"
MAX_AGE = 15 * 60
LINKS_PER_HOUR = 3


def make_token(user: User) -> str:
    return signing.dumps({"u": user.pk, "s": _state(user)}, salt=SALT)


def user_for(token: str) -> User | None:
    """The user a link signs in, or None when it is forged, older than MAX_AGE or used."""
    try:
        data = signing.loads(token, salt=SALT, max_age=MAX_AGE)
    except signing.BadSignature:  # SignatureExpired is one too
        return None
    user = User.objects.filter(pk=data.get("u"), is_active=True).first()
    if user is None or not constant_time_compare(data.get("s", ""), _state(user)):
        return None
    return user


def _state(user: User) -> str:
    # Signing in moves last_login and a new password changes the hash: either ends the link,
    # so it works once.
    return salted_hmac(SALT, f"{user.password}{user.last_login}").hexdigest()[:32]


def send(request: HttpRequest, user: User) -> None:
    if throttle.take("signin-link", user.username, LINKS_PER_HOUR):
        return  # the owner has links in the inbox already; a guesser must not flood it
    link = request.build_absolute_uri(reverse("accounts:signin_link", args=[make_token(user)]))
    context = {"email": user.email, "link": link, "minutes": MAX_AGE // 60}
    send_mail(
        render_to_string("accounts/signin_link_subject.txt", context, request=request).strip(),
        render_to_string("accounts/signin_link_email.txt", context, request=request),
        None,
        [user.email],
    )
