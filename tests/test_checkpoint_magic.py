"""``%%checkpoint`` and in-kernel checkpoints: an in-process IPython shell, then a real
kernel (nbclient) executing a notebook, and DVC reading the chain it made.

The project is the checkpoint fixture project (``train`` with a ``checkpoint: true``
model, ``evaluate`` after it); the cells do the training themselves, as a notebook
would, and the magic records the workspace after each.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from checkpoint_project import FILES, cached_model, chain, metrics_at, model_md5_at, run_git
from IPython.core.error import UsageError
from IPython.core.interactiveshell import InteractiveShell

from jupyter_exp import Project, make_checkpoint
from jupyter_exp.checkpoints import current_experiment, follow_experiment, forget_experiment
from jupyter_exp.errors import ExperimentExistsError
from jupyter_exp.experiments.checkpoints import EXEC_CHECKPOINT

pytest_plugins = ["dvc_oracle"]

# One training step per run: the model says its epoch, metrics.json its loss.
STEP = """\
%%checkpoint{args}
import json
epoch += 1
with open("model.bin", "w") as f:
    f.write(f"{{epoch}} lr=0.1".ljust(64, "."))
with open("metrics.json", "w") as f:
    json.dump({{"epoch": epoch, "loss": round(1.0 / epoch, 4)}}, f)
epoch * 10
"""


def step(args: str = "") -> str:
    return STEP.format(args=f" {args}" if args else "")


@pytest.fixture
def ip() -> Any:
    shell = InteractiveShell.instance()
    shell.run_line_magic("load_ext", "jupyter_exp")
    shell.user_ns["epoch"] = 0
    yield shell
    shell.run_line_magic("unload_ext", "jupyter_exp")


@pytest.fixture
def project(make_project: Any, in_dir: Any, monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.delenv("DVC_CHECKPOINT", raising=False)
    root = in_dir(make_project(FILES))
    yield root
    forget_experiment(root)  # the kernel's memory is this test process's


def run_cell(ip: Any, code: str) -> Any:
    """Run ``code`` as a cell; the ExecutionResult."""
    return ip.run_cell(code, store_history=False)


def head(root: Path) -> str:
    return run_git(root, "rev-parse", "HEAD")


def tip(root: Path, name: str) -> str:
    return run_git(root, "for-each-ref", "--format=%(objectname)", f"refs/exps/*/*/{name}")


def model_at(root: Path, sha: str) -> str:
    """The model the commit's dvc.lock points at, read from the cache."""
    return cached_model(root, model_md5_at(root, sha))


# --- the magic -----------------------------------------------------------------------------


def test_help_and_unload(ip: Any, capsys: pytest.CaptureFixture[str]) -> None:
    assert ip.find_cell_magic("checkpoint") is not None
    assert run_cell(ip, "%%checkpoint?").success
    out = capsys.readouterr().out
    assert "%checkpoint [-n NAME] [-m MESSAGE] [--reset] [-f]" in out
    assert "make_checkpoint()" in out
    ip.run_line_magic("unload_ext", "jupyter_exp")
    assert ip.find_cell_magic("checkpoint") is None
    assert ip.find_line_magic("exp_run") is None
    ip.run_line_magic("load_ext", "jupyter_exp")
    assert ip.find_cell_magic("checkpoint") is not None


