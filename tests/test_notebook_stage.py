"""Notebook stages: `jupyter exp notebook` recognised and run in-process by the engine.

Real notebooks (tests/notebooks/) executed by real ipykernel kernels. One execution is
shared by the tests that only read its result; each other test runs one notebook.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import nbformat
import pytest
from conftest import git, write_tree
from dvc_oracle import run_dvc  # at import: the oracle venv is found under the real HOME

from jupyter_exp.api import Project
from jupyter_exp.core.stages import in_process_runner
from jupyter_exp.core.stages.notebook import NotebookRunner
from jupyter_exp.errors import (
    InvalidArgumentError,
    KernelNotFoundError,
    MissingParamError,
    NotebookCellError,
    ParamsFileError,
)
from jupyter_exp.events import Event, NotebookCellProgress, StageFailed, StageOutput
from jupyter_exp.notebook import NotebookRequest, ParamSpec, default_output, parse_command
from jupyter_exp.notebook.execute import execute_notebook
from jupyter_exp.notebook.params import resolve_parameters

NOTEBOOKS = Path(__file__).parent / "notebooks"

PARAMS = """\
train:
  lr: 0.1
  epochs: 3
model:
  layers: 4
  act: relu
eval:
  threshold: 0.5
"""


def seen(output: Path) -> dict[str, Any]:
    """What tests/notebooks/train.ipynb printed about its variables, from the executed copy."""
    nb = nbformat.read(output, as_version=4)
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream" and out["text"].startswith("{"):
                return json.loads(out["text"])
    raise AssertionError(f"no JSON printed in {output}")


def kernel_env(home: Path, **extra: str) -> dict[str, str]:
    """This process's environment with a scratch HOME (kernels write ~/.ipython)."""
    home.mkdir(parents=True, exist_ok=True)
    return {**os.environ, "HOME": str(home), **extra}


# --- recognising the command -----------------------------------------------------------


@pytest.mark.parametrize(
    ("cmd", "expected"),
    [
        ("jupyter exp notebook train.ipynb", NotebookRequest("train.ipynb", "train.out.ipynb")),
        (
            "jupyter-exp notebook nb/t.ipynb -o out/t.ipynb -p train -p train.lr:rate "
            "--params-file conf/p.yaml --kernel python3",
            NotebookRequest(
                "nb/t.ipynb",
                "out/t.ipynb",
                (ParamSpec("train"), ParamSpec("train.lr", "rate")),
                "conf/p.yaml",
                "python3",
            ),
        ),
        ("jupyter exp notebook 'my nb.ipynb'", NotebookRequest("my nb.ipynb", "my nb.out.ipynb")),
    ],
)
def test_our_command_is_recognised(cmd: str, expected: NotebookRequest) -> None:
    assert parse_command(cmd) == expected
    runner = in_process_runner(cmd)
    assert isinstance(runner, NotebookRunner)
    assert runner.request == expected


@pytest.mark.parametrize(
    "cmd",
    [
        "papermill in.ipynb out.ipynb -p lr 0.1",
        "jupyter nbconvert --execute t.ipynb",
        "jupyter exp notebook",  # no notebook
        "jupyter exp notebook a.ipynb b.ipynb",  # two positionals
        "jupyter exp notebook a.ipynb --unknown",
        "jupyter exp notebook a.ipynb -p 'bad key'",
        "jupyter exp notebook a.ipynb --help",
        "jupyter exp notebook a.ipynb && echo done",
        "jupyter exp notebook a.ipynb > log.txt",
        "jupyter exp notebook $NB",
        "jupyter exp notebook *.ipynb",
        "jupyter exp notebook a.ipynb; rm -rf x",
        "FOO=1 jupyter exp notebook a.ipynb",
        "jupyter exp notebook 'unclosed",
        "jupyter exp -q notebook a.ipynb",
        "python train.py",
    ],
)
def test_anything_else_goes_to_the_shell(cmd: str) -> None:
    assert parse_command(cmd) is None
    assert not isinstance(in_process_runner(cmd), NotebookRunner)


def test_default_output_and_round_trip_of_the_command_line() -> None:
    assert default_output("train.ipynb") == "train.out.ipynb"
    assert default_output("nb/a.b.ipynb") == "nb/a.b.out.ipynb"
    assert default_output("script") == "script.out.ipynb"
    request = NotebookRequest(
        "my nb.ipynb", "o.ipynb", (ParamSpec("train.lr", "rate"),), "p.json", "ir"
    )
    assert request.command() == (
        "jupyter exp notebook 'my nb.ipynb' -o o.ipynb -p train.lr:rate "
        "--params-file p.json --kernel ir"
    )
    assert parse_command(request.command()) == request
    plain = NotebookRequest("t.ipynb", "t.out.ipynb", (ParamSpec("train"),))
    assert plain.command() == "jupyter exp notebook t.ipynb -p train"


