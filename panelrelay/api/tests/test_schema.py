"""Schemathesis against the served OpenAPI document: no generated request gets a 5xx."""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings

from fakes.panel import FakePanel
from panelrelay.accounts.models import Workspace
from panelrelay.api.models import ApiToken
from panelrelay.forwarding import scenario
from panelrelay.wsgi import application

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def token():
    with FakePanel(rps=0) as fake:
        for n in range(1, 6):
            fake.add_order(id=n, provider="prov.example", external_id=str(900 + n))
        ws = Workspace.objects.create(name="Schema")
        scenario.panel(ws, fake.url)
        yield ApiToken.issue(ws, "schemathesis")[1]


def test_no_generated_request_gets_a_server_error(token) -> None:
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)
    failures: list[str] = []
    statuses: list[int] = []
    for operation in schema.get_all_operations():
        op = operation.ok()

        @settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
        @given(case=op.as_strategy())
        def check(case) -> None:
            response = case.call(headers={"Authorization": f"Bearer {token}"})
            statuses.append(response.status_code)
            if response.status_code >= 500:
                failures.append(f"{case.method} {case.formatted_path} → {response.status_code}: {response.text[:200]}")
            # The documented error shape holds for every 4xx.
            if 400 <= response.status_code < 500:
                assert "error" in response.json(), response.text

        check()
    assert not failures, "\n".join(failures)
    assert len(statuses) >= 100 and 200 in statuses and 400 in statuses, sorted(set(statuses))
