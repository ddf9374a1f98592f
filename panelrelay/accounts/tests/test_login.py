from __future__ import annotations

from django.test import override_settings

from panelrelay.accounts.models import LoginFailure
from panelrelay.core.testing import PASSWORD, BaseTestCase


class LoginTestCase(BaseTestCase):
    def attempt(self, password: str, email: str = "alice@example.org", ip: str = "10.0.0.1"):
        return self.client.post("/accounts/login/", {"email": email, "password": password}, REMOTE_ADDR=ip)

    def test_it_signs_in_with_email_and_password(self) -> None:
        r = self.attempt(PASSWORD, email="ALICE@example.org")
        self.assertRedirects(r, "/", fetch_redirect_response=False)
        self.assertEqual(int(self.client.session["_auth_user_id"]), self.alice.id)

    def test_it_says_wrong_password_without_saying_which_part(self) -> None:
        r = self.attempt("nope")
        self.assertContains(r, "Email or password is not correct.")
        self.assertEqual(LoginFailure.objects.count(), 1)

    def test_it_throttles_an_account_even_with_the_right_password(self) -> None:
        for n in range(5):
            self.attempt("wrong", ip=f"10.0.1.{n}")  # spread over addresses: per-account limit
        r = self.attempt(PASSWORD, ip="10.0.2.1")
        self.assertEqual(r.status_code, 429)
        self.assertContains(r, "Too many failed sign-ins", status_code=429)
        self.assertNotIn("_auth_user_id", self.client.session)

    @override_settings(LOGIN_THROTTLE_PER_IP=3)
    def test_it_throttles_an_address_across_accounts(self) -> None:
        for email in ("a@x.org", "b@x.org", "c@x.org"):
            self.attempt("wrong", email=email, ip="192.0.2.7")
        r = self.attempt(PASSWORD, ip="192.0.2.7")
        self.assertEqual(r.status_code, 429)
        r = self.attempt(PASSWORD, ip="192.0.2.8")  # another address is unaffected
        self.assertEqual(r.status_code, 302)

    def test_a_successful_sign_in_clears_the_account_count(self) -> None:
        for _ in range(3):
            self.attempt("wrong")
        self.attempt(PASSWORD)
        self.assertFalse(LoginFailure.objects.filter(username="alice@example.org").exists())

    def test_it_ignores_an_offsite_next(self) -> None:
        r = self.client.post(
            "/accounts/login/", {"email": "alice@example.org", "password": PASSWORD, "next": "https://evil.example/"}
        )
        self.assertRedirects(r, "/", fetch_redirect_response=False)

    def test_sign_out_needs_post(self) -> None:
        self.login(self.alice)
        self.assertEqual(self.client.get("/accounts/logout/").status_code, 405)
        self.assertRedirects(self.client.post("/accounts/logout/"), "/accounts/login/")

    def test_staff_without_forward_lands_on_activity(self) -> None:
        self.staff.can_forward = False
        self.staff.save()
        self.login(self.bob)
        self.assertRedirects(self.client.get("/"), "/activity/")
