"""The OpenAPI document is generated from the schemas that validate the calls, and says everything they answer."""

from __future__ import annotations

import re

from django.test import SimpleTestCase

from panelrelay.forwarding.models import Outcome
from panelrelay.reading.orderids import is_order_id

ERROR = "#/components/schemas/ErrorOut"


class DocumentTestCase(SimpleTestCase):
    def setUp(self) -> None:
        self.spec = self.client.get("/api/v1/openapi.json").json()
        self.operations = {
            f"{method.upper()} {path}": operation
            for path, methods in self.spec["paths"].items()
            for method, operation in methods.items()
        }

    def test_every_operation_documents_its_errors_in_the_one_error_shape(self) -> None:
        self.assertEqual(
            set(self.operations),
            {"POST /api/v1/requests", "GET /api/v1/requests/{id}", "GET /api/v1/route-check",
             "GET /api/v1/panels", "GET /api/v1/commands"},
        )  # fmt: skip
        for label, operation in self.operations.items():
            errors = {status: answer for status, answer in operation["responses"].items() if int(status) >= 400}
            self.assertLessEqual({"401", "403"}, set(errors), label)  # every call can lack a valid token
            for status, answer in errors.items():
                self.assertEqual(answer["content"]["application/json"]["schema"], {"$ref": ERROR}, f"{label} {status}")
        self.assertEqual(set(self.operations["POST /api/v1/requests"]["responses"]),
                         {"201", "400", "401", "403", "404", "413", "415"})  # fmt: skip
        shape = self.spec["components"]["schemas"]["ErrorOut"]
        self.assertEqual((shape["required"], shape["additionalProperties"]), (["error"], False))

    def test_the_outcome_codes_are_an_enum_with_their_meanings(self) -> None:
        outcome = self.spec["components"]["schemas"]["OrderOut"]["properties"]["outcome"]
        self.assertEqual(outcome["enum"], list(Outcome.values))
        for code, label in Outcome.choices:
            self.assertIn(f"`{code}`: {label}", outcome["description"])

    def test_the_documented_order_id_is_the_one_the_api_takes(self) -> None:
        parameters = self.operations["GET /api/v1/route-check"]["parameters"]
        pattern = next(p["schema"]["pattern"] for p in parameters if p["name"] == "order")
        for token in ("1", "45323", "9" * 20, "0", "045", "9" * 21, "-5", "1e5", "²", "4 5", ""):
            self.assertEqual(re.fullmatch(pattern, token) is not None, is_order_id(token), token)

    def test_no_documentation_page_loads_anything_from_a_third_party(self) -> None:
        # ninja's Swagger and Redoc pages load their scripts from a CDN: none is served.
        for path in ("/api/v1/docs", "/api/v1/docs/", "/api/v1/redoc"):
            response = self.client.get(path)
            self.assertEqual((response.status_code, response["Content-Type"]), (404, "application/json"), path)
        self.assertNotIn("cdn", str(self.spec).lower())