# --- resolving -p ----------------------------------------------------------------------

DATA = {"train": {"lr": 0.1, "epochs": 3, "batch-size": 8}, "model": {"lr": 2}, "seed": 7}


def test_leaf_rename_and_section_injection() -> None:
    specs = [ParamSpec("train.lr"), ParamSpec("train.epochs", "n"), ParamSpec("seed")]
    assert resolve_parameters(specs, DATA, path="params.yaml") == {"lr": 0.1, "n": 3, "seed": 7}
    section = resolve_parameters([ParamSpec("model")], DATA, path="params.yaml")
    assert section == {"lr": 2}
    whole = resolve_parameters([ParamSpec("model", "model_cfg")], DATA, path="params.yaml")
    assert whole == {"model_cfg": {"lr": 2}}


def test_two_keys_giving_one_variable_are_refused() -> None:
    with pytest.raises(InvalidArgumentError, match=r"'lr' is given by both '-p train.lr' and "):
        resolve_parameters([ParamSpec("train.lr"), ParamSpec("model")], DATA, path="p.yaml")


def test_missing_key_and_non_python_names_are_clear_errors() -> None:
    with pytest.raises(MissingParamError, match=r"params key 'train.nope' not found in 'p.yaml'"):
        resolve_parameters([ParamSpec("train.nope")], DATA, path="p.yaml")
    with pytest.raises(InvalidArgumentError, match=r"-p train.batch-size:batch_size"):
        resolve_parameters([ParamSpec("train")], DATA, path="p.yaml", python_names=True)
    # Other kernels have other rules: no check unless asked.
    assert "batch-size" in resolve_parameters([ParamSpec("train")], DATA, path="p.yaml")


# --- executing (one shared run) --------------------------------------------------------


@pytest.fixture(scope="module")
def executed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """train.ipynb run once in-process with a leaf, a renamed key and a section."""
    work = tmp_path_factory.mktemp("executed")
    shutil.copy(NOTEBOOKS / "train.ipynb", work / "train.ipynb")
    (work / "params.yaml").write_text(PARAMS)
    events: list[Event] = []
    request = parse_command(
        "jupyter exp notebook train.ipynb -p train.lr -p train.epochs:n_epochs -p model"
    )
    assert request is not None
    env = kernel_env(tmp_path_factory.mktemp("home"), DVC_STAGE="train", DVC_ROOT=str(work))
    run = execute_notebook(request, cwd=work, env=env, stage="train", on_event=events.append)
    return {"work": work, "events": events, "run": run}


def test_parameters_are_injected_leaf_renamed_and_section(executed: dict[str, Any]) -> None:
    values = seen(executed["work"] / "train.out.ipynb")
    assert values["lr"] == 0.1  # leaf name
    assert values["n_epochs"] == 3  # KEY:NAME
    assert values["epochs"] == 1  # not given: the notebook's default
    assert (values["layers"], values["act"]) == (4, "relu")  # a whole section
    assert executed["run"].parameters == {"lr": 0.1, "n_epochs": 3, "layers": 4, "act": "relu"}


def test_executed_notebook_is_papermills(executed: dict[str, Any]) -> None:
    nb = nbformat.read(executed["work"] / "train.out.ipynb", as_version=4)
    tags = [cell.metadata.get("tags", []) for cell in nb.cells]
    assert tags.index(["injected-parameters"]) == tags.index(["parameters"]) + 1
    assert nb.metadata.papermill["input_path"] == "train.ipynb"
    assert nb.metadata.papermill["output_path"] == "train.out.ipynb"
    assert nb.metadata.papermill["parameters"]["act"] == "relu"
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert [c.execution_count for c in code] == [1, 2, 3, 4]
    assert code[-1].outputs[0]["data"]["text/plain"] == "0.1"  # score = lr * epochs
    assert not (executed["work"] / "train.ipynb.out.ipynb").exists()


def test_kernel_runs_in_the_stage_directory_with_its_environment(
    executed: dict[str, Any],
) -> None:
    values = seen(executed["work"] / "train.out.ipynb")
    work = executed["work"]
    assert os.path.realpath(values["cwd"]) == os.path.realpath(work)
    assert values["env"]["DVC_STAGE"] == "train"
    assert values["env"]["DVC_ROOT"] == str(work)
    # The notebook logged a metric through jupyter_exp.tracking, relative to its cwd.
    assert json.loads((work / "dvclive" / "metrics.json").read_text()) == {"score": 0.1}


