"""The Jupyter Server extension on a real jupyter_server (pytest-jupyter's fixtures).

Every request goes through the server's HTTP stack: authentication, the authorization
hook, XSRF for POSTs without a token, our JSON errors, and the project found from a
``path`` relative to the server's root dir.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import json
import os
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

pytest.importorskip("jupyter_server")
pytest.importorskip("pytest_jupyter")

# pytest-jupyter's fixtures, imported so that they apply to this module only: its plugin
# (pytest_plugins) would put its autouse fixtures and its test-call hook on every test.
from conftest import git, write_tree
from exp_project import FILES, exp_refs
from jupyter_server.auth import Authorizer
from pytest_jupyter.jupyter_server import *  # noqa: F403
from tornado.web import HTTPError

from jupyter_exp import Project
from jupyter_exp.errors import NotInRepositoryError
from jupyter_exp.server import _jupyter_server_extension_points
from jupyter_exp.server.openapi import openapi_text
from jupyter_exp.server.paths import project_for, resolve_path

API = ("jupyter-exp", "api")


def run_async(test: Callable[..., Coroutine[Any, Any, None]]) -> Callable[..., None]:
    """Run an ``async def`` test on pytest-jupyter's event loop (the server's loop)."""
    signature = inspect.signature(test)
    loop_param = inspect.Parameter("jp_asyncio_loop", inspect.Parameter.KEYWORD_ONLY)
    extra = [] if "jp_asyncio_loop" in signature.parameters else [loop_param]

    @functools.wraps(test)
    def wrapper(*args: Any, **kwargs: Any) -> None:
        loop = kwargs["jp_asyncio_loop"] if not extra else kwargs.pop("jp_asyncio_loop")
        loop.run_until_complete(test(*args, **kwargs))

    wrapper.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=[*signature.parameters.values(), *extra]
    )
    return wrapper


class ReadOnlyAuthorizer(Authorizer):
    """Lets users read jupyter-exp data but not change anything."""

    def is_authorized(self, handler: Any, user: Any, action: str, resource: str) -> bool:
        return not (resource == "jupyter_exp" and action == "write")


@pytest.fixture
def jp_server_config(request: pytest.FixtureRequest) -> dict[str, Any]:
    """Enable our extension (and nothing else); ``"read-only"`` adds the authorizer."""
    config: dict[str, Any] = {"jpserver_extensions": {"jupyter_exp.server": True}}
    if getattr(request, "param", None) == "read-only":
        config["authorizer_class"] = ReadOnlyAuthorizer
    return {"ServerApp": config}


@pytest.fixture
def project_dir(jp_root_dir: Path) -> Path:
    """The two-stage experiment project at ``<root>/proj``, committed."""
    root = jp_root_dir / "proj"
    root.mkdir()
    git(root, "init", "-q")
    write_tree(root, FILES)
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "initial")
    return root


@pytest.fixture
def api(jp_fetch):
    """``await api("GET"|"POST", "endpoint", params=..., body=...)`` -> (status, JSON)."""

    async def call(
        method: str, endpoint: str, *, params: dict[str, Any] | None = None, body: Any = None
    ) -> tuple[int, Any]:
        kwargs: dict[str, Any] = {"method": method, "raise_error": False}
        if params:
            kwargs["params"] = params
        if method == "POST":
            kwargs["body"] = body if isinstance(body, (str, bytes)) else json.dumps(body or {})
        response = await jp_fetch(*API, *endpoint.split("/"), **kwargs)
        text = response.body.decode()
        return response.code, json.loads(text) if text else None

    return call


async def wait_job(api, job_id: str, timeout: float = 60) -> dict[str, Any]:
    """Poll ``jobs/{id}`` until the job has ended; return it."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        status, job = await api("GET", f"jobs/{job_id}")
        assert status == 200, job
        if job["status"] in ("success", "failed"):
            return job
        assert asyncio.get_running_loop().time() < deadline, job
        await asyncio.sleep(0.05)


# --- security ---------------------------------------------------------------------------


