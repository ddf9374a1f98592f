from __future__ import annotations

import json
import re

from django.contrib.sessions.models import Session

from panelrelay.api.models import ApiToken, digest
from panelrelay.core.testing import BaseTestCase
from panelrelay.forwarding.models import ForwardRequest, RequestOrder
from panelrelay.panels.models import Panel
from panelrelay.panels.providers import add_by_domain


class ApiTestCase(BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.panel = Panel(workspace=self.workspace, name="Main", url="http://127.0.0.1:9/")
        self.panel.set_api_key("k" * 16)
        self.panel.save()
        _, self.token = ApiToken.issue(self.workspace, "support bot")
        _, self.other_token = ApiToken.issue(self.other_workspace, "theirs")

    def call(self, method: str, url: str, body=None, token: str | None = "default", **extra):
        headers = {}
        if token:
            headers["HTTP_AUTHORIZATION"] = f"Bearer {self.token if token == 'default' else token}"
        if body is not None:
            extra.update(data=json.dumps(body), content_type="application/json")
        return getattr(self.client, method)(url, **headers, **extra)

    def test_it_creates_a_request_and_reports_each_order(self) -> None:
        r = self.call(
            "post", "/api/v1/requests", {"command": "refill", "ids": ["45323", 45324, "45323"], "note": "vip"}
        )
        self.assertEqual(r.status_code, 201, r.content)
        body = r.json()
        self.assertEqual((body["total"], body["command"], body["panel"], body["note"]), (2, "refill", "Main", "vip"))
        self.assertEqual(r["Location"], body["url"])
        req = ForwardRequest.objects.get(code=body["id"])
        self.assertEqual((req.source, req.source_ref), ("api", "support bot"))
        detail = self.call("get", body["url"]).json()
        self.assertEqual([o["order_id"] for o in detail["orders"]], ["45323", "45324"])
        self.assertEqual({o["outcome"] for o in detail["orders"]}, {"looking_up"})
        self.assertEqual(
            {(o["progress"], o["answer"], o["confirmed_at"]) for o in detail["orders"]}, {("", None, None)}
        )
        RequestOrder.objects.filter(panel_order_id="45323").update(
            state="sent", progress="answered", answer_kind="refused", answer_text="not possible"
        )
        first = self.call("get", body["url"]).json()["orders"][0]
        self.assertEqual((first["progress"], first["answer"], first["answer_text"]), ("answered", "refused",
                                                                                    "not possible"))  # fmt: skip
        self.assertEqual(detail["counts"]["pending"], 2)
        self.assertIsNone(detail["next_offset"])
        self.assertEqual(detail["created"], req.created.isoformat())  # to the microsecond, with its offset

    def test_ids_may_be_a_pasted_string(self) -> None:
        r = self.call("post", "/api/v1/requests", {"command": "cancel", "ids": "1, 2\n3", "panel": "Main"})
        self.assertEqual(r.json()["total"], 3)

    def test_ids_that_are_not_whole_order_ids_are_refused_and_named_never_cut(self) -> None:
        cases = [
            (["9999999999999999999910001"], "9999…10001"),  # once 99999999999999999999 and 10001
            ("45323 9999999999999999999910001", "9999…10001"),
            ([2**70], "1180…03424"),  # once 11805916207174113034 and 24
            ([45323, -5], "-5"),  # once 5
            (["1e5"], "1e5"),  # once 1 and 5
            ([1e5, 45323.0], "100000.0, 45323.0"),
        ]
        for ids, named in cases:
            r = self.call("post", "/api/v1/requests", {"command": "refill", "ids": ids})
            self.assertEqual(r.status_code, 400, ids)
            self.assertIn(f"Not an order id: {named}.", r.json()["error"])
        r = self.call("post", "/api/v1/requests", {"command": "refill", "ids": [2**53 + 1]})
        self.assertEqual(r.status_code, 400)
        self.assertIn('Send ids above 9007199254740991 as strings, e.g. "9007199254740993"', r.json()["error"])
        self.assertFalse(ForwardRequest.objects.exists())
        r = self.call("post", "/api/v1/requests", {"command": "refill", "ids": [str(2**53 + 1), 2**53 - 1]})
        self.assertEqual(r.status_code, 201, r.content)

    def test_a_note_with_any_web_address_is_refused_alike(self) -> None:
        add_by_domain(self.workspace, "smmrush.example", "FastLikes_A")
        errors = set()
        for host in ("smmrush.example", "https://www.SMMRUSH.example/api", "unrelated-guess.example"):
            r = self.call("post", "/api/v1/requests", {"command": "refill", "ids": ["1"], "note": f"via {host}"})
            self.assertEqual(r.status_code, 400)
            errors.add(r.json()["error"])
        self.assertEqual(len(errors), 1)
        self.assertIn("`note` cannot contain a web address", errors.pop())
        self.assertFalse(ForwardRequest.objects.exists())

    def test_it_explains_bad_input_with_4xx(self) -> None:
        cases = [
            ({"command": "refill"}, 400, "`ids`"),
            ({"command": "refill", "ids": []}, 400, "No order ids"),
            ({"command": "explode", "ids": ["1"]}, 400, "`command` must be one of"),
            ({"command": "refill", "ids": ["1"], "panel": "Nope"}, 404, "No panel"),
            ({"command": "refill", "ids": ["1"], "force": "yes"}, 400, "`force`"),
            ({"command": "refill", "ids": [True]}, 400, "`ids`"),
            ({"command": "refill", "ids": list(range(1, 10_002))}, 413, "At most"),
        ]
        for body, status, text in cases:
            r = self.call("post", "/api/v1/requests", body)
            self.assertEqual(r.status_code, status, body)
            self.assertIn(text, r.json()["error"])
        r = self.client.post(
            "/api/v1/requests",
            data="{not json",
            content_type="application/json",
            HTTP_AUTHORIZATION=f"Bearer {self.token}",
        )
        self.assertEqual((r.status_code, r.json()["error"]), (400, "The body is not valid JSON."))
        r = self.client.post(
            "/api/v1/requests",
            data="ids=1",
            content_type="application/x-www-form-urlencoded",
            HTTP_AUTHORIZATION=f"Bearer {self.token}",
        )
        self.assertEqual(r.status_code, 415)
        r = self.call("get", "/api/v1/requests")
        self.assertEqual((r.status_code, r["Allow"], r.json()), (405, "POST", {"error": "Use POST here."}))
        self.assertFalse(ForwardRequest.objects.exists())

    def test_it_needs_a_valid_token(self) -> None:
        self.assertEqual(self.call("get", "/api/v1/panels", token=None).status_code, 401)
        self.assertEqual(self.call("get", "/api/v1/panels", token="pr_wrong").status_code, 401)
        ApiToken.objects.filter(name="support bot").update(revoked=True)
        r = self.call("get", "/api/v1/panels")
        self.assertEqual((r.status_code, r.json()["error"]), (401, "The API token is not valid or was revoked."))

    def test_a_suspended_workspace_is_refused(self) -> None:
        self.workspace.suspended = True
        self.workspace.save()
        self.assertEqual(self.call("get", "/api/v1/panels").status_code, 403)

    def test_another_workspaces_request_does_not_exist(self) -> None:
        body = self.call("post", "/api/v1/requests", {"command": "refill", "ids": ["1"]}).json()
        r = self.call("get", body["url"], token=self.other_token)
        self.assertEqual(r.status_code, 404)
        r = self.call(
            "post", "/api/v1/requests", {"command": "refill", "ids": ["1"], "panel": "Main"}, token=self.other_token
        )
        self.assertEqual(r.status_code, 404)  # Alice's panel does not exist for them
        self.assertEqual(self.call("get", "/api/v1/panels", token=self.other_token).json(), {"panels": []})

    def test_it_lists_panels_and_commands(self) -> None:
        self.assertEqual(self.call("get", "/api/v1/panels").json()["panels"][0]["name"], "Main")
        commands = [c["command"] for c in self.call("get", "/api/v1/commands").json()["commands"]]
        self.assertEqual(commands, ["refill", "cancel", "speed_up", "partial"])

    def test_the_openapi_document_is_served(self) -> None:
        spec = self.client.get("/api/v1/openapi.json").json()
        self.assertEqual(spec["openapi"], "3.1.0")
        self.assertIn("/api/v1/requests/{id}", spec["paths"])


class TokenPageTestCase(BaseTestCase):
    def test_owner_creates_a_token_seen_once_and_revokes_it(self) -> None:
        self.login(self.alice)
        created = self.client.post("/settings/api-tokens/", {"name": "zapier"})
        self.assertEqual((created.status_code, created["Cache-Control"]), (200, "no-store"))
        clear = re.search(r'id="new-token">([^<]+)<', created.content.decode()).group(1)
        token = ApiToken.objects.get(name="zapier")
        self.assertEqual(token.token_hash, digest(clear))
        self.assertContains(created, "Copy it now")
        # Shown in the answer to the POST only: never stored in the session, never shown again.
        stored = [json.dumps(row.get_decoded(), default=str) for row in Session.objects.all()]
        self.assertTrue(stored)
        self.assertFalse([data for data in stored if clear in data])
        page = self.client.get("/settings/api-tokens/").content.decode()
        self.assertIn(token.prefix, page)
        self.assertNotIn(clear, page)
        self.assertNotIn("new-token", page)
        self.assertNotIn(token.token_hash, page)
        self.client.post(f"/settings/api-tokens/{token.code}/revoke/")
        token.refresh_from_db()
        self.assertTrue(token.revoked)

    def test_staff_cannot_manage_tokens(self) -> None:
        self.login(self.bob)
        self.assertEqual(self.client.get("/settings/api-tokens/").status_code, 403)
        self.assertEqual(self.client.post("/settings/api-tokens/", {"name": "x"}).status_code, 403)
        self.assertFalse(ApiToken.objects.filter(name="x").exists())
