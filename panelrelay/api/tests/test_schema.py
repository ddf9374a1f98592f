"""Schemathesis against the served OpenAPI document: no 5xx, and every answer is the documented one.

Each operation gets schema-valid (positive) and schema-invalid (negative) requests, generated
deterministically (derandomize: the same cases on every run, so the test cannot flake). The
workspace has a panel (a loopback fake with orders 1-5) and a request with orders, and part of
the cases use them, so that 200 and 201 answers are checked against their schemas too, not only
the errors. Every answer must have a documented status, content type, headers and body shape,
and a schema-invalid request must be refused.
"""

from __future__ import annotations

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import checks

from fakes.panel import FakePanel
from panelrelay.accounts.models import Workspace
from panelrelay.api.models import ApiToken
from panelrelay.demo import scenario
from panelrelay.forwarding.models import Command
from panelrelay.forwarding.submit import create_request
from panelrelay.wsgi import application

pytestmark = pytest.mark.django_db(transaction=True)

EXAMPLES = 40  # per operation and mode: 400 calls, about 15 s
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_headers_conformance,
    checks.response_schema_conformance,
    checks.negative_data_rejection,
]


@pytest.fixture
def workspace():
    with FakePanel(rps=0) as fake:
        for n in range(1, 6):
            fake.add_order(id=n, provider="prov.example", external_id=str(900 + n))
        ws = Workspace.objects.create(name="Schema")
        panel = scenario.panel(ws, fake.url)
        ws.known_request = create_request(ws, panel, Command.for_workspace(ws)[0], ["1", "2", "3"])
        ws.token = ApiToken.issue(ws, "schemathesis")[1]
        yield ws


def cases(operation, mode, ws):
    """Generated cases, and as many again that name things that exist: the request, a command, orders 1 and 2.

    The token is given to the generator, not added to each call: a negative case that dropped
    the header and got it back would be a valid request reported as "invalid data accepted"."""
    auth = {"Authorization": f"Bearer {ws.token}"}
    generated = operation.as_strategy(generation_mode=mode, headers=auth)
    if mode is not schemathesis.GenerationMode.POSITIVE:
        return generated  # made valid, a negative case would no longer be one
    if operation.label == "GET /api/v1/requests/{id}":
        known = operation.as_strategy(
            generation_mode=mode, headers=auth, path_parameters={"id": str(ws.known_request.code)}
        )
    elif operation.label == "GET /api/v1/route-check":
        known = operation.as_strategy(generation_mode=mode, headers=auth, query={"order": "1", "panel": "Main"})
    elif operation.label == "POST /api/v1/requests":
        known = generated.map(lambda case: with_body(case, command="refill", panel="Main", ids=["1", "2"]))
    else:
        return generated
    return st.one_of(generated, known)


def with_body(case, **fields):
    if isinstance(case.body, dict):
        case.body.update(fields)
    return case


def run(operation, mode, ws, failures: set[str], statuses: set[tuple[str, int]]) -> None:
    @settings(max_examples=EXAMPLES, derandomize=True, database=None, deadline=None,
              suppress_health_check=list(HealthCheck))  # fmt: skip
    @given(case=cases(operation, mode, ws))
    def check(case) -> None:
        response = case.call()
        statuses.add((operation.label, response.status_code))
        try:
            case.validate_response(response, checks=CHECKS)
        except BaseException as exc:  # FailureGroup is a BaseExceptionGroup
            failures.add(f"{case.method} {case.formatted_path} {case.query} ({mode.value}): {str(exc)[:600]}")

    try:
        check()
    except Unsatisfiable:  # no parameter but the token (listPanels): nothing to make invalid
        assert mode is schemathesis.GenerationMode.NEGATIVE, operation.label


def test_every_answer_is_documented_and_none_is_a_server_error(workspace) -> None:
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)
    failures: set[str] = set()
    statuses: set[tuple[str, int]] = set()
    for result in schema.get_all_operations():
        for mode in schemathesis.GenerationMode:
            run(result.ok(), mode, workspace, failures, statuses)
    assert not failures, "\n\n".join(sorted(failures))
    for label, status in [("POST /api/v1/requests", 201), ("GET /api/v1/requests/{id}", 200),
                          ("GET /api/v1/route-check", 200), ("GET /api/v1/panels", 200)]:  # fmt: skip
        assert (label, status) in statuses, f"{label} never answered {status}: {sorted(statuses)}"
