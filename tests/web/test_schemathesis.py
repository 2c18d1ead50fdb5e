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


# -- stateful: chains of calls deep enough that runs and explorations really start ----------

#: response links of the job routes: a started job's id feeds its status, cancel, analysis.
JOB_LINKS = {
    ("/api/runs", "202"): {
        "GetRun": ("get_run_api_runs__run_id__get", "run_id"),
        "CancelRun": ("cancel_run_api_runs__run_id__cancel_post", "run_id"),
    },
    ("/api/explorations", "202"): {
        "GetExploration": ("get_exploration_api_explorations__ex_id__get", "ex_id"),
        "CancelExploration": ("cancel_exploration_api_explorations__ex_id__cancel_post",
                              "ex_id"),
        "Analysis": ("get_analysis_api_explorations__ex_id__analysis_get", "ex_id"),
    },
    ("/api/cases/open", "200"): {
        "GetCase": ("get_case_api_cases__name__get", "name"),
        "Validate": ("validate_draft_api_cases__name__validate_post", "name"),
    },
}


def stateful_spec(spec: dict[str, Any]) -> dict[str, Any]:
    """The app's OpenAPI description with links between the job routes, and every ``case``
    of a request body naming the workspace's case (a random name is only ever a 404, and
    no job would start)."""
    for (path, status), links in JOB_LINKS.items():
        response = spec["paths"][path]["post"]["responses"][status]
        response["links"] = {
            label: {"operationId": op, "parameters": {param: "$response.body#/id"
                                                      if param != "name"
                                                      else "$response.body#/name"}}
            for label, (op, param) in links.items()}
    for body in ("RunRequest", "ExploreRequest", "ForecastRequest"):
        props = spec["components"]["schemas"][body]["properties"]
        props["case"] = {"type": "string", "enum": ["us_rok_2025"]}
    explore = spec["components"]["schemas"]["ExploreRequest"]["properties"]
    explore["n"] = {"type": "integer", "minimum": 1, "maximum": 4}  # within the app's cap
    explore["levers"] = explore["shocks"] = {"type": "array", "maxItems": 0}
    spec["components"]["schemas"]["RunRequest"]["properties"]["draws"] = {
        "type": "integer", "minimum": 1, "maximum": 1}
    spec["components"]["schemas"]["RunRequest"]["properties"]["models"] = {
        "type": "array", "items": {"type": "string", "enum": ["compromise"]}, "maxItems": 1}
    return spec


def test_stateful_chains_start_jobs_and_never_fail(fuzz_server: Any) -> None:
    import httpx

    httpx.post(fuzz_server.url + "/api/cases/open", json={"shipped": "us_rok_2025"},
               timeout=60)
    spec = stateful_spec(httpx.get(fuzz_server.url + "/openapi.json").json())
    schema = schemathesis.openapi.from_dict(spec)
    schema.config.update(base_url=fuzz_server.url)
    base = schema.as_state_machine()

    class Machine(base):  # type: ignore[valid-type,misc]
        def validate_response(self, response: Any, case: Any, *args: Any,
                              **kwargs: Any) -> None:
            case.validate_response(response, checks=[not_a_server_error])

    Machine.run(settings=settings(max_examples=25, stateful_step_count=6, deadline=None,
                                  derandomize=True, suppress_health_check=list(HealthCheck)))
    jobs = (httpx.get(fuzz_server.url + "/api/runs").json()
            + httpx.get(fuzz_server.url + "/api/explorations").json())
    started = [j for j in jobs if j["status"] in ("running", "done", "cancelling")
               or j["status"] in ("cancelled", "failed") and j["elapsed"] > 0]
    assert started, f"no job started: {jobs}"
    assert not [j for j in jobs if j["status"] == "failed"], jobs
