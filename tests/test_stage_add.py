"""``jupyter exp stage add`` without --notebook: DVC's ``stage add``, same dvc.yaml text.

Each case runs ``dvc stage add`` (the oracle) and ours with the same flags on two copies
of one project and compares the files both wrote.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import git, run_cli
from dvc_oracle import run_dvc  # at import: the oracle venv is found under the real HOME

from jupyter_exp import Project
from jupyter_exp.cli.main import main
from jupyter_exp.core.stage_entry import StageSpec, parse_command, stage_entry
from jupyter_exp.errors import InvalidArgumentError

FILES = {
    "params.yaml": "train:\n  lr: 0.1\n  epochs: 3\nseed: 1\n",
    "other.yaml": "a: 1\nb: 2\n",
    "src": {"prepare.py": "print(1)\n"},
    "data": {"raw.csv": "x\n1\n"},
    "sub": {"keep.txt": ""},
    "out": {"keep.txt": ""},
}

# In DVC's own layout: DVC re-indents a file it edits, we keep a file's indentation.
EXISTING = """\
# The project's pipeline.
stages:
  first:   # stays as it is
    cmd: echo first > first.txt
    outs:
    - first.txt
"""

CASES = {
    "every-flag": [
        "-n", "prep", "-d", "src/prepare.py", "-d", "data/raw.csv",
        "-o", "out/z.csv", "-o", "out/a.csv", "--outs", "model.bin", "-O", "tmp.bin",
        "-m", "metrics.json", "-M", "summary.json", "--plots", "plots.csv",
        "--plots-no-cache", "curves", "--outs-persist", "keep.bin",
        "--outs-persist-no-cache", "keep2", "-p", "train.lr,seed", "-p", "other.yaml:b,a",
        "-p", "train.epochs", "--desc", "Prepare the data", "--always-changed",
        "python", "src/prepare.py", "a b", "--flag", "",
    ],
    "params-forms": [
        "-n", "params", "-p", "train", "-p", "params.yaml:seed", "-p", "other.yaml:",
        "-p", "params.yaml:", "echo", "hi",
    ],
    "whole-params-file": ["-n", "whole", "-p", "params.yaml:", "-p", "other.yaml:", "echo"],
    "wdir": [
        "-n", "in-sub", "-w", "sub", "-d", "../data/raw.csv", "-o", "o.txt", "-m", "m.json",
        "echo 1 > o.txt",
    ],
    "one-word-command": ["-n", "single", "-o", "x.txt", "touch x.txt && echo 'a b'"],
}  # fmt: skip


@pytest.fixture
def twins(make_project: Callable[..., Path]) -> tuple[Path, Path]:
    """Two identical committed projects: one for DVC, one for us."""
    theirs = make_project({**FILES, "dvc.yaml": EXISTING}, name="theirs")
    run_dvc(theirs, "init", "-q", check=True)
    ours = make_project({**FILES, "dvc.yaml": EXISTING}, name="ours")
    shutil.copytree(theirs / ".dvc", ours / ".dvc", dirs_exist_ok=True)
    for root in (theirs, ours):
        git(root, "add", "-A")
        git(root, "commit", "-q", "-m", "project")
    return theirs, ours


def _written(root: Path) -> dict[str, str]:
    names = ["dvc.yaml", *(p.relative_to(root).as_posix() for p in root.rglob(".gitignore"))]
    return {
        name: (root / name).read_text()
        for name in sorted(set(names))
        if not name.startswith(".dvc/")
    }


@pytest.mark.oracle
@pytest.mark.parametrize("case", sorted(CASES))
def test_same_dvc_yaml_and_gitignore_as_dvc_stage_add(case: str, twins: tuple[Path, Path]) -> None:
    theirs, ours = twins
    run_dvc(theirs, "stage", "add", *CASES[case], check=True)
    done = run_cli(ours, "stage", "add", *CASES[case])
    assert done.returncode == 0, done.stderr
    assert _written(ours) == _written(theirs)
    assert "# stays as it is" in (ours / "dvc.yaml").read_text()
    # Both tools accept what the other wrote.
    listed = run_dvc(ours, "stage", "list", check=True).stdout.split()
    assert CASES[case][1] in listed
    assert CASES[case][1] in [s.name for s in Project(theirs).index().stages]


@pytest.mark.oracle
def test_errors_as_dvc_refuses(twins: tuple[Path, Path]) -> None:
    theirs, ours = twins
    refused = [
        ["-n", "first", "echo"],  # exists
        ["-n", "bad.name", "echo"],
        ["-n", "nocmd"],
        ["-n", "twice", "-d", "b", "-d", "b", "echo"],
        ["-n", "both", "-d", "b", "-o", "b", "echo"],
        ["-n", "dup-out", "-o", "first.txt", "echo"],  # another stage's output
        ["-n", "no-wdir", "-w", "nowhere", "echo"],
    ]
    before = (ours / "dvc.yaml").read_text()
    for argv in refused:
        assert run_dvc(theirs, "stage", "add", *argv).returncode != 0, argv
        done = run_cli(ours, "stage", "add", *argv)
        assert done.returncode != 0 and done.stderr.startswith("ERROR: "), (argv, done)
        assert (ours / "dvc.yaml").read_text() == before, argv


def test_force_replaces_a_stage_in_place(
    make_project: Callable[..., Path], in_dir: Callable[[Path], Path]
) -> None:
    root = in_dir(make_project({**FILES, "dvc.yaml": EXISTING}))
    assert main(["stage", "add", "-n", "second", "-o", "s.txt", "echo 2 > s.txt"]) == 0
    assert main(["stage", "add", "-n", "first", "-f", "-d", "s.txt", "echo", "again"]) == 0
    text = (root / "dvc.yaml").read_text()
    assert text.index("first:") < text.index("second:")
    assert "  first:   # stays as it is\n    cmd: echo again\n    deps:\n    - s.txt\n" in text
    assert Project(root).repro(["first"]).ran == ["second", "first"]


def test_notebook_only_and_generic_only_flags_are_refused(
    make_project: Callable[..., Path], in_dir: Callable[[Path], Path]
) -> None:
    root = in_dir(make_project(FILES))
    assert main(["stage", "add", "-n", "x", "--kernel", "python3", "echo"]) == 2
    assert main(["stage", "add", "--notebook", "t.ipynb", "-w", "sub"]) == 2
    assert main(["stage", "add", "--notebook", "t.ipynb", "-o", "a.ipynb", "-o", "b.ipynb"]) == 2
    assert main(["stage", "add", "echo"]) == 2  # no name
    assert not (root / "dvc.yaml").exists()


def test_entry_builder() -> None:
    assert parse_command(["echo", "a b", "", 'say "x y"']) == 'echo "a b" "" say "x y"'
    assert parse_command(["python train.py --lr 1"]) == "python train.py --lr 1"
    entry = stage_entry(StageSpec(["cmd"], params=["b", "a", "f.yaml:", "params.yaml:"]))
    assert entry == {"cmd": "cmd", "params": ["a", "b", {"f.yaml": None}]}
    with pytest.raises(InvalidArgumentError, match="more than once"):
        stage_entry(StageSpec(["cmd"], outs=["a"], metrics=["./a"]))
    with pytest.raises(InvalidArgumentError, match="command is not specified"):
        stage_entry(StageSpec([]))


def test_an_existing_files_indentation_is_kept(
    make_project: Callable[..., Path], in_dir: Callable[[Path], Path]
) -> None:
    indented = EXISTING.replace("    - first.txt", "      - first.txt")
    root = in_dir(make_project({**FILES, "dvc.yaml": indented}))
    assert main(["stage", "add", "-n", "second", "-d", "first.txt", "-o", "s.txt", "cp"]) == 0
    assert (root / "dvc.yaml").read_text() == indented + (
        "  second:\n    cmd: cp\n    deps:\n      - first.txt\n    outs:\n      - s.txt\n"
    )