@run_async
async def test_requests_without_a_token_are_refused(
    jp_serverapp, http_server_client, jp_base_url, project_dir: Path
) -> None:
    url = jp_base_url + "jupyter-exp/api/"
    get = await http_server_client.fetch(
        url + "experiments?" + urlencode({"path": "proj"}), raise_error=False
    )
    assert get.code == 403
    post = await http_server_client.fetch(
        url + "run", method="POST", body=json.dumps({"path": "proj"}), raise_error=False
    )
    assert post.code == 403
    assert exp_refs(project_dir) == {}  # nothing ran


@run_async
async def test_a_browser_session_must_send_the_xsrf_token_on_post(
    jp_serverapp, http_server_client, jp_base_url, project_dir: Path
) -> None:
    # Log in as a browser does (token in the URL once), then use the cookies only.
    token = jp_serverapp.identity_provider.token
    login = await http_server_client.fetch(
        f"{jp_base_url}api/status?token={token}", raise_error=False
    )
    page = await http_server_client.fetch(f"{jp_base_url}login", raise_error=False)
    cookies = [*login.headers.get_list("Set-Cookie"), *page.headers.get_list("Set-Cookie")]
    jar = dict(c.split(";")[0].split("=", 1) for c in cookies)
    assert "_xsrf" in jar and len(jar) >= 2, jar
    cookie = "; ".join(f"{k}={v}" for k, v in jar.items())
    url = jp_base_url + "jupyter-exp/api/"

    get = await http_server_client.fetch(
        url + "experiments?path=proj", headers={"Cookie": cookie}, raise_error=False
    )
    assert get.code == 200  # the session authenticates
    body = json.dumps({"path": "proj", "queue": "not a bool"})
    without = await http_server_client.fetch(
        url + "run", method="POST", body=body, headers={"Cookie": cookie}, raise_error=False
    )
    assert without.code == 403  # refused before the body is even read
    with_xsrf = await http_server_client.fetch(
        url + "run",
        method="POST",
        body=body,
        headers={"Cookie": cookie, "X-XSRFToken": jar["_xsrf"]},
        raise_error=False,
    )
    assert with_xsrf.code == 400, with_xsrf.body  # past XSRF: the bad body is reported
    assert exp_refs(project_dir) == {}


@pytest.mark.parametrize("jp_server_config", ["read-only"], indirect=True)
@run_async
async def test_the_authorizer_decides_per_action(api, project_dir: Path) -> None:
    status, table = await api("GET", "experiments", params={"path": "proj"})
    assert status == 200, table
    status, body = await api("POST", "run", body={"path": "proj"})
    assert status == 403, body
    assert body["message"] == "User is not authorized to write on resource: jupyter_exp."
    status, body = await api("POST", "queue/stop", body={"path": "proj"})
    assert status == 403, body
    assert exp_refs(project_dir) == {}


@pytest.mark.parametrize(
    "path",
    ["..", "../root_dir/proj", "proj/../../x", "/etc", "/", "C:/Windows"],
)
@run_async
async def test_paths_outside_the_root_are_refused(api, project_dir: Path, path: str) -> None:
    status, body = await api("GET", "experiments", params={"path": path})
    assert status == 403, body
    assert body["error"] == "Forbidden" and body["message"]


