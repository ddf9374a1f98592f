from __future__ import annotations

import re

from django.core import mail
from django.test import override_settings

from panelrelay.core.testing import PASSWORD, BaseTestCase


class PasswordTestCase(BaseTestCase):
    def test_it_changes_the_password(self) -> None:
        self.login(self.alice)
        r = self.client.post(
            "/accounts/password/",
            {"old_password": PASSWORD, "new_password1": "another long phrase", "new_password2": "another long phrase"},
        )
        self.assertRedirects(r, "/accounts/password/done/")
        self.alice.refresh_from_db()
        self.assertTrue(self.alice.check_password("another long phrase"))

    def test_it_resets_a_forgotten_password_by_email(self) -> None:
        r = self.client.post("/accounts/reset/", {"email": "alice@example.org"})
        self.assertRedirects(r, "/accounts/reset/sent/")
        self.assertEqual(len(mail.outbox), 1)
        link = re.search(r"http://testserver(/accounts/reset/\S+/)", mail.outbox[0].body).group(1)
        r = self.client.get(link, follow=True)  # Django swaps the token for a session-bound URL
        set_url = r.redirect_chain[-1][0]
        r = self.client.post(set_url, {"new_password1": "brand new phrase!", "new_password2": "brand new phrase!"})
        self.assertRedirects(r, "/accounts/login/")
        self.alice.refresh_from_db()
        self.assertTrue(self.alice.check_password("brand new phrase!"))

    def test_reset_for_an_unknown_email_says_the_same_and_sends_nothing(self) -> None:
        r = self.client.post("/accounts/reset/", {"email": "nobody@example.org"})
        self.assertRedirects(r, "/accounts/reset/sent/")
        self.assertEqual(len(mail.outbox), 0)

    def reset(self, email: str, ip: str = "10.0.0.1"):
        return self.client.post("/accounts/reset/", {"email": email}, REMOTE_ADDR=ip)

    def test_reset_emails_to_one_address_are_limited_and_the_page_says_so(self) -> None:
        for n in range(3):
            self.assertRedirects(self.reset("alice@example.org", ip=f"10.0.1.{n}"), "/accounts/reset/sent/")
        r = self.reset("Alice@example.org", ip="10.0.2.1")
        self.assertContains(r, "Too many reset requests", status_code=429)
        self.assertEqual(len(mail.outbox), 3)

    def test_the_limit_answers_alike_whether_or_not_the_email_has_an_account(self) -> None:
        for n in range(3):
            self.reset("nobody@example.org", ip=f"10.0.1.{n}")
        r = self.reset("nobody@example.org", ip="10.0.2.1")
        self.assertContains(r, "Too many reset requests", status_code=429)
        self.assertEqual(len(mail.outbox), 0)

    @override_settings(PASSWORD_RESET_THROTTLE_PER_IP=4)
    def test_reset_requests_from_one_address_are_limited(self) -> None:
        for n in range(4):
            self.assertEqual(self.reset(f"someone{n}@example.org").status_code, 302)
        self.assertContains(self.reset("alice@example.org"), "Too many reset requests", status_code=429)
        self.assertEqual(len(mail.outbox), 0)
        self.assertEqual(self.reset("alice@example.org", ip="10.0.0.2").status_code, 302)
        self.assertEqual(len(mail.outbox), 1)