def test_progress_events_count_code_cells(executed: dict[str, Any]) -> None:
    progress = [e for e in executed["events"] if isinstance(e, NotebookCellProgress)]
    assert [(e.cell, e.total) for e in progress] == [(0, 4), (1, 4), (2, 4), (3, 4), (4, 4)]
    assert {(e.stage, e.notebook) for e in progress} == {("train", "train.ipynb")}
    printed = "".join(
        e.text for e in executed["events"] if isinstance(e, StageOutput) and e.stream == "stdout"
    )
    assert '"act": "relu"' in printed
    assert executed["run"].cells == 4


# --- failures --------------------------------------------------------------------------


def test_failing_cell_names_cell_exception_and_traceback(tmp_path: Path) -> None:
    shutil.copy(NOTEBOOKS / "fails.ipynb", tmp_path / "fails.ipynb")
    (tmp_path / "params.yaml").write_text(PARAMS)
    events: list[Event] = []
    request = parse_command("jupyter exp notebook fails.ipynb -o out/fails.ipynb -p train.lr")
    assert request is not None
    env = kernel_env(tmp_path / "home")
    with pytest.raises(NotebookCellError) as caught:
        execute_notebook(request, cwd=tmp_path, env=env, stage="s", on_event=events.append)
    error = caught.value
    # Cells: parameters, injected-parameters, def check, check(lr), never reached.
    assert (error.cell, error.total) == (4, 5)
    assert (error.ename, error.evalue) == ("ValueError", "lr must be >= 1, got 0.1")
    assert str(error) == (
        "stage 's': notebook 'fails.ipynb' failed in cell 4 of 5: ValueError: lr must be "
        ">= 1, got 0.1 (partially executed notebook kept in 'out/fails.ipynb')"
    )
    assert error.traceback[0].startswith("Cell In[3], line 3, in check(value)")
    assert error.traceback[-1] == "ValueError: lr must be >= 1, got 0.1"
    assert any('raise ValueError(f"lr must be >= 1' in line for line in error.traceback)
    assert error.exit_code == 1
    # The tail is also shown as the stage's stderr, like a script's traceback.
    stderr = "".join(e.text for e in events if isinstance(e, StageOutput) and e.stream == "stderr")
    assert "ValueError: lr must be >= 1, got 0.1" in stderr
    # The partial notebook is kept, with papermill's error banner, later cells not run.
    nb = nbformat.read(tmp_path / "out" / "fails.ipynb", as_version=4)
    assert "An Exception was encountered" in nb.cells[0].source
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code[3].outputs[0]["text"] == "checking\n"
    assert code[3].outputs[-1]["ename"] == "ValueError"
    assert code[4].execution_count is None and code[4].outputs == []


def test_missing_kernel_lists_installed_ones(tmp_path: Path) -> None:
    shutil.copy(NOTEBOOKS / "train.ipynb", tmp_path / "train.ipynb")
    request = parse_command("jupyter exp notebook train.ipynb --kernel no-such-kernel")
    assert request is not None
    with pytest.raises(KernelNotFoundError) as caught:
        execute_notebook(request, cwd=tmp_path)
    assert caught.value.kernel == "no-such-kernel"
    assert "python3" in caught.value.available
    assert "needs kernel 'no-such-kernel', which is not installed (installed kernels: " in str(
        caught.value
    )
    assert not (tmp_path / "train.out.ipynb").exists()


def test_bad_params_are_reported_before_any_kernel_starts(tmp_path: Path) -> None:
    shutil.copy(NOTEBOOKS / "train.ipynb", tmp_path / "train.ipynb")
    with pytest.raises(ParamsFileError, match=r"params file 'params\.yaml': does not exist"):
        execute_notebook(NotebookRequest("train.ipynb", "o.ipynb", (ParamSpec("x"),)), cwd=tmp_path)
    (tmp_path / "params.yaml").write_text(PARAMS)
    with pytest.raises(MissingParamError, match=r"'train\.momentum' not found"):
        execute_notebook(
            NotebookRequest("train.ipynb", "o.ipynb", (ParamSpec("train.momentum"),)), cwd=tmp_path
        )
    with pytest.raises(InvalidArgumentError, match=r"notebook 'nope\.ipynb' does not exist"):
        execute_notebook(NotebookRequest("nope.ipynb", "o.ipynb"), cwd=tmp_path)
    assert not (tmp_path / "o.ipynb").exists()