@run_async
async def test_a_symlink_leaving_the_root_is_refused(
    api, project_dir: Path, jp_root_dir: Path, tmp_path: Path
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    git(outside, "init", "-q")
    os.symlink(outside, jp_root_dir / "escape")
    for path in ("escape", "escape/sub"):
        status, body = await api("GET", "experiments", params={"path": path})
        assert status == 403, body
    status, body = await api("POST", "apply", body={"path": "escape", "experiment": "x"})
    assert status == 403, body


@run_async
async def test_a_path_outside_any_repository_is_a_404_with_a_message(
    api, jp_root_dir: Path
) -> None:
    (jp_root_dir / "plain").mkdir()
    status, body = await api("GET", "experiments", params={"path": "plain"})
    assert status == 404
    assert body["error"] == "NotInRepositoryError"
    assert body["message"] == "'plain' is not inside a Git or DVC repository"
    assert str(jp_root_dir) not in json.dumps(body)  # the server's paths stay private
    status, body = await api("GET", "experiments", params={"path": "missing/file.txt"})
    assert status == 404 and "no such file" in body["message"]


def test_a_repository_enclosing_the_root_is_not_used(tmp_path: Path) -> None:
    outer = tmp_path / "outer"
    (outer / "served" / "sub").mkdir(parents=True)
    git(outer, "init", "-q")
    with pytest.raises(NotInRepositoryError) as info:
        project_for(outer / "served", "sub")
    assert info.value.path == "sub"
    assert resolve_path(outer / "served", "") == (outer / "served").resolve()
    # Tornado strips control characters from query arguments; JSON bodies keep them.
    with pytest.raises(HTTPError) as refused:
        resolve_path(outer / "served", "sub/\x00")
    assert refused.value.status_code == 403


# --- bad parameters ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "endpoint", "params", "body", "argument"),
    [
        ("GET", "experiments", {"num": "many"}, None, "num"),
        ("GET", "experiments", {"num": "0"}, None, "num"),
        ("GET", "experiments", {"all_commits": "perhaps"}, None, "all_commits"),
        ("GET", "experiments", {"sort_order": "sideways"}, None, "sort_order"),
        ("GET", "queue/logs", {}, None, "name"),
        ("GET", "jobs/" + "0" * 32, {"since": "-1"}, None, "since"),
        ("POST", "run", None, "{not json", None),
        ("POST", "run", None, "[1, 2]", None),
        ("POST", "run", None, {"params": "train.lr=1"}, "params"),
        ("POST", "run", None, {"queue": "yes"}, "queue"),
        ("POST", "run", None, {"nmae": "typo"}, "nmae"),
        ("POST", "run", None, {"params": ["a=1,b=2"]}, "a=1,b=2"),
        ("POST", "run", None, {"params": ["../../evil.yaml:a=1"]}, "params"),
        ("POST", "run", None, {"params": ["/tmp/evil.yaml:a=1"]}, "params"),
        ("POST", "run", None, {"targets": ["../other/dvc.yaml"]}, "targets"),
        ("POST", "save", None, {"targets": ["/etc/dvc.yaml"]}, "targets"),
        ("POST", "apply", None, {}, "experiment"),
        ("POST", "branch", None, {"experiment": 3}, "experiment"),
        ("POST", "remove", None, {}, "names"),
        ("POST", "push", None, {"names": ["a"]}, "git_remote"),
        ("POST", "queue/start", None, {"jobs": 0}, "jobs"),
        ("POST", "queue/stop", None, {"kill": 1}, "kill"),
        ("POST", "queue/kill", None, {"names": []}, "names"),
        ("POST", "queue/remove", None, {}, "names"),
        ("POST", "pull", None, {}, "git_remote"),
        ("POST", "save", None, {"force": "yes"}, "force"),
    ],
)
@run_async
async def test_bad_parameters_are_a_400_with_a_message(
    api, project_dir: Path, method, endpoint, params, body, argument
) -> None:
    params = {"path": "proj", **(params or {})}
    if isinstance(body, dict):
        body = {"path": "proj", **body}
    status, answer = await api(method, endpoint, params=params, body=body)
    assert status == 400, answer
    assert answer["message"]
    if argument is not None:
        assert answer["argument"] == argument, answer


@run_async
async def test_an_unknown_job_or_experiment_is_a_404(api, project_dir: Path) -> None:
    status, body = await api("GET", "jobs/" + "a" * 32)
    assert status == 404 and body["message"] == f"no job {'a' * 32!r}"
    status, body = await api("POST", "apply", body={"path": "proj", "experiment": "nope"})
    assert status == 404 and body["error"] == "ExperimentNotFoundError", body


# --- happy paths ------------------------------------------------------------------------


