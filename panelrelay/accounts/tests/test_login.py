from __future__ import annotations

import re

from django.core import mail
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

    def test_a_client_is_refused_for_an_account_after_its_own_failures_even_with_the_right_password(self) -> None:
        for _ in range(5):
            self.attempt("wrong")
        r = self.attempt(PASSWORD)
        self.assertContains(r, "Too many failed sign-ins to this account from your address", status_code=429)
        self.assertNotIn("_auth_user_id", self.client.session)
        self.assertEqual(LoginFailure.objects.count(), 5)  # refused before the check, not counted again

    def test_another_clients_failures_do_not_lock_the_owner_out(self) -> None:
        for _ in range(5):
            self.attempt("wrong", ip="203.0.113.66")
        self.assertEqual(self.attempt("wrong", ip="203.0.113.66").status_code, 429)
        r = self.attempt(PASSWORD, ip="10.0.0.1")
        self.assertRedirects(r, "/", fetch_redirect_response=False)

    @override_settings(TRUSTED_PROXY_COUNT=1)
    def test_behind_a_proxy_one_clients_failures_do_not_lock_out_other_clients(self) -> None:
        # The proxy connects from 127.0.0.1 for everyone; X-Forwarded-For names the client.
        for n in range(20):
            r = self.client.post(
                "/accounts/login/",
                {"email": f"user{n}@example.org", "password": "wrong"},
                REMOTE_ADDR="127.0.0.1",
                HTTP_X_FORWARDED_FOR="203.0.113.9",
            )
            self.assertEqual(r.status_code, 200)
        r = self.client.post(
            "/accounts/login/",
            {"email": "bob@example.org", "password": PASSWORD},
            REMOTE_ADDR="127.0.0.1",
            HTTP_X_FORWARDED_FOR="198.51.100.4",
        )
        self.assertRedirects(r, "/", fetch_redirect_response=False)

    @override_settings(LOGIN_THROTTLE_PER_IP=3)
    def test_past_the_address_limit_a_right_password_signs_in_by_emailed_link(self) -> None:
        for email in ("a@x.org", "b@x.org", "c@x.org"):
            self.attempt("wrong", email=email, ip="192.0.2.7")
        r = self.attempt(PASSWORD, ip="192.0.2.7")
        self.assertContains(r, "a sign-in link is on its way", status_code=429)
        self.assertNotIn("_auth_user_id", self.client.session)
        self.assertEqual(len(mail.outbox), 1)
        self.assertEqual(mail.outbox[0].to, ["alice@example.org"])
        link = re.search(r"http://testserver(/accounts/login/link/\S+/)", mail.outbox[0].body).group(1)

        self.assertContains(self.client.get(link), "Finish signing in")
        self.assertNotIn("_auth_user_id", self.client.session)  # opening the link is not enough
        self.assertRedirects(self.client.post(link), "/", fetch_redirect_response=False)
        self.assertEqual(int(self.client.session["_auth_user_id"]), self.alice.id)

        self.client.logout()
        self.assertContains(self.client.post(link), "no longer works", status_code=400)  # once only
        self.assertNotIn("_auth_user_id", self.client.session)

    @override_settings(LOGIN_THROTTLE_PER_IP=3)
    def test_past_the_address_limit_a_wrong_password_gets_the_same_answer_and_no_email(self) -> None:
        for email in ("a@x.org", "b@x.org", "c@x.org"):
            self.attempt("wrong", email=email, ip="192.0.2.7")
        r = self.attempt("wrong", ip="192.0.2.7")
        self.assertContains(r, "a sign-in link is on its way", status_code=429)
        self.assertEqual(len(mail.outbox), 0)
        self.assertTrue(LoginFailure.objects.filter(username="alice@example.org", ip="192.0.2.7").exists())

    @override_settings(LOGIN_THROTTLE_ACCOUNT_TOTAL=5)
    def test_many_failures_on_an_account_from_many_addresses_send_its_sign_in_by_email(self) -> None:
        for n in range(5):
            self.attempt("wrong", ip=f"10.0.1.{n}")  # one guess each: no address reaches its own limit
        r = self.attempt(PASSWORD, ip="10.0.2.1")
        self.assertContains(r, "a sign-in link is on its way", status_code=429)
        self.assertNotIn("_auth_user_id", self.client.session)
        self.assertEqual(len(mail.outbox), 1)

    @override_settings(LOGIN_THROTTLE_ACCOUNT_TOTAL=1)
    def test_sign_in_links_are_not_sent_more_than_three_an_hour(self) -> None:
        self.attempt("wrong", ip="10.0.1.1")
        for _ in range(5):
            self.assertEqual(self.attempt(PASSWORD).status_code, 429)
        self.assertEqual(len(mail.outbox), 3)

    def test_a_forged_link_or_one_from_before_a_password_change_signs_nobody_in(self) -> None:
        from panelrelay.accounts import signin_link

        self.assertEqual(self.client.post("/accounts/login/link/forged:token/").status_code, 400)
        link = f"/accounts/login/link/{signin_link.make_token(self.alice)}/"
        self.alice.set_password("a new long phrase")
        self.alice.save()
        self.assertEqual(self.client.post(link).status_code, 400)
        self.assertNotIn("_auth_user_id", self.client.session)

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