def test_kernel_that_dies_fails_with_a_clear_message(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    nb = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_code_cell("x = lr"),
            nbformat.v4.new_code_cell("import os\nos._exit(3)"),
            nbformat.v4.new_code_cell("x"),
        ]
    )
    nbformat.write(nb, tmp_path / "dies.ipynb")
    (tmp_path / "params.yaml").write_text(PARAMS)
    request = NotebookRequest("dies.ipynb", "dies.out.ipynb", (ParamSpec("train.lr"),))
    events: list[Event] = []
    with pytest.raises(NotebookCellError) as caught:
        execute_notebook(
            request, cwd=tmp_path, env=kernel_env(tmp_path / "home"), on_event=events.append
        )
    assert caught.value.ename == "DeadKernelError"
    # Cells: injected parameters (no 'parameters' cell: papermill puts it first), x = lr, exit.
    assert str(caught.value) == (
        "notebook 'dies.ipynb' failed: the kernel died while running cell 3 of 4 "
        "(partially executed notebook kept in 'dies.out.ipynb')"
    )
    assert (tmp_path / "dies.out.ipynb").exists()
    # papermill's warnings arrive as the stage's stderr; nothing is printed by us.
    stderr = [e.text for e in events if isinstance(e, StageOutput) and e.stream == "stderr"]
    assert "papermill: Input notebook does not contain a cell with tag 'parameters'\n" in stderr
    assert "papermill" not in capfd.readouterr().err


# --- in a pipeline ---------------------------------------------------------------------

PIPELINE = """\
stages:
  train:
    cmd: jupyter exp notebook train.ipynb -p train
    deps:
    - train.ipynb
    params:
    - train
    outs:
    - train.out.ipynb
    metrics:
    - dvclive/metrics.json:
        cache: false
"""


@pytest.fixture
def notebook_project(make_project: Callable[..., Path]) -> Path:
    root = make_project({"dvc.yaml": PIPELINE, "params.yaml": PARAMS})
    shutil.copy(NOTEBOOKS / "train.ipynb", root / "train.ipynb")
    shutil.copy(NOTEBOOKS / "fails.ipynb", root / "fails.ipynb")
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "notebooks")
    return root


def test_pipeline_runs_notebook_then_tracks_only_its_keys(notebook_project: Path) -> None:
    root = notebook_project
    events: list[Event] = []
    project = Project(root, on_event=events.append)
    result = project.repro(env={"DVC_EXP_NAME": "exp-1"})
    assert result.ran == ["train"]
    values = seen(root / "train.out.ipynb")
    assert (values["lr"], values["epochs"]) == (0.1, 3)
    assert values["env"] == {"DVC_ROOT": str(root), "DVC_STAGE": "train", "DVC_EXP_NAME": "exp-1"}
    assert any(isinstance(e, NotebookCellProgress) and e.stage == "train" for e in events)
    lock = load_lockfile_entry(root, "train")
    assert lock["params"] == {"params.yaml": {"train": {"lr": 0.1, "epochs": 3}}}
    assert [m["path"] for m in lock["outs"]] == ["dvclive/metrics.json", "train.out.ipynb"]
    metrics = json.loads((root / "dvclive" / "metrics.json").read_text())
    assert metrics == {"score": pytest.approx(0.3)}

    assert project.repro().ran == []  # nothing changed: no-op
    # A key the notebook does not take: still up to date.
    (root / "params.yaml").write_text(PARAMS.replace("threshold: 0.5", "threshold: 0.9"))
    assert project.repro().ran == []
    # model.* is not tracked by this stage either (only -p train is).
    (root / "params.yaml").write_text(PARAMS.replace("layers: 4", "layers: 8"))
    assert project.repro().ran == []
    # A key it does take: it runs again with the new value.
    (root / "params.yaml").write_text(PARAMS.replace("lr: 0.1", "lr: 0.2"))
    assert project.repro().ran == ["train"]
    assert seen(root / "train.out.ipynb")["lr"] == 0.2
    assert load_lockfile_entry(root, "train")["params"]["params.yaml"]["train"]["lr"] == 0.2


def load_lockfile_entry(root: Path, stage: str) -> dict[str, Any]:
    import yaml

    return yaml.safe_load((root / "dvc.lock").read_text())["stages"][stage]