@run_async
async def test_run_job_then_show_diff_plots_branch_apply_remove(api, project_dir: Path) -> None:
    status, body = await api(
        "POST", "run", body={"path": "proj", "params": ["train.lr=0.25"], "name": "lr-a"}
    )
    assert status == 202, body
    assert body["job"]["project"] == "proj" and body["job"]["status"] in ("pending", "running")
    job = await wait_job(api, body["job"]["id"])
    assert job["status"] == "success", job
    assert job["result"]["name"] == "lr-a" and job["result"]["metrics"]
    assert {e["type"] for e in job["events"]} >= {"StageStarted", "StageCompleted"}
    assert "refs/exps/" in " ".join(exp_refs(project_dir))
    # Events can be read incrementally.
    status, tail = await api("GET", f"jobs/{job['id']}", params={"since": str(job["next"])})
    assert tail["events"] == [] and tail["next"] == job["next"]

    status, table = await api("GET", "experiments", params={"path": "proj/train.py"})
    assert status == 200, table
    rows = {row["Experiment"]: row for row in table["rows"]}
    assert rows["lr-a"]["values"]["acc"] == 0.75
    assert rows["lr-a"]["values"]["train.lr"] == 0.25
    kinds = {c["kind"] for c in table["columns"]}
    assert {"meta", "metric", "param"} <= kinds

    status, plots = await api("GET", "plots", params={"path": "proj"})
    assert status == 200
    assert [(m["name"], m["path"]) for m in plots["metrics"]] == [("acc", "metrics.json")]
    acc = {e["Experiment"]: e["values"].get("acc") for e in plots["experiments"]}
    assert acc["lr-a"] == 0.75

    status, diff = await api("GET", "diff", params={"path": "proj", "a": "HEAD", "b": "lr-a"})
    assert status == 200, diff
    assert diff["params"]["params.yaml"]["train.lr"]["new"] == 0.25

    status, branch = await api("POST", "branch", body={"path": "proj", "experiment": "lr-a"})
    assert status == 200 and branch["branch"] == "lr-a-branch", branch
    assert git(project_dir, "rev-parse", "--verify", "-q", "refs/heads/lr-a-branch")

    git(project_dir, "checkout", "-q", "--", ".")  # the run left its results in the workspace
    status, applied = await api("POST", "apply", body={"path": "proj", "experiment": "lr-a"})
    assert status == 200, applied
    assert "lr: 0.25" in (project_dir / "params.yaml").read_text()

    status, removed = await api("POST", "remove", body={"path": "proj", "names": ["lr-a"]})
    assert status == 200 and removed["removed"] == ["lr-a"]
    assert not [ref for ref in exp_refs(project_dir) if not ref.startswith("refs/exps/apply/")]


@run_async
async def test_two_runs_submitted_together_both_land(api, project_dir: Path) -> None:
    ids = []
    for name, lr in (("first", "0.3"), ("second", "0.4")):
        body = {"path": "proj", "params": [f"train.lr={lr}"], "name": name}
        status, answer = await api("POST", "run", body=body)
        assert status == 202, answer
        ids.append(answer["job"]["id"])
    jobs = [await wait_job(api, job_id) for job_id in ids]
    assert [j["status"] for j in jobs] == ["success", "success"], jobs
    assert jobs[0]["finished"] <= jobs[1]["finished"]
    status, table = await api("GET", "experiments", params={"path": "proj"})
    acc = {row["Experiment"]: row["values"].get("acc") for row in table["rows"]}
    assert (acc["first"], acc["second"]) == (0.8, 0.9), acc


