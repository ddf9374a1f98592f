"""Malformed API calls get a 4xx in JSON that names what was wrong, never a 500 or an HTML page."""

from __future__ import annotations

import json

from django.conf import settings
from django.test import RequestFactory

from panelrelay.api.models import ApiToken
from panelrelay.core import errors
from panelrelay.core.testing import BaseTestCase
from panelrelay.forwarding.models import Command, ForwardRequest
from panelrelay.forwarding.submit import create_request
from panelrelay.panels.models import Panel


class BadBodiesTestCase(BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.panel = Panel(workspace=self.workspace, name="Main", url="http://127.0.0.1:9/")
        self.panel.set_api_key("k" * 16)
        self.panel.save()
        self.auth = {"HTTP_AUTHORIZATION": f"Bearer {ApiToken.issue(self.workspace, 'tool')[1]}"}
        self.request = create_request(self.workspace, self.panel, Command.for_workspace(self.workspace)[0], ["1"])

    def post(self, body: str | bytes):
        return self.client.post("/api/v1/requests", body, content_type="application/json", **self.auth)

    def assertError(self, response, status: int, words: str) -> None:  # noqa: N802
        self.assertEqual(response.status_code, status, response.content[:200])
        self.assertEqual(response["Content-Type"], "application/json")
        self.assertIn(words, response.json()["error"])

    def test_a_note_the_database_cannot_store_is_refused_by_name(self) -> None:
        for note, words in [("a\x00b", "`note` must not contain a NUL"), ("\ud800", "`note` must be valid Unicode")]:
            self.assertError(self.post(json.dumps({"command": "refill", "ids": ["45323"], "note": note})), 400, words)
        body = json.dumps({"command": "refill", "ids": ["45323"], "panel": "Ma\x00in"})
        self.assertError(self.post(body), 400, "`panel`")
        self.assertEqual(ForwardRequest.objects.count(), 1)

    def test_a_body_nested_too_deep_is_a_400(self) -> None:
        self.assertError(self.post("[" * 100_000), 400, "nested too deeply")
        self.assertError(self.post('{"note": ' + "[" * 100_000), 400, "nested too deeply")

    def test_a_body_over_the_upload_limit_is_a_413_in_json(self) -> None:
        big = b'{"note": "' + b"x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1) + b'"}'
        self.assertError(self.post(big), 413, "larger than 2.5 MB")

    def test_an_offset_past_any_database_integer_is_a_400(self) -> None:
        for offset in ("99999999999999999999", "-1", "²", "1e3"):
            r = self.client.get(f"/api/v1/requests/{self.request.code}?offset={offset}", **self.auth)
            self.assertError(r, 400, "`offset` must be a whole number from 0 to 2147483647")
        r = self.client.get(f"/api/v1/requests/{self.request.code}?offset=2147483647", **self.auth)
        self.assertEqual((r.status_code, r.json()["orders"]), (200, []))

    def test_a_query_text_the_database_cannot_take_is_refused_by_name(self) -> None:
        r = self.client.get(f"/api/v1/requests/{self.request.code}?state=%00", **self.auth)
        self.assertError(r, 400, "`state`")
        self.assertError(self.client.get("/api/v1/route-check?order=1&panel=%00", **self.auth), 400, "`panel`")
        self.assertError(self.client.get("/api/v1/route-check?order=²", **self.auth), 400, "`order`")

    def test_every_api_path_answers_json_even_when_no_view_does(self) -> None:
        for path in ("/api/v1/requests/notauuid", "/api/v1/nothing", "/api/v2/requests", "/api/"):
            self.assertError(self.client.get(path, **self.auth), 404, "No such API path")
        self.assertEqual(self.client.get("/nothing/")["Content-Type"], "text/html; charset=utf-8")

    def test_the_server_error_answer_under_api_is_json(self) -> None:
        r = errors.server_error(RequestFactory().get("/api/v1/panels"))
        self.assertEqual((r.status_code, r["Content-Type"]), (500, "application/json"))
        self.assertIn("Internal error", json.loads(r.content)["error"])
        self.assertTrue(errors.server_error(RequestFactory().get("/forward/"))["Content-Type"].startswith("text/html"))
