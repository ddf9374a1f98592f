from __future__ import annotations

import re

from django.contrib.auth.hashers import make_password
from django.test import Client, override_settings

from panelrelay.core.testing import PASSWORD, BaseTestCase

PAGES = ["/forward/", "/activity/", "/panels/", "/providers/", "/destinations/", "/routing/", "/team/", "/settings/"]


class SecurityTestCase(BaseTestCase):
    def test_every_page_sends_a_csp_that_allows_no_third_party_origin(self) -> None:
        self.login(self.alice)
        for url in PAGES + ["/accounts/login/"]:
            r = self.client.get(url)
            csp = r["Content-Security-Policy"]
            self.assertIn("default-src 'self'", csp, url)
            self.assertNotRegex(csp, r"https?://", url)
            self.assertEqual(r["X-Frame-Options"], "DENY")
            self.assertEqual(r["X-Content-Type-Options"], "nosniff")

    def test_pages_load_nothing_from_another_origin_and_run_no_inline_script(self) -> None:
        self.login(self.alice)
        for url in PAGES:
            html = self.client.get(url).content.decode()
            for attr in re.findall(r'(?:src|href)="([^"]+)"', html):
                self.assertFalse(attr.startswith(("http:", "https:", "//")), f"{url} loads {attr}")
            self.assertNotRegex(html, r"<script(?![^>]*\bsrc=)[^>]*>", f"{url} has an inline script")
            self.assertNotRegex(html, r"\son(click|load|change|submit)=", f"{url} has an inline handler")

    def test_posts_without_a_csrf_token_are_refused(self) -> None:
        client = Client(enforce_csrf_checks=True)
        r = client.post("/accounts/login/", {"email": "alice@example.org", "password": PASSWORD})
        self.assertEqual(r.status_code, 403)
        client.force_login(self.alice)
        r = client.post("/team/invite/", {"can_forward": "on"})
        self.assertEqual(r.status_code, 403)

    def test_passwords_are_hashed_with_argon2(self) -> None:
        from panelrelay import settings as production_settings

        self.assertEqual(production_settings.PASSWORD_HASHERS[0], "django.contrib.auth.hashers.Argon2PasswordHasher")
        with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.Argon2PasswordHasher"]):
            self.assertTrue(make_password("x" * 12).startswith("argon2$"))

    def test_pages_need_sign_in(self) -> None:
        for url in PAGES:
            r = self.client.get(url)
            self.assertEqual(r.status_code, 302, url)
            self.assertTrue(r["Location"].startswith("/accounts/login/"), url)