def test_failing_notebook_stage_keeps_lock_and_partial_output(notebook_project: Path) -> None:
    root = notebook_project
    write_tree(
        root,
        {
            "dvc.yaml": PIPELINE
            + """\
  check:
    cmd: jupyter exp notebook fails.ipynb -p train.lr
    deps:
    - fails.ipynb
    params:
    - train.lr
    outs:
    - fails.out.ipynb
"""
        },
    )
    events: list[Event] = []
    project = Project(root, on_event=events.append)
    with pytest.raises(NotebookCellError) as caught:
        project.repro(["check"])
    assert caught.value.stage == "check"
    assert "failed in cell 4 of 5: ValueError: lr must be >= 1, got 0.1" in str(caught.value)
    failed = [e for e in events if isinstance(e, StageFailed)]
    assert [(e.stage, e.message) for e in failed] == [("check", str(caught.value))]
    assert (root / "fails.out.ipynb").exists()  # kept for inspection
    assert not (root / "dvc.lock").exists()  # nothing recorded for the failed stage
    # keep-going: the other stage still runs, the failure is reported at the end.
    with pytest.raises(NotebookCellError):
        project.repro(keep_going=True)
    assert load_lockfile_entry(root, "train")["cmd"] == "jupyter exp notebook train.ipynb -p train"
    assert "check" not in (root / "dvc.lock").read_text()


# --- the shell path: DVC's old papermill form, and DVC itself --------------------------

OLD_WAY = """\
stages:
  old:
    cmd: papermill train.ipynb old.out.ipynb -p lr ${train.lr} -p epochs ${train.epochs}
    deps:
    - train.ipynb
    outs:
    - old.out.ipynb
"""


@pytest.mark.slow
def test_papermill_command_of_dvc_docs_runs_as_a_shell_command(
    make_project: Callable[..., Path],
) -> None:
    root = make_project({"dvc.yaml": OLD_WAY, "params.yaml": PARAMS})
    shutil.copy(NOTEBOOKS / "train.ipynb", root / "train.ipynb")
    cmd = "papermill train.ipynb old.out.ipynb -p lr 0.1 -p epochs 3"
    assert in_process_runner(cmd) is None  # not ours: a plain shell command
    events: list[Event] = []
    result = Project(root).repro(on_event=events.append)
    assert result.ran == ["old"]
    values = seen(root / "old.out.ipynb")
    assert (values["lr"], values["epochs"]) == (0.1, 3)
    assert not any(isinstance(e, NotebookCellProgress) for e in events)  # papermill's own run
    assert load_lockfile_entry(root, "old")["cmd"] == cmd
    assert Project(root).repro().ran == []


def _path_with_our_scripts() -> str:
    """PATH for DVC's shell: `jupyter` and `jupyter-exp` of this interpreter first."""
    scripts = os.path.dirname(os.path.realpath(shutil.which("jupyter-exp") or sys.executable))
    return os.pathsep.join([os.path.dirname(sys.executable), scripts, os.environ["PATH"]])


@pytest.mark.slow
@pytest.mark.oracle
def test_dvc_runs_the_same_stage_and_records_the_same_lock(
    make_project: Callable[..., Path],
) -> None:
    files = {"dvc.yaml": PIPELINE, "params.yaml": PARAMS}
    ours = make_project(files, name="ours")
    theirs = make_project(files, name="theirs")
    for root in (ours, theirs):
        shutil.copy(NOTEBOOKS / "train.ipynb", root / "train.ipynb")
    Project(ours).repro()
    run_dvc(theirs, "init", "-q", check=True)
    done = run_dvc(theirs, "repro", check=True, env={"PATH": _path_with_our_scripts()})
    assert "Running stage 'train'" in done.stdout
    assert seen(theirs / "train.out.ipynb")["lr"] == seen(ours / "train.out.ipynb")["lr"] == 0.1
    mine, dvcs = load_lockfile_entry(ours, "train"), load_lockfile_entry(theirs, "train")
    assert mine["cmd"] == dvcs["cmd"]
    assert mine["deps"] == dvcs["deps"]
    assert mine["params"] == dvcs["params"]
    # The executed notebooks carry timings, so only the paths of outputs can agree.
    assert [o["path"] for o in mine["outs"]] == [o["path"] for o in dvcs["outs"]]
    assert (theirs / "dvclive" / "metrics.json").read_text() == (
        ours / "dvclive" / "metrics.json"
    ).read_text()
    # DVC finds our run up to date, params of other sections changed or not.
    (ours / "params.yaml").write_text(PARAMS.replace("threshold: 0.5", "threshold: 0.7"))
    status = run_dvc(ours, "status", "--json", check=True)
    assert json.loads(status.stdout) == {}
