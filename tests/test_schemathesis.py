"""Hostile input, measured: schemathesis generates requests from the app's own
OpenAPI document, valid ones and deliberately invalid ones, for every operation,
sent as a guest with a session (and a plan in it) to work on. No answer may be a
5xx, and every answer must be one the document describes (status, media type,
body).

Bounded so that it runs in about a minute: `EXAMPLES` requests per operation and
mode, no shrinking, no example database, a fixed seed (the same run every time;
change `SEED` to explore further). Operations that end the caller or their
session run last, so that the others meet a live guest.
"""

from __future__ import annotations

import collections
import re
from dataclasses import dataclass, field
from typing import Any

import pytest
import schemathesis
from flask import Flask
from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    negative_data_rejection,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from tests.conftest import ApiActions, AppFactory

EXAMPLES = 20
SEED = 20261128
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]
# Invalid input must also be refused (a 4xx), not quietly accepted.
NEGATIVE_CHECKS = [*CHECKS, negative_data_rejection]
# Run last, in this order: each takes away what the operations before it need.
ENDINGS = [
    "DELETE /api/v1/plans/{plan_id}/steps/{step_id}",
    "DELETE /api/v1/sessions/{session_id}",
    "DELETE /api/v1/auth/token",
    "DELETE /api/v1/me",
]


@pytest.fixture
def fuzzed_app(app_factory: AppFactory) -> Flask:
    return app_factory()


def _workspace(app: Flask) -> tuple[str, dict[str, Any]]:
    """A guest's token, and real ids to put in the paths: a session with a turn and
    a plan in it."""
    api = ApiActions(app.test_client())
    token = api.guest()
    session_id = api.new_session(token)
    assert api.send(token, session_id, "The second interview went badly.").status_code == 201
    plan = api.client.post(
        f"/api/v1/sessions/{session_id}/plan", headers=api.headers(token), json={}
    )
    assert plan.status_code == 201, plan.json
    goal = plan.json["goals"][0]
    ids = {
        "session_id": session_id,
        "plan_id": plan.json["id"],
        "goal_id": goal["id"],
        "step_id": goal["steps"][0]["id"],
        # A guest is no counselor: the note routes answer 403 whichever note is named.
        "note_id": 1,
    }
    return token, ids


def _order(operation: Any) -> tuple[int, str]:
    label = operation.label
    return (ENDINGS.index(label) + 1 if label in ENDINGS else 0, label)


@dataclass
class Tally:
    """What the run sent and saw: answers by class, and each distinct failure once."""

    sent: int = 0
    statuses: collections.Counter[str] = field(default_factory=collections.Counter)
    failures: dict[str, str] = field(default_factory=dict)
    without_negatives: list[str] = field(default_factory=list)


def _fuzz(operation: Any, mode: GenerationMode, strategy: Any, tally: Tally) -> None:
    checks = NEGATIVE_CHECKS if mode is GenerationMode.NEGATIVE else CHECKS

    @seed(SEED)
    @settings(
        max_examples=EXAMPLES,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def send(case: Any) -> None:
        response = case.call()
        tally.sent += 1
        tally.statuses[f"{response.status_code // 100}xx"] += 1
        try:
            case.validate_response(response, checks=checks)
        # A failure, or several in a group: each kind noted, not just the first.
        except (AssertionError, BaseExceptionGroup) as failure:
            key = f"{operation.label} [{mode.value}] {type(failure).__name__}"
            tally.failures.setdefault(key, f"{failure}\n{case.as_curl_command()}")

    try:
        send()
    except Unsatisfiable:
        # Nothing of this operation can be made invalid (no body, no query, and the
        # path's ids are fixed): no negative requests for it.
        assert mode is GenerationMode.NEGATIVE, operation.label
        tally.without_negatives.append(operation.label)


def test_no_generated_request_breaks_the_api_or_its_document(fuzzed_app: Flask) -> None:
    token, ids = _workspace(fuzzed_app)
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", fuzzed_app)
    operations = sorted((result.ok() for result in schema.get_all_operations()), key=_order)
    headers = {"Authorization": f"Bearer {token}"}
    tally = Tally()
    for operation in operations:
        path_ids = {name: ids[name] for name in re.findall(r"{(\w+)}", operation.path)}
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            strategy = operation.as_strategy(
                mode, path_parameters=path_ids or None, headers=headers
            )
            _fuzz(operation, mode, strategy, tally)

    print(
        f"\nschemathesis: {len(operations)} operations, {tally.sent} requests, answers "
        f"{dict(sorted(tally.statuses.items()))}, {len(tally.failures)} distinct failures; "
        f"nothing to make invalid in {len(tally.without_negatives)} operations"
    )
    assert tally.statuses["5xx"] == 0, tally.failures
    assert not tally.failures, "\n\n".join(
        f"{key}:\n{detail}" for key, detail in tally.failures.items()
    )
