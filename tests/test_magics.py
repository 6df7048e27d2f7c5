"""The ``%exp_*`` magics in an in-process IPython shell, on a real two-stage project."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from exp_project import FILES, PREPARE_PY, exp_refs, git_out
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell

from jupyter_exp.experiments import collect
from jupyter_exp.experiments.queue.store import exp_show_entries
from jupyter_exp.ipython.display import best_direction, style_frame

# prepare prints, so we can see stage output reach the cell.
PROJECT = FILES | {"prepare.py": PREPARE_PY + "print('prepared the data')\n"}


@pytest.fixture
def ip() -> Any:
    """The IPython shell with the extension loaded (unloaded afterwards)."""
    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "jupyter_exp")
    yield shell
    shell.run_line_magic("unload_ext", "jupyter_exp")


@pytest.fixture
def project(make_project: Any, in_dir: Any) -> Path:
    return in_dir(make_project(PROJECT))


def highlighted(html: str, color: str = "#d4f5d4") -> int:
    """How many cells the Styler's CSS gives ``color`` (default: the best-value style)."""
    rules = re.findall(r"([^{}]*)\{([^{}]*)\}", html)
    return sum(sel.count("#T_") for sel, props in rules if color in props)


def run_cell(ip: Any, code: str) -> Any:
    """Run ``code`` as a cell; return the exception it raised (None when it worked)."""
    result = ip.run_cell(code, store_history=False)
    return result.error_in_exec or result.error_before_exec


def test_help_lists_the_cli_flags(ip: Any) -> None:
    doc = ip.find_line_magic("exp_run").__doc__
    for flag in ("--set-param", "--queue", "--run-all", "--temp", "--copy-paths", "--keep-going"):
        assert flag in doc
    assert "--sort-by" in ip.find_line_magic("exp_show").__doc__
    for name in ("exp_diff", "exp_apply", "exp_branch", "exp_remove", "exp_save", "exp_queue"):
        assert ip.find_line_magic(name) is not None, name
    assert ip.find_line_magic("exp_push") and ip.find_line_magic("exp_pull")


