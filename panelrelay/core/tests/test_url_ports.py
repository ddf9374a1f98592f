"""A URL with a port outside 1-65535 is a form error on every form that takes an address,
whether private addresses are allowed or not (it was a 500 when they were not)."""

from __future__ import annotations

from django.test import SimpleTestCase, override_settings

from panelrelay.core import http
from panelrelay.core.testing import BaseTestCase
from panelrelay.panels.models import Panel
from panelrelay.transports.models import Connection

BAD_PORTS = ["99999", "0", "65536", "x", "-1"]


class CheckUrlTestCase(SimpleTestCase):
    def test_a_port_out_of_range_is_an_invalid_url_either_way(self) -> None:
        for allow in (True, False):
            for port in BAD_PORTS:
                with self.assertRaises(http.OutboundError) as caught:
                    http.check_url(f"https://example.com:{port}/", allow_private=allow)
                self.assertEqual(caught.exception.kind, "invalid_url", (allow, port))
                self.assertIn("port from 1 to 65535", str(caught.exception))
        http.check_url("http://127.0.0.1:65535/", allow_private=True)


class AddressFormsTestCase(BaseTestCase):
    FORMS = [
        ("/panels/add/", {"name": "P", "kind": "pp_v2", "api_key": "k" * 20}, "url"),
        ("/settings/connections/add/waha/", {"name": "W", "session": "default", "pace_seconds": "4"}, "base_url"),
        ("/settings/connections/add/evolution/",
         {"name": "E", "instance": "main", "secret": "s", "pace_seconds": "4"}, "base_url"),
        ("/settings/connections/add/greenapi/",
         {"name": "G", "id_instance": "1101000001", "secret": "s", "pace_seconds": "4"}, "api_url"),
        ("/settings/connections/add/telegram/", {"name": "T", "secret": "123456:" + "A" * 35}, "api_url"),
    ]  # fmt: skip

    def test_every_address_form_refuses_a_bad_port_with_a_form_error(self) -> None:
        self.login(self.alice)
        for allow in (True, False):
            with override_settings(OUTBOUND_ALLOW_PRIVATE=allow):
                for url, data, field in self.FORMS:
                    for port in ("99999", "0"):
                        r = self.client.post(url, {**data, field: f"https://example.com:{port}"})
                        self.assertEqual(r.status_code, 200, (url, allow, port))
                        self.assertIn("port from 1 to 65535", " ".join(r.context["form"].errors[field]))
        self.assertFalse(Panel.objects.exists() or Connection.objects.exists())

    def test_a_panel_address_with_an_unclosed_bracket_is_a_form_error(self) -> None:
        self.login(self.alice)
        r = self.client.post("/panels/add/", {"name": "P", "kind": "pp_v2", "api_key": "k" * 20, "url": "http://[::1"})
        self.assertIn("starting with https://", " ".join(r.context["form"].errors["url"]))
