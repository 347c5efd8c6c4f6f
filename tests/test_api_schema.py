"""The JSON API against its own OpenAPI description: schemathesis finds no server errors."""

from __future__ import annotations

from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from strongroom.case import Case
from strongroom.config import IngestPolicy
from strongroom.web.app import create_app
from tests import synth
from tests.hostile import hostile_message


def _app() -> object:
    root = Path(__import__("tempfile").mkdtemp(prefix="strongroom-api-"))
    dump = root / "dump"
    synth.write_dump(dump, scale=1)
    (dump / "hostile.eml").write_bytes(hostile_message())
    case = Case.init(root / "case")
    case.ingest([dump], IngestPolicy(workers=1))
    return create_app(case)


schema = schemathesis.openapi.from_asgi("/openapi.json", _app())


@schema.parametrize()
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_server_errors(case: schemathesis.Case) -> None:
    response = case.call()
    assert response.status_code < 500, (case.path, case.query, response.text[:300])
    # A query the schema allows (any string) may still break the query language's grammar,
    # which OpenAPI cannot express: such a 400, with its position, is the right answer.
    case.validate_response(response, excluded_checks=[positive_data_acceptance])


@pytest.mark.parametrize("path", ["/search.json", "/correspondents.json", "/timeline.json"])
def test_queries_with_syntax_errors_are_400_not_500(path: str) -> None:
    from fastapi.testclient import TestClient

    client = TestClient(schema.app)  # type: ignore[attr-defined]
    for query in ['"open', "a AND", "(", ")", "colour:red", "date:x", "size:>q", "-", "*"]:
        response = client.get(path, params={"q": query})
        assert response.status_code == 400, (path, query, response.text)
