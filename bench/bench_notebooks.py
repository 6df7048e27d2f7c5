"""Notebook experiments through the queue: 4 notebook stages, sequential (-j 1) vs -j 2.

A project whose only stage is a notebook run by papermill (``jupyter exp notebook``) gets
a 4-point ``-S`` sweep queued; ``jupyter-exp run --run-all -j N`` runs it and the wall
time until it returns is measured, on a fresh copy of the project for each N. Kernel
start-up dominates each run, so two workers on two cores should roughly halve the time.

    python bench/bench_notebooks.py [--experiments 4] [--repeats 1]

Results go to their own section of bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from common import write_section

HERE = Path(__file__).resolve().parent
NOTEBOOK = HERE.parent / "tests" / "notebooks" / "train.ipynb"

PARAMS = "train:\n  lr: 0.1\n  epochs: 3\n"
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


def _run(argv: Sequence[str], cwd: Path) -> None:
    subprocess.run(argv, cwd=cwd, check=True, capture_output=True, text=True)


def build(folder: Path) -> Path:
    """A Git repository with the notebook pipeline, committed."""
    folder.mkdir(parents=True)
    (folder / "dvc.yaml").write_text(PIPELINE)
    (folder / "params.yaml").write_text(PARAMS)
    shutil.copy(NOTEBOOK, folder / "train.ipynb")
    _run(["git", "init", "-q"], folder)
    _run(
        ["git", "-c", "user.name=bench", "-c", "user.email=bench@example.invalid", "add", "-A"],
        folder,
    )
    _run(
        [
            "git",
            "-c",
            "user.name=bench",
            "-c",
            "user.email=bench@example.invalid",
            "commit",
            "-q",
            "-m",
            "notebook pipeline",
        ],
        folder,
    )
    return folder


def timed_run_all(root: Path, experiments: int, jobs: int) -> float:
    """Queue the sweep, then wall seconds of ``run --run-all -j JOBS``."""
    values = ",".join(f"{0.1 * (i + 2):.1f}" for i in range(experiments))
    _run(["jupyter-exp", "run", "--queue", "-S", f"train.lr={values}", "-n", "nb"], root)
    start = time.perf_counter()
    _run(["jupyter-exp", "run", "--run-all", "-j", str(jobs)], root)
    elapsed = time.perf_counter() - start
    landed = subprocess.run(
        ["git", "for-each-ref", "--format=%(refname)", "refs/exps/"],
        cwd=root,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    if len(landed) != experiments:
        raise SystemExit(f"expected {experiments} experiments, {len(landed)} landed")
    return elapsed


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--experiments", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--out", type=Path, default=HERE / "RESULTS.md")
    args = parser.parse_args(argv)

    times: dict[int, list[float]] = {1: [], 2: []}
    with tempfile.TemporaryDirectory(prefix="bench-notebooks-") as tmp:
        os.environ.setdefault("GIT_AUTHOR_NAME", "bench")
        os.environ.setdefault("GIT_AUTHOR_EMAIL", "bench@example.invalid")
        os.environ.setdefault("GIT_COMMITTER_NAME", "bench")
        os.environ.setdefault("GIT_COMMITTER_EMAIL", "bench@example.invalid")
        for repeat in range(args.repeats):
            for jobs in (1, 2):
                root = build(Path(tmp) / f"j{jobs}-{repeat}")
                times[jobs].append(timed_run_all(root, args.experiments, jobs))
                print(f"-j {jobs}: {times[jobs][-1]:.2f} s", flush=True)

    seq, par = statistics.median(times[1]), statistics.median(times[2])
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    report = "\n".join(
        [
            "## Notebook experiments through the queue: sequential vs -j 2",
            "",
            f"Run {now} by `python bench/bench_notebooks.py --experiments "
            f"{args.experiments} --repeats {args.repeats}`; {platform.machine()}, "
            f"{os.cpu_count()} cores, python {platform.python_version()}.",
            "",
            f"{args.experiments} queued experiments of a one-stage pipeline whose stage is a "
            "notebook run by papermill; wall seconds of `jupyter-exp run --run-all -j N` "
            f"(median of {args.repeats}).",
            "",
            "| workers | wall (s) | per experiment (s) |",
            "|---:|---:|---:|",
            f"| 1 | {seq:.2f} | {seq / args.experiments:.2f} |",
            f"| 2 | {par:.2f} | {par / args.experiments:.2f} |",
            "",
            f"- -j 2 takes {par / seq:.2f}x the time of -j 1 ({seq / par:.2f}x faster).",
            "",
        ]
    )
    write_section(args.out, "bench_notebooks", report)
    print(report)
    print(f"written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