def test_question_mark_shows_help(ip: Any, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_cell(ip, "%exp_run?") is None
    out = capsys.readouterr().out
    assert "--set-param" in out and "--run-all" in out and "%exp_run [-f]" in out


def test_unload_removes_the_magics(ip: Any) -> None:
    ip.run_line_magic("unload_ext", "jupyter_exp")
    assert ip.find_line_magic("exp_run") is None
    ip.run_line_magic("load_ext", "jupyter_exp")
    assert ip.find_line_magic("exp_run") is not None


def test_exp_run_with_a_kernel_variable_then_show(
    ip: Any, project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ip.user_ns["lr"] = 0.25
    assert run_cell(ip, "summary = %exp_run -n fast -S train.lr=$lr") is None
    out = capsys.readouterr().out
    assert "prepared the data" in out  # the stage's own output, streamed
    assert "Running stage 'train'" in out
    summary = ip.user_ns["summary"]
    assert summary.name == "fast" and summary.recorded
    assert summary.params == ["train.lr=0.25"]
    assert summary.metrics["metrics.json:acc"] == 0.75
    assert "Ran experiment 'fast'" in repr(summary)
    assert "<td>metrics.json:acc</td><td>0.75</td>" in summary._repr_html_()
    assert any(ref.endswith("/fast") for ref in exp_refs(project))

    assert run_cell(ip, "%exp_run -n slow -S train.lr=0.05") is None
    assert run_cell(ip, "df = %exp_show --sort-by acc --sort-order desc") is None
    df = ip.user_ns["df"]
    assert isinstance(df, pd.DataFrame)
    experiments = [e for e in df["Experiment"] if e in ("fast", "slow")]
    assert experiments == ["fast", "slow"]
    assert df.loc[df["Experiment"] == "fast", "acc"].item() == pytest.approx(0.75)
    html = df._repr_html_()
    assert "Metrics" in html and "Params" in html  # grouped column headers
    assert highlighted(html) == 1  # the best acc, 0.75
    assert type(df[["acc"]]) is pd.DataFrame  # derived frames are plain


def test_show_filters_and_no_timestamp(ip: Any, project: Path) -> None:
    df = ip.run_line_magic("exp_show", "--no-timestamp --exclude-params train.epochs")
    assert "Created" not in df.columns and "train.epochs" not in df.columns
    assert "train.lr" in df.columns


def test_user_errors_are_one_line_usage_errors(
    ip: Any, project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    error = run_cell(ip, "%exp_apply no-such-experiment")
    assert isinstance(error, UsageError)
    assert "no-such-experiment" in str(error) and "\n" not in str(error)
    err = capsys.readouterr().err
    assert "UsageError" in err and "Traceback" not in err

    assert isinstance(run_cell(ip, "%exp_show --no-such-flag"), UsageError)
    assert isinstance(run_cell(ip, "%exp_run -S 'train.lr=1,2'"), UsageError)  # sweep sans queue
    assert "--queue" in str(run_cell(ip, "%exp_run -S 'train.lr=1,2'"))
    assert isinstance(run_cell(ip, "%exp_queue frobnicate"), UsageError)


def test_outside_a_repository(ip: Any, tmp_path: Path, in_dir: Any) -> None:
    in_dir(tmp_path)
    error = run_cell(ip, "%exp_show")
    assert isinstance(error, UsageError)


def test_diff_branch_save_remove(
    ip: Any, project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ip.run_line_magic("exp_run", "-n one -S train.lr=0.3")
    diff = ip.run_line_magic("exp_diff", "HEAD one")
    assert isinstance(diff, pd.DataFrame) and len(diff) > 0
    assert "lr" in diff.to_string()

    ip.run_line_magic("exp_branch", "one one-br")
    assert "one-br" in git_out(project, "branch", "--list")
    assert "Git branch 'one-br'" in capsys.readouterr().out

    (project / "params.yaml").write_text("train:\n  lr: 0.9\n  epochs: 2\n")
    ip.run_line_magic("exp_save", "-n saved")
    assert "saved" in capsys.readouterr().out
    assert any(ref.endswith("/saved") for ref in exp_refs(project))

    removed = ip.run_line_magic("exp_remove", "one saved")
    assert sorted(removed) == ["one", "saved"]
    assert exp_refs(project) == {}

    ip.run_line_magic("exp_run", "-n two -S train.lr=0.4")
    subprocess.run(["git", "checkout", "-q", "--", "."], cwd=project, check=True)
    ip.run_line_magic("exp_apply", "two")
    assert "lr: 0.4" in (project / "params.yaml").read_text()


def test_queue_then_status_and_remove(
    ip: Any, project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The queue's exp show hook is not registered by the engine yet: do it here.
    monkeypatch.setattr(collect, "_ENTRY_SOURCES", [exp_show_entries])
    queued = ip.run_line_magic("exp_run", "--queue -S 'train.lr=0.1,0.2' -n sweep")
    assert [e.name for e in queued.entries] == ["sweep-1", "sweep-2"]
    assert "Queued 2 experiment(s)" in repr(queued)
    status = ip.run_line_magic("exp_queue", "status")
    assert {e.state for e in status.entries} == {"Queued"}
    assert "sweep-2" in status._repr_html_()
    df = ip.run_line_magic("exp_show", "")
    assert "Queued" in set(df["State"])
    assert highlighted(df._repr_html_(), "font-style: italic") > 0
    ip.run_line_magic("exp_queue", "remove --queued")
    assert ip.run_line_magic("exp_queue", "status").entries == []


def test_push_and_pull_through_a_bare_remote(ip: Any, project: Path, tmp_path: Path) -> None:
    bare = tmp_path / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", str(bare)], check=True)
    subprocess.run(["git", "remote", "add", "origin", str(bare)], cwd=project, check=True)
    ip.run_line_magic("exp_run", "-n pushed -S train.lr=0.2")
    ip.run_line_magic("exp_push", "origin pushed")
    remote = git_out(bare, "for-each-ref", "--format=%(refname)", "refs/exps/")
    assert remote.endswith("/pushed")
    ip.run_line_magic("exp_remove", "pushed")
    ip.run_line_magic("exp_pull", "origin pushed")
    assert any(ref.endswith("/pushed") for ref in exp_refs(project))


def test_style_marks_failed_rows_and_lower_is_better() -> None:
    frame = pd.DataFrame(
        {"Experiment": ["a", "b", "c"], "State": ["Success", "Failed", None]}
        | {"loss": [0.3, 0.1, 0.2], "acc": [0.1, 0.9, 0.5]}
    )
    kinds = {"loss": "metric", "acc": "metric"}
    html = style_frame(frame, kinds).to_html()
    assert highlighted(html, "#fde2e1") == 4  # the failed row, every cell
    assert highlighted(html) == 2
    assert best_direction("metrics.json:val.loss") == "min"
    assert best_direction("acc") == "max"


def test_run_all_streams_the_queue(
    ip: Any, project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    finished = ip.run_line_magic("exp_run", "--queue --run-all -S train.lr=0.2 -n queued")
    assert [(e.name, e.state) for e in finished.entries] == [("queued", "Success")]
    out = capsys.readouterr().out
    assert "[queued] Running" in out and "[queued] Success: queued" in out
    assert "[queued] prepared the data" in out  # the worker's log, streamed
    assert any(ref.endswith("/queued") for ref in exp_refs(project))


def test_progress_widgets_follow_the_stages() -> None:
    from jupyter_exp.events import StageCompleted, StageFailed, StageOutput, StageStarted
    from jupyter_exp.ipython.events import CellProgress

    sink = CellProgress(widgets=True)
    sink(StageStarted(stage="prepare", cmd="python prepare.py", index=1, total=2))
    assert (sink._bar.value, sink._bar.max) == (0, 2)
    sink(StageOutput(stage="prepare", stream="stdout", text="hello\n"))
    sink(StageCompleted(stage="prepare", duration=0.1))
    assert (sink._bar.value, sink._bar.description) == (1, "1/2")
    sink(StageStarted(stage="train", cmd="python train.py", index=2, total=2))
    sink(StageFailed(stage="train", returncode=3, message="exit 3"))
    assert sink._bar.bar_style == "danger"
    assert "failed" in sink._label.value
    assert sink.lines[-1] == "Stage 'train' failed: exit 3"


def test_a_failing_stage_is_a_usage_error_after_its_output(
    ip: Any, project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    error = run_cell(ip, "%exp_run -S +train.fail=true")
    assert isinstance(error, UsageError) and "train" in str(error)
    captured = capsys.readouterr()
    assert "training failed on purpose" in captured.err  # the stage's stderr, streamed
    assert "Traceback" not in captured.err