def test_three_runs_make_a_chain_of_three_checkpoints(
    ip: Any, project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    baseline = head(project)
    status_before = run_git(project, "status", "--porcelain", "--untracked-files=no")
    values = [run_cell(ip, step("-n nb")).result for _ in range(3)]
    assert values == [10, 20, 30]  # the cell's own value is still its result

    commits = chain(project, tip(project, "nb"), baseline)
    assert len(commits) == 3
    assert run_git(project, "rev-parse", f"{commits[0]}^") == baseline
    assert run_git(project, "rev-parse", f"{commits[2]}^") == commits[1]
    assert [metrics_at(project, c)["epoch"] for c in commits] == [1, 2, 3]
    # Each checkpoint's dvc.lock points at that moment's model, in the cache.
    assert [int(model_at(project, c).split()[0]) for c in commits] == [1, 2, 3]
    lock = yaml.safe_load(run_git(project, "show", f"{commits[2]}:dvc.lock"))
    assert set(lock["stages"]) == {"train"}  # evaluate never ran: no entry claims it did
    assert run_git(project, "rev-parse", EXEC_CHECKPOINT) == commits[2]

    out = capsys.readouterr().out
    assert f"Checkpoint 3 of 'nb' ({commits[2][:7]}): metrics.json:epoch=3" in out
    # HEAD, the branch and the index did not move.
    assert head(project) == baseline
    assert run_git(project, "status", "--porcelain", "--untracked-files=no") == status_before

    df = Project(project).exp_show()
    rows = df[df.Experiment == "nb"]
    assert list(rows.Step) == [2, 1, 0] and list(rows.epoch) == [3, 2, 1]
    assert list(rows.typ) == ["checkpoint_tip", "checkpoint_commit", "checkpoint_base"]


def test_a_cell_that_changed_nothing_records_nothing(
    ip: Any, project: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    run_cell(ip, step("-n same"))
    first = tip(project, "same")
    assert run_cell(ip, "%%checkpoint\nx = 1").success
    assert tip(project, "same") == first
    assert f"No change since checkpoint 1 of 'same' ({first[:7]})" in capsys.readouterr().out


def test_a_raising_cell_records_what_the_files_held_then_reraises(ip: Any, project: Path) -> None:
    run_cell(ip, step("-n fails"))
    result = run_cell(
        ip,
        "%%checkpoint\n"
        "epoch += 1\n"
        "open('model.bin', 'w').write('half-written')\n"
        "raise ValueError('diverged')\n",
    )
    assert isinstance(result.error_in_exec, ValueError)
    commits = chain(project, tip(project, "fails"), head(project))
    assert len(commits) == 2
    assert model_at(project, commits[1]) == "half-written"
    assert metrics_at(project, commits[1])["epoch"] == 1  # metrics.json was not rewritten


def test_an_interrupted_cell_records_then_reraises(ip: Any, project: Path) -> None:
    run_cell(ip, step("-n stopped"))
    result = run_cell(
        ip,
        "%%checkpoint\n"
        "import os, signal, time\n"
        "open('model.bin', 'w').write('2 interrupted')\n"
        "os.kill(os.getpid(), signal.SIGINT)\n"  # what a kernel interrupt sends
        "time.sleep(10)\n",
    )
    assert isinstance(result.error_in_exec, KeyboardInterrupt)
    commits = chain(project, tip(project, "stopped"), head(project))
    assert len(commits) == 2 and model_at(project, commits[1]) == "2 interrupted"


def test_an_interrupt_during_the_recording_waits_for_it() -> None:
    import os
    import signal

    from jupyter_exp.ipython.checkpoint_magic import _interrupts_deferred

    done = []
    with pytest.raises(KeyboardInterrupt), _interrupts_deferred():
        os.kill(os.getpid(), signal.SIGINT)
        done.append("recorded")  # not cut short by the interrupt
    assert done == ["recorded"]
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_make_checkpoint_inside_the_cell_records_at_once(ip: Any, project: Path) -> None:
    code = (
        "%%checkpoint -n inside\n"
        "from jupyter_exp import make_checkpoint\n"
        "open('metrics.json', 'w').write('{}')\n"
        "for epoch in (1, 2):\n"
        "    open('model.bin', 'w').write(f'{epoch} in the loop')\n"
        "    answers.append(make_checkpoint())\n"
        "open('model.bin', 'w').write('3 after the loop')\n"
    )
    ip.user_ns["answers"] = []
    assert run_cell(ip, code).success
    assert ip.user_ns["answers"] == [True, True]
    commits = chain(project, tip(project, "inside"), head(project))
    models = [model_at(project, c) for c in commits]
    assert models == ["1 in the loop", "2 in the loop", "3 after the loop"]


def test_make_checkpoint_anywhere_in_a_kernel_with_a_current_experiment(
    ip: Any, project: Path
) -> None:
    assert make_checkpoint() is False  # no current experiment: a no-op, as in a script
    assert not (project / "dvc.lock").exists()
    run_cell(ip, step("-n later"))
    assert current_experiment(project) == "later"
    (project / "model.bin").write_text("2 outside any cell")
    assert make_checkpoint() is True
    assert model_at(project, tip(project, "later")) == "2 outside any cell"
    forget_experiment(project)
    assert make_checkpoint() is False


def test_bad_names_are_usage_errors_before_the_cell_runs(ip: Any, project: Path) -> None:
    result = run_cell(ip, "%%checkpoint -n 'bad name'\nran = True")
    assert isinstance(result.error_in_exec, UsageError)
    assert str(result.error_in_exec) == "invalid experiment name 'bad name': it contains a space"
    assert "ran" not in ip.user_ns
    run_cell(ip, step("-n taken"))
    result = run_cell(ip, "%%checkpoint -n taken --reset\nran = True")
    assert isinstance(result.error_in_exec, UsageError)
    assert "experiment 'taken' already exists" in str(result.error_in_exec)
    assert "ran" not in ip.user_ns
    result = run_cell(ip, "%%checkpoint --no-such-flag\nran = True")
    assert isinstance(result.error_in_exec, UsageError) and "ran" not in ip.user_ns


def test_reset_with_force_starts_the_named_experiment_over(ip: Any, project: Path) -> None:
    run_cell(ip, step("-n redo"))
    run_cell(ip, step())
    assert len(chain(project, tip(project, "redo"), head(project))) == 2
    run_cell(ip, step("-n redo --reset -f"))
    commits = chain(project, tip(project, "redo"), head(project))
    assert len(commits) == 1 and metrics_at(project, commits[0])["epoch"] == 3
    run_cell(ip, step())  # the next run appends again
    assert len(chain(project, tip(project, "redo"), head(project))) == 2


def test_a_restarted_kernel_continues_the_workspace_experiment(ip: Any, project: Path) -> None:
    run_cell(ip, step())  # no -n: a new experiment with a random name
    name = current_experiment(project)
    assert name and tip(project, name)
    forget_experiment(project)  # what a kernel restart loses
    run_cell(ip, step())
    assert current_experiment(project) == name
    assert len(chain(project, tip(project, name), head(project))) == 2
    run_cell(ip, step("--reset"))  # a new experiment, named afresh
    other = current_experiment(project)
    assert other != name and len(chain(project, tip(project, other), head(project))) == 1


def test_message_applies_to_that_cell_only(ip: Any, project: Path) -> None:
    run_cell(ip, step("-n msg -m 'first epoch'"))
    run_cell(ip, step())
    first, second = chain(project, tip(project, "msg"), head(project))
    assert run_git(project, "log", "-1", "--format=%s", first) == "first epoch"
    assert run_git(project, "log", "-1", "--format=%s", second).startswith("dvc: commit experiment")


# --- the engine side -------------------------------------------------------------------------


def test_exp_run_resumes_the_notebook_experiment(ip: Any, project: Path) -> None:
    """The chain is laid out as engine checkpoints: `exp run` continues it."""
    run_cell(ip, step("-n shared"))
    run_cell(ip, step())
    result = Project(project).exp_run()  # train.py resumes from model.bin (epoch 2)
    assert result.name == "shared"
    epochs = [metrics_at(project, c)["epoch"] for c in chain(project, result.sha, head(project))]
    assert epochs == [1, 2, 3, 4, 5, 5]


def test_exp_apply_of_a_checkpoint_restores_its_outputs(ip: Any, project: Path) -> None:
    for _ in range(2):
        run_cell(ip, step("-n applied"))
    first, _second = chain(project, tip(project, "applied"), head(project))
    Project(project).exp_apply(first[:10], force=True)
    assert (project / "model.bin").read_text().startswith("1 lr=0.1")
    assert json.loads((project / "metrics.json").read_text())["epoch"] == 1


def test_exp_checkpoint_without_a_pipeline_records_tracked_files(
    make_project: Any, in_dir: Any
) -> None:
    root = in_dir(make_project({"notes.txt": "v0\n"}))
    project = Project(root)
    (root / "notes.txt").write_text("v1\n")
    events: list[Any] = []
    first = project.exp_checkpoint(name="plain", on_event=events.append)
    assert [(type(e).__name__, e.count) for e in events] == [("CheckpointTaken", 1)]
    (root / "notes.txt").write_text("v2\n")
    second = project.exp_checkpoint()  # continues the workspace's experiment
    assert (first.name, second.name) == ("plain", "plain")
    assert (first.step, second.step, first.created, second.created) == (0, 1, True, False)
    assert run_git(root, "show", f"{second.sha}:notes.txt") == "v2"
    assert run_git(root, "rev-parse", f"{second.sha}^") == first.sha
    with pytest.raises(ExperimentExistsError):
        project.exp_checkpoint(name="plain", reset=True)


CONCURRENT = """\
import sys
from pathlib import Path
from jupyter_exp import Project
root = Path(sys.argv[1])
(root / f"part{sys.argv[2]}.txt").write_text("done\\n")
Project(root).exp_checkpoint(name="together")
"""


def test_concurrent_writers_append_one_linear_chain(make_project: Any) -> None:
    root = make_project({f"part{i}.txt": "todo\n" for i in range(4)})
    procs = [
        subprocess.Popen([sys.executable, "-c", CONCURRENT, str(root), str(i)]) for i in range(4)
    ]
    assert [p.wait(timeout=120) for p in procs] == [0, 0, 0, 0]
    commits = chain(root, tip(root, "together"), head(root))
    assert 1 <= len(commits) <= 4
    parents = [run_git(root, "rev-parse", f"{c}^") for c in commits]
    assert parents == [head(root), *commits[:-1]]  # one line, nothing lost or forked
    last = commits[-1]
    assert all(run_git(root, "show", f"{last}:part{i}.txt") == "done" for i in range(4))


def test_follow_experiment_api(project: Path) -> None:
    follow_experiment(project, None)
    assert current_experiment(project) is None
    (project / "model.bin").write_text("1 api")
    (project / "metrics.json").write_text('{"epoch": 1}')
    assert make_checkpoint() is True  # the first checkpoint chooses the name
    name = current_experiment(project)
    assert name is not None and model_at(project, tip(project, name)) == "1 api"


# --- a real kernel ---------------------------------------------------------------------------

KERNEL_CELLS = [
    "%load_ext jupyter_exp",
    "import os, signal, time\nfrom jupyter_exp import make_checkpoint\nepoch = 0",
    step("-n nb"),
    step("-n nb"),
    step("-n nb"),
    "%exp_show --no-timestamp",
    # Interrupted (a kernel interrupt is SIGINT) after a checkpoint taken inside the cell.
    "%%checkpoint\n"
    "epoch += 1\n"
    "open('model.bin', 'w').write(f'{epoch} inside the cell')\n"
    "print('at once:', make_checkpoint())\n"
    "open('model.bin', 'w').write('interrupted mid-write')\n"
    "os.kill(os.getpid(), signal.SIGINT)\n"
    "time.sleep(30)\n",
    "%%checkpoint\nopen('model.bin', 'w').write('diverged')\nraise RuntimeError('diverged')",
    "%%checkpoint -n 'bad name'\nprint('never runs')",
    "print('anywhere:', make_checkpoint())",
]


def outputs_text(outputs: list[dict]) -> str:
    """Every text the outputs carry (streams, plain text and html, error values)."""
    found = []
    for output in outputs:
        data = output.get("data", {})
        found += [output.get("text", ""), data.get("text/plain", ""), data.get("text/html", "")]
        found += [output.get("ename", ""), output.get("evalue", "")]
    return "\n".join(found)


@pytest.fixture(scope="module")
def kernel_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[list[dict]]]:
    """Execute the notebook once in a fresh project with a real kernel; cells' outputs."""
    import os

    import nbformat
    from conftest import write_tree
    from nbclient import NotebookClient

    root = tmp_path_factory.mktemp("kernel") / "project"
    root.mkdir()
    write_tree(root, FILES)
    home = root.parent / "home"
    home.mkdir()
    env = {"HOME": str(home), "GIT_AUTHOR_NAME": "T", "GIT_AUTHOR_EMAIL": "t@example.com"}
    env |= {"GIT_COMMITTER_NAME": "T", "GIT_COMMITTER_EMAIL": "t@example.com"}
    old = {key: os.environ.get(key) for key in env}
    os.environ.update(env)
    try:
        for args in (["init", "-q"], ["add", "-A"], ["commit", "-q", "-m", "initial"]):
            run_git(root, *args)
        nb = nbformat.v4.new_notebook()
        nb.cells = [nbformat.v4.new_code_cell(code) for code in KERNEL_CELLS]
        client = NotebookClient(
            nb,
            kernel_name="python3",
            timeout=120,
            allow_errors=True,
            resources={"metadata": {"path": str(root)}},
        )
        client.execute()
    finally:
        for key, value in old.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
    return root, [cell.outputs for cell in nb.cells]


@pytest.mark.slow
def test_kernel_three_checkpoint_cells_then_exp_show(kernel_run) -> None:
    root, outputs = kernel_run
    commits = chain(root, tip(root, "nb"), head(root))
    for number, cell in enumerate(outputs[2:5], start=1):
        text = outputs_text(cell)
        assert f"Checkpoint {number} of 'nb' ({commits[number - 1][:7]})" in text
        assert f"metrics.json:epoch={number}" in text
        (value,) = [o for o in cell if o["output_type"] == "execute_result"]
        assert value["data"]["text/plain"] == str(number * 10)
    shown = outputs_text(outputs[5])
    assert "<style" in shown  # the styled DataFrame
    assert all(sha[:7] in shown for sha in commits[:3]), shown


@pytest.mark.slow
def test_kernel_interrupt_and_error_still_record(kernel_run) -> None:
    root, outputs = kernel_run
    commits = chain(root, tip(root, "nb"), head(root))
    assert len(commits) == 6  # 3 steps, 1 make_checkpoint, 1 interrupted, 1 raising
    interrupted = outputs_text(outputs[6])
    assert "at once: True" in interrupted
    assert f"Checkpoint 5 of 'nb' ({commits[4][:7]}) after the cell stopped" in interrupted
    assert [o["ename"] for o in outputs[6] if o["output_type"] == "error"] == ["KeyboardInterrupt"]
    assert model_at(root, commits[3]) == "4 inside the cell"
    assert model_at(root, commits[4]) == "interrupted mid-write"
    raised = [o for o in outputs[7] if o["output_type"] == "error"]
    assert [(o["ename"], o["evalue"]) for o in raised] == [("RuntimeError", "diverged")]
    assert model_at(root, commits[5]) == "diverged"
    assert "after the cell stopped" in outputs_text(outputs[7])


@pytest.mark.slow
def test_kernel_usage_error_and_make_checkpoint_anywhere(kernel_run) -> None:
    _root, outputs = kernel_run
    text = "".join(o.get("text", "") for o in outputs[8])
    assert "UsageError: invalid experiment name 'bad name': it contains a space" in text
    assert "never runs" not in text and "Traceback" not in text
    assert "anywhere: True" in outputs_text(outputs[9])


@pytest.mark.slow
@pytest.mark.oracle
def test_dvc_exp_show_reads_the_kernel_chain(dvc, kernel_run) -> None:
    from conftest import run_cli

    root, _ = kernel_run
    commits = chain(root, tip(root, "nb"), head(root))
    theirs = json.loads(dvc(root, "exp", "show", "--json").stdout)
    (exp,) = [e for e in theirs[1]["experiments"] if e["name"] == "nb"]
    assert [r["rev"] for r in exp["revs"]] == commits[::-1]
    epochs = [r["data"]["metrics"]["metrics.json"]["data"]["epoch"] for r in exp["revs"]]
    assert epochs == [3, 3, 3, 3, 2, 1]  # the last cells did not rewrite metrics.json
    assert json.loads(run_cli(root, "show", "--json").stdout) == theirs
