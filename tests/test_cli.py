"""`jupyter-exp` as a user runs it: real subprocesses in real Git repositories.

Output lines, exit codes, one-line errors, -q, -i, and Ctrl+C. The rendering helpers are
also checked in-process on hand-made events, which needs no engine.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import run_cli

from jupyter_exp import __version__
from jupyter_exp.cli.commands import command_names
from jupyter_exp.cli.errors import report_error
from jupyter_exp.cli.main import build_parser, main
from jupyter_exp.cli.render import UI, ReproRenderer, format_status
from jupyter_exp.errors import StageNotFoundError
from jupyter_exp.events import (
    LockfileUpdated,
    StageCompleted,
    StageOutput,
    StageRestored,
    StageSkipped,
    StageStarted,
)

PIPELINE = {
    "params.yaml": """
        train:
          lr: 0.1
    """,
    "dvc.yaml": """
        stages:
          prepare:
            cmd: echo raw > a.txt
            outs:
            - a.txt
          train:
            cmd: echo training && cat a.txt > b.txt
            deps:
            - a.txt
            params:
            - train.lr
            outs:
            - b.txt
    """,
}


def lines(text: str) -> list[str]:
    return text.splitlines()


def one_error_line(done: subprocess.CompletedProcess[str]) -> str:
    """The only line on stderr, which must be an ERROR line without a traceback."""
    assert "Traceback" not in done.stderr
    err = lines(done.stderr)
    assert len(err) == 1, done.stderr
    assert err[0].startswith("ERROR: ")
    return err[0]


# --- parsing (no engine) -----------------------------------------------------------------


def test_version(tmp_path: Path) -> None:
    done = run_cli(tmp_path, "--version")
    assert done.returncode == 0
    assert done.stdout == f"jupyter-exp {__version__}\n"


@pytest.mark.parametrize("command", command_names())
def test_every_command_has_help(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([command, "--help"]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: jupyter exp {command} ")
    assert "-q, --quiet" in out and "-v, --verbose" in out


def test_top_level_help_lists_commands(tmp_path: Path) -> None:
    done = run_cli(tmp_path, "--help")
    assert done.returncode == 0
    for command in command_names():
        assert re.search(rf"^\s+{command}\s", done.stdout, re.M), command


@pytest.mark.parametrize("argv", [["repro", "--bogus"], ["bogus"], [], ["-q", "-v", "status"]])
def test_usage_errors_exit_2(argv: list[str], tmp_path: Path) -> None:
    done = run_cli(tmp_path, *argv)
    assert done.returncode == 2
    assert "usage: jupyter exp" in done.stderr
    assert done.stdout == ""


@pytest.mark.parametrize(
    "argv", [["-v", "repro"], ["repro", "-v"], ["-v", "repro", "-f"], ["repro", "--verbose"]]
)
def test_global_options_before_or_after_the_command(argv: list[str]) -> None:
    args = build_parser().parse_args(argv)
    assert args.verbose is True
    assert args.quiet is False


def test_repro_flags_map_to_the_api() -> None:
    from jupyter_exp.cli.commands.repro import repro_options

    args = build_parser().parse_args(
        ["repro", "-f", "-s", "-p", "-P", "-R", "-k", "--downstream", "--dry", "a", "b"]
    )
    options = repro_options(args, UI(out=io.StringIO()))
    assert args.targets == ["a", "b"]
    assert {k for k, v in options.items() if v is True} == {
        "force",
        "single_item",
        "pipeline",
        "all_pipelines",
        "recursive",
        "keep_going",
        "downstream",
        "dry",
    }
    assert options["interactive"] is None
    assert args.no_run_cache is False


def test_not_in_a_repository(tmp_path: Path) -> None:
    done = run_cli(tmp_path, "status")
    assert done.returncode == 1
    assert "is not inside a Git or DVC repository" in one_error_line(done)


def test_cli_start_up_imports_no_heavy_modules(make_project) -> None:
    """A no-op repro must not import rich (output is a pipe), pandas, GitPython, IPython."""
    root = make_project({"dvc.yaml": "stages:\n  a:\n    cmd: echo a > a\n    outs: [a]\n"})
    assert run_cli(root, "repro").returncode == 0
    probe = (
        "import sys\n"
        "from jupyter_exp.cli.main import main\n"
        "code = main(['repro'])\n"
        "heavy = ['rich', 'pandas', 'git', 'IPython', 'ipywidgets', 'tornado', 'ruamel']\n"
        "print(code, sorted(m for m in heavy if m in sys.modules))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], cwd=root, capture_output=True, text=True, check=True
    )
    assert done.stdout.splitlines()[-1] == "0 []"


# --- rendering (no engine) ---------------------------------------------------------------


def test_status_text_layout_is_dvcs() -> None:
    report = {
        "prepare": [{"changed outs": {"a.txt": "deleted"}}],
        "train": [
            {"changed deps": {"a.txt": "deleted", "params.yaml": {"train.lr": "modified"}}},
            "changed command",
        ],
    }
    assert format_status(report) == [
        "prepare:",
        "\tchanged outs:",
        "\t\tdeleted:            a.txt",
        "train:",
        "\tchanged deps:",
        "\t\tdeleted:            a.txt",
        "\t\tparams.yaml:",
        "\t\t\tmodified:           train.lr",
        "\tchanged command",
    ]


def render(events: list, *, quiet: bool = False) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    renderer = ReproRenderer(UI(quiet=quiet, out=out, err=err))
    for event in events:
        renderer(event)
    return out.getvalue(), err.getvalue()


def test_renderer_prints_dvc_lines_and_progress() -> None:
    out, err = render(
        [
            StageSkipped(stage="prepare", reason="unchanged"),
            StageStarted(stage="train", cmd="python train.py", index=2, total=3),
            StageOutput(stage="train", stream="stdout", text="epoch 1"),
            StageOutput(stage="train", stream="stderr", text="warning!\n"),
            LockfileUpdated(path="dvc.lock", stages=("train",)),
            StageCompleted(stage="train", duration=1.234),
            StageRestored(stage="evaluate", source="run-cache"),
        ]
    )
    assert lines(out) == [
        "Stage 'prepare' didn't change, skipping",
        "Running stage 'train':",
        "> python train.py",
        "epoch 1",  # the stage's unterminated line is ended before our next line
        "Updating lock file 'dvc.lock'",
        "[2/3] Stage 'train' done in 1.23s",
        "",
        "Stage 'evaluate' is cached - skipping run, checking out outputs",
    ]
    assert err == "warning!\n"


def test_renderer_quiet_keeps_only_the_stage_stderr() -> None:
    out, err = render(
        [
            StageStarted(stage="train", cmd="x", index=1, total=1),
            StageOutput(stage="train", stream="stdout", text="noise\n"),
            StageOutput(stage="train", stream="stderr", text="problem\n"),
            StageCompleted(stage="train", duration=0.1),
        ],
        quiet=True,
    )
    assert (out, err) == ("", "problem\n")


def test_unexpected_error_is_one_line_and_255() -> None:
    err = io.StringIO()
    code = report_error(RuntimeError("boom"), UI(out=io.StringIO(), err=err))
    assert code == 255
    assert err.getvalue() == (
        "ERROR: unexpected error: RuntimeError: boom (re-run with -v to see the traceback)\n"
    )


def test_verbose_error_has_a_traceback() -> None:
    err = io.StringIO()
    try:
        raise StageNotFoundError("nope")
    except StageNotFoundError as error:
        code = report_error(error, UI(verbose=True, out=io.StringIO(), err=err))
    assert code == 1
    assert err.getvalue().startswith("Traceback")
    assert err.getvalue().endswith("ERROR: no stage or pipeline file named 'nope'\n")


# --- commands end to end -----------------------------------------------------------------


def test_init_is_idempotent(make_project) -> None:
    root = make_project()
    done = run_cli(root, "init")
    assert done.returncode == 0
    assert lines(done.stdout)[0] == "Initialized DVC repository."
    assert (root / ".dvc" / "config").is_file()
    again = run_cli(root, "init")
    assert again.returncode == 0
    assert "already exists" in again.stdout


def test_repro_runs_then_skips(make_project) -> None:
    root = make_project(PIPELINE)
    first = run_cli(root, "repro")
    assert first.returncode == 0, first.stderr
    out = lines(first.stdout)
    assert out[:2] == ["Running stage 'prepare':", "> echo raw > a.txt"]
    assert "Running stage 'train':" in out
    assert "training" in out
    assert out.count("Updating lock file 'dvc.lock'") == 2
    assert re.search(r"^\[1/2\] Stage 'prepare' done in \d", first.stdout, re.M)
    assert re.search(r"^\[2/2\] Stage 'train' done in \d", first.stdout, re.M)
    assert "To track the changes with git, run:" in first.stdout
    assert "\tgit add " in first.stdout and "dvc.lock" in first.stdout
    assert (root / "b.txt").read_text() == "raw\n"

    second = run_cli(root, "repro")
    assert second.returncode == 0
    assert lines(second.stdout) == [
        "Stage 'prepare' didn't change, skipping",
        "Stage 'train' didn't change, skipping",
        "Data and pipelines are up to date.",
    ]


def test_repro_quiet_prints_nothing(make_project) -> None:
    root = make_project(PIPELINE)
    done = run_cli(root, "repro", "-q")
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")
    assert "train:" in (root / "dvc.lock").read_text()


def test_repro_dry_runs_nothing(make_project) -> None:
    root = make_project(PIPELINE)
    done = run_cli(root, "repro", "--dry")
    assert done.returncode == 0
    assert "Running stage 'prepare':" in done.stdout
    assert not (root / "a.txt").exists()
    assert not (root / "dvc.lock").exists()


def test_run_cache_restore_is_announced(make_project) -> None:
    root = make_project(PIPELINE)
    params = root / "params.yaml"
    assert run_cli(root, "repro").returncode == 0
    params.write_text("train:\n  lr: 0.2\n")
    assert run_cli(root, "repro").returncode == 0
    params.write_text("train:\n  lr: 0.1\n")
    done = run_cli(root, "repro")
    assert done.returncode == 0
    assert "Stage 'train' is cached - skipping run, checking out outputs" in done.stdout
    assert "training" not in done.stdout


def test_repro_interactive_asks_before_each_stage(make_project) -> None:
    root = make_project(PIPELINE)
    done = subprocess.run(
        ["jupyter-exp", "repro", "-i"],
        cwd=root,
        input="y\nn\n",
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    question = "Going to reproduce stage: '{}'. Are you sure you want to continue? [y/n]"
    assert question.format("prepare") in done.stdout
    assert question.format("train") in done.stdout
    assert (root / "a.txt").exists()
    assert not (root / "b.txt").exists()


def test_status_text_json_and_quiet(make_project) -> None:
    root = make_project(PIPELINE)
    assert run_cli(root, "repro", "-q").returncode == 0
    clean = run_cli(root, "status")
    assert clean.stdout == "Data and pipelines are up to date.\n"
    assert run_cli(root, "status", "-q").returncode == 0

    (root / "params.yaml").write_text("train:\n  lr: 0.5\n")
    text = run_cli(root, "status")
    assert text.returncode == 0
    assert text.stdout == (
        "train:\n\tchanged deps:\n\t\tparams.yaml:\n\t\t\tmodified:           train.lr\n"
    )
    as_json = run_cli(root, "status", "--json")
    assert json.loads(as_json.stdout) == {
        "train": [{"changed deps": {"params.yaml": {"train.lr": "modified"}}}]
    }
    quiet = run_cli(root, "status", "-q")
    assert (quiet.returncode, quiet.stdout) == (1, "")


def test_status_of_an_empty_project(make_project) -> None:
    done = run_cli(make_project(), "status")
    assert done.returncode == 0
    assert done.stdout.startswith("There are no data or pipelines tracked")


@pytest.mark.parametrize(
    ("flag", "expected"),
    [
        ((), "prepare\n└── train\n"),
        (("--dot",), 'strict digraph  {\n"prepare";\n"train";\n"prepare" -> "train";\n}\n'),
        (("--mermaid",), 'flowchart TD\n\tnode1["prepare"]\n\tnode2["train"]\n\tnode1-->node2\n'),
    ],
)
def test_dag_formats(make_project, flag: tuple[str, ...], expected: str) -> None:
    done = run_cli(make_project(PIPELINE), "dag", *flag)
    assert done.returncode == 0, done.stderr
    assert done.stdout == expected


def test_dag_json(make_project) -> None:
    done = run_cli(make_project(PIPELINE), "dag", "--json")
    graph = json.loads(done.stdout)
    assert graph["nodes"] == ["prepare", "train"]
    assert graph["edges"] == [{"from": "prepare", "to": "train"}]


def test_add_tracks_a_file(make_project) -> None:
    root = make_project({"data": {"raw.csv": "a,b\n1,2\n"}})
    done = run_cli(root / "data", "add", "raw.csv")
    assert done.returncode == 0, done.stderr
    assert (root / "data" / "raw.csv.dvc").is_file()
    assert "\tgit add raw.csv.dvc .gitignore" in done.stdout
    assert "/raw.csv" in (root / "data" / ".gitignore").read_text()


# --- errors end to end -------------------------------------------------------------------


def test_malformed_dvc_yaml_is_one_line_with_file_and_line(make_project) -> None:
    root = make_project(
        {"dvc.yaml": "stages:\n  train:\n    cmd: echo hi\n    outz:\n    - model.pkl\n"}
    )
    done = run_cli(root, "repro")
    assert done.returncode == 1
    assert re.match(r"ERROR: dvc\.yaml:\d+: ", one_error_line(done))
    assert done.stdout == ""


def test_yaml_syntax_error_is_one_line(make_project) -> None:
    root = make_project({"dvc.yaml": "stages:\n  train:\n    cmd: [unclosed\n"})
    done = run_cli(root, "status")
    assert done.returncode == 1
    assert re.match(r"ERROR: dvc\.yaml:\d+: ", one_error_line(done))


def test_unknown_target(make_project) -> None:
    done = run_cli(make_project(PIPELINE), "repro", "nosuch")
    assert done.returncode == 1
    assert "'nosuch'" in one_error_line(done)


def test_verbose_prints_the_traceback(make_project) -> None:
    done = run_cli(make_project(PIPELINE), "repro", "-v", "nosuch")
    assert done.returncode == 1
    assert "Traceback (most recent call last)" in done.stderr
    assert lines(done.stderr)[-1].startswith("ERROR: ")


def test_failing_stage_exits_with_its_status(make_project) -> None:
    root = make_project(
        {
            "dvc.yaml": """
                stages:
                  bad:
                    cmd: echo doomed >&2; exit 3
                    outs:
                    - never.txt
            """
        }
    )
    done = run_cli(root, "repro")
    assert done.returncode == 3
    assert "doomed" in done.stderr
    assert lines(done.stderr)[-1] == "ERROR: stage 'bad' failed: command exited 3"
    assert "Traceback" not in done.stderr
    assert not (root / "dvc.lock").exists()


def test_keep_going_runs_independent_stages(make_project) -> None:
    root = make_project(
        {
            "dvc.yaml": """
                stages:
                  bad:
                    cmd: exit 4
                    outs:
                    - x.txt
                  after_bad:
                    cmd: cp x.txt y.txt
                    deps:
                    - x.txt
                    outs:
                    - y.txt
                  good:
                    cmd: echo ok > ok.txt
                    outs:
                    - ok.txt
            """
        }
    )
    done = run_cli(root, "repro", "--keep-going")
    assert done.returncode == 4
    assert "Stage 'after_bad' skipped: an upstream stage failed" in done.stdout
    assert (root / "ok.txt").exists()
    assert "good:" in (root / "dvc.lock").read_text()


def _alive(pid: int) -> bool:
    """True if ``pid`` runs (a zombie waiting for its reaper counts as gone)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(")")[-1].split()[0] != "Z"
    except FileNotFoundError:
        return False