@run_async
async def test_save_push_and_pull_through_a_configured_remote_only(
    api, project_dir: Path, tmp_path: Path
) -> None:
    bare = tmp_path / "origin.git"
    git(tmp_path, "init", "-q", "--bare", str(bare))
    git(project_dir, "remote", "add", "origin", str(bare))
    (project_dir / "params.yaml").write_text("train:\n  lr: 0.05\n  epochs: 2\n")
    Project(project_dir).repro()  # save records the workspace's results: make them
    status, saved = await api("POST", "save", body={"path": "proj", "name": "saved-a"})
    assert status == 200 and saved["name"] == "saved-a", saved

    # A URL or a folder would make the server write outside its root: refused.
    for remote in (str(bare), "file://" + str(bare), "../origin.git"):
        body = {"path": "proj", "git_remote": remote, "names": ["saved-a"]}
        status, answer = await api("POST", "push", body=body)
        assert (status, answer["argument"]) == (400, "git_remote"), answer
    assert git(bare, "for-each-ref", "refs/exps/") == ""

    body = {"path": "proj", "git_remote": "origin", "names": ["saved-a"]}
    status, pushed = await api("POST", "push", body=body)
    assert status == 200 and pushed["pushed"] == ["saved-a"], pushed
    assert "saved-a" in git(bare, "for-each-ref", "refs/exps/")

    status, removed = await api("POST", "remove", body={"path": "proj", "names": ["saved-a"]})
    assert removed["removed"] == ["saved-a"]
    status, pulled = await api("POST", "pull", body=body)
    assert status == 200 and pulled["pulled"] == ["saved-a"], pulled
    assert any(ref.endswith("/saved-a") for ref in exp_refs(project_dir))


@run_async
async def test_a_failing_run_ends_failed_with_the_error(api, project_dir: Path) -> None:
    status, body = await api(
        "POST", "run", body={"path": "proj", "params": ["train.fail=true"], "name": "bad"}
    )
    assert status == 202
    job = await wait_job(api, body["job"]["id"])
    assert job["status"] == "failed"
    assert job["error"]["error"].endswith("Error") and job["error"]["message"]
    status, jobs = await api("GET", "jobs")
    assert [j["id"] for j in jobs["jobs"]] == [job["id"]]


@run_async
async def test_queue_start_runs_the_entry_and_status_logs_follow(api, project_dir: Path) -> None:
    body = {"path": "proj", "params": ["train.lr=0.5"], "name": "queued-a", "queue": True}
    status, queued = await api("POST", "run", body=body)
    assert status == 200, queued
    assert [(e["name"], e["state"]) for e in queued["queued"]] == [("queued-a", "Queued")]
    status, logs = await api("GET", "queue/logs", params={"path": "proj", "name": "queued-a"})
    assert (status, logs) == (200, {"name": "queued-a", "log": ""})  # not started yet
    status, missing = await api("GET", "queue/logs", params={"path": "proj", "name": "nope"})
    assert status == 404, missing

    status, started = await api("POST", "queue/start", body={"path": "proj", "jobs": 1})
    assert status == 200 and len(started["workers"]) == 1, started
    deadline = asyncio.get_running_loop().time() + 60
    while True:
        status, queue = await api("GET", "queue/status", params={"path": "proj"})
        assert status == 200, queue
        (entry,) = queue["entries"]
        if entry["state"] in ("Success", "Failed"):
            break
        assert asyncio.get_running_loop().time() < deadline, queue
        await asyncio.sleep(0.1)
    assert entry["state"] == "Success", entry
    status, logs = await api("GET", "queue/logs", params={"path": "proj", "name": "queued-a"})
    assert status == 200 and "train" in logs["log"], logs
    status, table = await api("GET", "experiments", params={"path": "proj"})
    acc = {row["Experiment"]: row["values"].get("acc") for row in table["rows"]}
    assert acc["queued-a"] == 1.0, acc
    status, stopped = await api("POST", "queue/stop", body={"path": "proj"})
    assert status == 200 and "entries" in stopped, stopped


@run_async
async def test_openapi_document_is_served_and_lists_every_route(api, jp_fetch) -> None:
    response = await jp_fetch(*API, "openapi.yaml")
    text = response.body.decode()
    assert text == openapi_text() and text.startswith("openapi: 3")
    from jupyter_exp.server.handlers import _ROUTES

    for path, _handler in _ROUTES:
        documented = "/jobs/{id}" if path.startswith("jobs/(") else "/" + path
        assert f"  {documented}:" in text, documented
    assert _jupyter_server_extension_points() == [{"module": "jupyter_exp.server"}]


def test_the_shipped_config_enables_the_extension() -> None:
    config = Path(__file__).parents[1] / "jupyter-config/jupyter_server_config.d/jupyter_exp.json"
    data = json.loads(config.read_text())
    assert data == {"ServerApp": {"jpserver_extensions": {"jupyter_exp.server": True}}}
