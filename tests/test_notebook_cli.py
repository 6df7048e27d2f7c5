"""`jupyter exp notebook` and `jupyter exp stage add --notebook` from the command line."""

from __future__ import annotations

import io
import json
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import nbformat
import pytest
import yaml
from conftest import run_cli, write_tree
from dvc_oracle import run_dvc  # at import: the oracle venv is found under the real HOME

from jupyter_exp.api import Project
from jupyter_exp.cli.main import main
from jupyter_exp.cli.render import UI, ReproRenderer
from jupyter_exp.events import NotebookCellProgress, StageOutput

NOTEBOOKS = Path(__file__).parent / "notebooks"
PARAMS = "train:\n  lr: 0.1\n  epochs: 3\nmodel:\n  layers: 4\n  act: relu\n"


def seen(output: Path) -> dict[str, object]:
    """What tests/notebooks/train.ipynb printed about its variables."""
    nb = nbformat.read(output, as_version=4)
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream" and out["text"].startswith("{"):
                return json.loads(out["text"])
    raise AssertionError(f"no JSON printed in {output}")


def cell_values(output: Path) -> list[object]:
    """Every code cell's source and outputs without timings: what a run computed."""
    nb = nbformat.read(output, as_version=4)
    return [
        (c.source, [{k: v for k, v in o.items() if k != "metadata"} for o in c.outputs])
        for c in nb.cells
        if c.cell_type == "code"
    ]


@pytest.fixture
def workdir(tmp_path: Path, in_dir: Callable[[Path], Path]) -> Path:
    write_tree(tmp_path, {"params.yaml": PARAMS})
    for name in ("train.ipynb", "fails.ipynb"):
        shutil.copy(NOTEBOOKS / name, tmp_path / name)
    return in_dir(tmp_path)


# --- jupyter exp notebook ----------------------------------------------------------------


def test_in_process_and_subprocess_give_the_same_notebook(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["train.ipynb", "-p", "train.lr:lr", "-p", "model", "-p", "train.epochs"]
    assert main(["notebook", "-o", "in.ipynb", *args]) == 0
    printed = capsys.readouterr().out
    assert '"act": "relu"' in printed  # the cells' stdout is streamed
    assert "Executed 'train.ipynb' (4 cells) in " in printed
    assert printed.rstrip().endswith(": 'in.ipynb'")
    done = run_cli(workdir, "notebook", "-o", "sub.ipynb", *args)
    assert done.returncode == 0, done.stderr
    assert cell_values(workdir / "in.ipynb") == cell_values(workdir / "sub.ipynb")
    values = seen(workdir / "sub.ipynb")
    assert (values["lr"], values["epochs"], values["layers"], values["act"]) == (0.1, 3, 4, "relu")


def test_default_output_path_and_verbose_progress(
    workdir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["notebook", "-v", "train.ipynb"]) == 0
    out = capsys.readouterr().out
    assert (workdir / "train.out.ipynb").exists()
    assert seen(workdir / "train.out.ipynb")["lr"] == 0.5  # nothing injected: the defaults
    lines = [line for line in out.splitlines() if line.startswith("Notebook ")]
    assert lines == [f"Notebook 'train.ipynb': cell {n}/3" for n in range(4)]


def test_failing_notebook_exit_status_and_message(workdir: Path) -> None:
    done = run_cli(workdir, "notebook", "fails.ipynb", "-p", "train.lr")
    assert done.returncode == 1
    *traceback, error = done.stderr.strip().splitlines()
    assert error == (
        "ERROR: notebook 'fails.ipynb' failed in cell 4 of 5: ValueError: lr must be >= 1, "
        "got 0.1 (partially executed notebook kept in 'fails.out.ipynb')"
    )
    assert traceback[-1] == "ValueError: lr must be >= 1, got 0.1"
    assert "checking" in done.stdout
    assert (workdir / "fails.out.ipynb").exists()


def test_usage_errors_need_no_kernel(workdir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["notebook", "train.ipynb", "-p", "bad key"]) == 2
    assert "is not KEY or KEY:NAME" in capsys.readouterr().err
    assert main(["notebook", "train.ipynb", "--kernel", "nope"]) == 1
    err = capsys.readouterr().err
    assert "ERROR: notebook 'train.ipynb' needs kernel 'nope', which is not installed" in err
    assert "python3" in err
    assert main(["notebook", "train.ipynb", "-p", "train.momentum"]) == 1
    assert "params key 'train.momentum' not found in 'params.yaml'" in capsys.readouterr().err
    assert not (workdir / "train.out.ipynb").exists()


# --- rendering progress ------------------------------------------------------------------


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_is_a_transient_line_on_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm")
    out, err = io.StringIO(), _Terminal()
    render = ReproRenderer(UI(out=out, err=err))
    render(NotebookCellProgress("train", "t.ipynb", 0, 2))
    render(NotebookCellProgress("train", "t.ipynb", 1, 2))
    render(StageOutput("train", "stderr", "warning\n"))
    render(NotebookCellProgress("train", "t.ipynb", 2, 2))
    assert err.getvalue() == (
        "\r\x1b[KNotebook 't.ipynb': cell 0/2"
        "\r\x1b[KNotebook 't.ipynb': cell 1/2"
        "\r\x1b[K"  # cleared before the stage's own output
        "warning\n"
        "\r\x1b[KNotebook 't.ipynb': cell 2/2"
        "\r\x1b[K"  # and after the last cell
    )
    assert out.getvalue() == ""
    quiet = ReproRenderer(UI(out=out, err=err, quiet=True))
    quiet(NotebookCellProgress("train", "t.ipynb", 1, 2))
    assert err.getvalue().endswith("\r\x1b[K")


# --- jupyter exp stage add ---------------------------------------------------------------

EXISTING = """\
# The project's pipeline.
stages:
  prepare:   # makes the data
    cmd: python prepare.py
    deps:
      - prepare.py
    outs:
      - data.csv
"""


@pytest.fixture
def repo_dir(make_project: Callable[..., Path], in_dir: Callable[[Path], Path]) -> Path:
    root = make_project({"params.yaml": PARAMS, "prepare.py": "print(1)\n"})
    shutil.copy(NOTEBOOKS / "train.ipynb", root / "train.ipynb")
    return in_dir(root)


def test_stage_add_creates_dvc_yaml(repo_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["stage", "add", "--notebook", "train.ipynb", "-p", "train"]) == 0
    assert (repo_dir / "dvc.yaml").read_text() == (
        "stages:\n"
        "  train:\n"
        "    cmd: jupyter exp notebook train.ipynb -p train\n"
        "    deps:\n"
        "    - train.ipynb\n"
        "    params:\n"
        "    - train\n"
        "    outs:\n"
        "    - train.out.ipynb\n"
    )
    out = capsys.readouterr().out
    assert "Creating 'dvc.yaml'\nAdding stage 'train' in 'dvc.yaml'" in out
    assert "git add dvc.yaml" in out


def test_stage_add_keeps_comments_and_layout(repo_dir: Path) -> None:
    (repo_dir / "dvc.yaml").write_text(EXISTING)
    code = main(
        [
            "stage",
            "add",
            "--notebook",
            "train.ipynb",
            "-n",
            "fit",
            "-o",
            "reports/train.ipynb",
            "-p",
            "train.lr:rate",
            "-p",
            "model",
            "-d",
            "data.csv",
            "-M",
            "dvclive/metrics.json",
            "--plots-no-cache",
            "dvclive/plots",
            "--desc",
            "Fit the model",
        ]
    )
    assert code == 0
    text = (repo_dir / "dvc.yaml").read_text()
    assert text.startswith(EXISTING)  # untouched, comments and indentation included
    assert text[len(EXISTING) :] == (
        "  fit:\n"
        "    desc: Fit the model\n"
        "    cmd: jupyter exp notebook train.ipynb -o reports/train.ipynb -p train.lr:rate "
        "-p model\n"
        "    deps:\n"
        "      - data.csv\n"
        "      - train.ipynb\n"
        "    params:\n"
        "      - train.lr\n"
        "      - model\n"
        "    outs:\n"
        "      - reports/train.ipynb\n"
        "    metrics:\n"
        "      - dvclive/metrics.json:\n"
        "          cache: false\n"
        "    plots:\n"
        "      - dvclive/plots:\n"
        "          cache: false\n"
    )
    stages = {s.name: s for s in Project(repo_dir).index().stages}
    assert [d.def_path for d in stages["fit"].deps] == ["data.csv", "train.ipynb"]


def test_stage_add_refuses_a_duplicate_and_bad_names(
    repo_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (repo_dir / "dvc.yaml").write_text(EXISTING)
    assert main(["stage", "add", "--notebook", "train.ipynb", "-n", "prepare"]) == 2
    err = capsys.readouterr().err
    assert "ERROR: stage 'prepare' already exists in 'dvc.yaml'; use --force to overwrite it" in err
    assert main(["stage", "add", "--notebook", "train.ipynb", "-n", "a.b"]) == 2
    assert "invalid stage name 'a.b'" in capsys.readouterr().err
    # An output another stage writes: refused, and the file is left as it was.
    code = main(["stage", "add", "--notebook", "train.ipynb", "-o", "data.csv"])
    assert code == 1
    assert "output 'data.csv' is written by several stages" in capsys.readouterr().err
    assert (repo_dir / "dvc.yaml").read_text() == EXISTING
    # --force replaces the stage where it stands.
    assert main(["stage", "add", "--notebook", "train.ipynb", "-n", "prepare", "-f"]) == 0
    assert "Modifying stage 'prepare'" in capsys.readouterr().out
    data = yaml.safe_load((repo_dir / "dvc.yaml").read_text())
    assert data["stages"]["prepare"]["cmd"] == "jupyter exp notebook train.ipynb"
    assert (repo_dir / "dvc.yaml").read_text().startswith("# The project's pipeline.\n")


def test_stage_add_with_another_params_file(repo_dir: Path) -> None:
    (repo_dir / "conf.json").write_text('{"opt": {"lr": 0.3}}')
    argv = ["--notebook", "train.ipynb", "-p", "opt.lr", "--params-file", "conf.json"]
    assert main(["stage", "add", *argv]) == 0
    stage = yaml.safe_load((repo_dir / "dvc.yaml").read_text())["stages"]["train"]
    assert stage["params"] == [{"conf.json": ["opt.lr"]}]
    assert stage["cmd"] == "jupyter exp notebook train.ipynb -p opt.lr --params-file conf.json"


@pytest.mark.oracle
def test_stage_added_runs_here_and_dvc_accepts_it(repo_dir: Path) -> None:
    argv = [
        "stage",
        "add",
        "--notebook",
        "train.ipynb",
        "-p",
        "train",
        "-M",
        "dvclive/metrics.json",
    ]
    assert main(argv) == 0
    assert Project(repo_dir).repro().ran == ["train"]
    assert seen(repo_dir / "train.out.ipynb")["lr"] == 0.1
    assert json.loads((repo_dir / "dvclive" / "metrics.json").read_text()) == {
        "score": pytest.approx(0.3)
    }
    listed = run_dvc(repo_dir, "stage", "list", check=True)
    assert listed.stdout.split()[0] == "train"
    status = run_dvc(repo_dir, "status", "--json", check=True)
    assert json.loads(status.stdout) == {}


# --- Ctrl+C ------------------------------------------------------------------------------


@pytest.mark.slow
def test_interrupt_stops_the_kernel_and_keeps_the_lock(
    make_project: Callable[..., Path], tmp_path: Path
) -> None:
    root = make_project(
        {
            "dvc.yaml": (
                "stages:\n  slow:\n    cmd: jupyter exp notebook slow.ipynb\n"
                "    deps: [slow.ipynb]\n    outs: [slow.out.ipynb]\n"
            )
        }
    )
    pid_file = tmp_path / "kernel.pid"
    nb = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_code_cell(
                f"import os\nopen({str(pid_file)!r}, 'w').write(str(os.getpid()))"
            ),
            nbformat.v4.new_code_cell("import time\ntime.sleep(60)"),
        ]
    )
    nbformat.write(nb, root / "slow.ipynb")
    proc = subprocess.Popen(
        ["jupyter-exp", "repro"],
        cwd=root,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 60
    while not (pid_file.exists() and pid_file.read_text()):
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline
        time.sleep(0.05)
    kernel = int(pid_file.read_text())
    time.sleep(0.3)  # into the sleeping cell
    started = time.monotonic()
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130
    assert "ERROR: interrupted by the user" in err
    assert time.monotonic() - started < 10
    assert _gone(kernel, within=5.0)
    assert not (root / "dvc.lock").exists()
    assert (root / "slow.out.ipynb").exists()  # what ran so far


def _gone(pid: int, within: float) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    return False
