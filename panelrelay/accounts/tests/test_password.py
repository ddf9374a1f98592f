from __future__ import annotations

import re

from django.core import mail

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
