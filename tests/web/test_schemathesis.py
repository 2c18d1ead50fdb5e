"""Property-based fuzzing of the JSON API from its OpenAPI description (schemathesis): no
request, however odd, makes the server fail (no 5xx). Bounded: a few examples per operation,
against a server of its own with tiny job limits."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

schemathesis = pytest.importorskip("schemathesis", reason="schemathesis is not installed")

from hypothesis import HealthCheck, settings  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402

from alliancelab.web import Settings  # noqa: E402

from .conftest import start_server  # noqa: E402


@pytest.fixture(scope="module")
def fuzz_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    srv = start_server(Settings(data_dir=tmp_path_factory.mktemp("fuzzdata"),
                                max_upload_bytes=64 * 1024, max_draws=1, max_experiments=20))
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def api_schema(fuzz_server: Any) -> Any:
    import httpx

    # a case in the workspace, so that some generated names hit a real one
    httpx.post(fuzz_server.url + "/api/cases/open", json={"shipped": "us_rok_2025"})
    return schemathesis.openapi.from_url(fuzz_server.url + "/openapi.json")


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(max_examples=8, deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
def test_no_server_errors(case: Any) -> None:
    case.call_and_validate(checks=[not_a_server_error], timeout=60)


def test_the_description_lists_every_operation(fuzz_server: Any) -> None:
    import httpx

    spec = httpx.get(fuzz_server.url + "/openapi.json").json()
    paths = set(spec["paths"])
    assert {"/api/cases", "/api/cases/upload", "/api/cases/{name}", "/api/forecast",
            "/api/runs", "/api/runs/{run_id}/files/{filename}", "/api/explorations",
            "/api/explorations/{ex_id}/analysis"} <= paths