@pytest.mark.parametrize(
    ("sig", "code", "message"),
    [
        (signal.SIGINT, 130, "ERROR: interrupted by the user"),  # Ctrl+C
        (signal.SIGTERM, 143, "ERROR: terminated"),  # kill, a queue worker stopping us
    ],
)
def test_interrupt_stops_the_stage_and_keeps_finished_ones(
    make_project, tmp_path: Path, sig: int, code: int, message: str
) -> None:
    pidfile = tmp_path / "child.pid"
    root = make_project(
        {
            "child.py": f"""
                import os, time
                open({str(pidfile)!r}, "w").write(str(os.getpid()))
                time.sleep(60)
            """,
            "dvc.yaml": f"""
                stages:
                  fast:
                    cmd: echo fast > fast.txt
                    outs:
                    - fast.txt
                  slow:
                    cmd: {shutil.which("python3") or sys.executable} child.py; echo late > slow.txt
                    deps:
                    - fast.txt
                    outs:
                    - slow.txt
            """,
        }
    )
    proc = subprocess.Popen(
        ["jupyter-exp", "repro"],
        cwd=root,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while not (pidfile.exists() and pidfile.read_text()):
            assert proc.poll() is None, proc.communicate()
            assert time.monotonic() < deadline, "the slow stage never started"
            time.sleep(0.05)
        child = int(pidfile.read_text())
        proc.send_signal(sig)
        _out, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == code, err
    assert lines(err)[-1] == message
    assert "Traceback" not in err
    lock = (root / "dvc.lock").read_text()
    assert "fast:" in lock and "slow:" not in lock
    assert not (root / "slow.txt").exists()
    deadline = time.monotonic() + 10
    while _alive(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(child), "the stage's process outlived jupyter-exp"


@pytest.mark.skipif(os.name != "posix", reason="needs a pseudo-terminal")
def test_terminal_output_is_styled(make_project) -> None:
    """On a TTY the lines are styled with rich; the stage output is still passed through."""
    import pty

    root = make_project(PIPELINE)
    pid, fd = pty.fork()
    if pid == 0:  # the child: become jupyter-exp with the pty as its terminal
        try:
            os.chdir(root)
            os.environ["TERM"] = "xterm-256color"
            os.environ.pop("NO_COLOR", None)
            os.execvp("jupyter-exp", ["jupyter-exp", "repro"])
        finally:
            os._exit(127)  # never return into pytest in the child
    chunks = []
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    _, status = os.waitpid(pid, 0)
    os.close(fd)
    out = b"".join(chunks).decode()
    assert os.waitstatus_to_exitcode(status) == 0, out
    assert "\x1b[" in out
    assert "[1/2] Running stage 'prepare':" in out
    assert "✔ [2/2] Stage 'train' done in" in out
    assert "training\r\n" in out


@pytest.mark.skipif(shutil.which("jupyter") is None, reason="jupyter_core is not installed")
def test_jupyter_subcommand_dispatch(tmp_path: Path) -> None:
    done = subprocess.run(
        ["jupyter", "exp", "--version"], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"jupyter-exp {__version__}"
