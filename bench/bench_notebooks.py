"""Notebook experiments through the queue: 4 notebook stages, sequential (-j 1) vs -j 2.

A project whose only stage is a notebook run by papermill (``jupyter exp notebook``) gets
a 4-point ``-S`` sweep queued; ``jupyter-exp run --run-all -j N`` runs it and the wall
time until it returns is measured, on a fresh copy of the project for each N (the order of
-j 1 and -j 2 alternates between repeats: the machine is shared, its load drifts).

Each worker process pays, once, the import of the notebook engine before its first
notebook starts (papermill, nbformat, jsonschema, nbclient, jupyter_client); every run
then pays a worktree, a kernel start and the execution. The one-time import is measured
separately, in a fresh Python, as the queue's workers do it (with the modules they mask,
see ``jupyter_exp.experiments.queue.workers``) and as a plain process does.

    python bench/bench_notebooks.py [--experiments 4] [--repeats 3]

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


def _cpu_ticks() -> tuple[int, int] | None:
    """(busy, total) jiffies of all CPUs from /proc/stat (Linux), else None."""
    try:
        fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return None
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    return sum(fields) - idle, sum(fields)


def timed_run_all(root: Path, experiments: int, jobs: int) -> tuple[float, float]:
    """Queue the sweep, then wall seconds of ``run --run-all -j JOBS`` and the number of
    cores the whole machine kept busy meanwhile (every process's, not only ours: the
    machine is shared, and a run cannot use cores others hold).
    """
    values = ",".join(f"{0.1 * (i + 2):.1f}" for i in range(experiments))
    _run(["jupyter-exp", "run", "--queue", "-S", f"train.lr={values}", "-n", "nb"], root)
    before = _cpu_ticks()
    start = time.perf_counter()
    _run(["jupyter-exp", "run", "--run-all", "-j", str(jobs)], root)
    elapsed = time.perf_counter() - start
    after = _cpu_ticks()
    busy = float("nan")
    if before and after and after[1] > before[1]:
        busy = (after[0] - before[0]) / (after[1] - before[1]) * (os.cpu_count() or 1)
    landed = subprocess.run(
        ["git", "for-each-ref", "--format=%(refname)", "refs/exps/"],
        cwd=root,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    if len(landed) != experiments:
        raise SystemExit(f"expected {experiments} experiments, {len(landed)} landed")
    return elapsed, busy


ENGINE_IMPORT = """
import sys, time
if sys.argv[1] == "masked":
    from jupyter_exp.lean_imports import skip_unused_imports
    skip_unused_imports()
start = time.perf_counter()
import papermill.execute, papermill.engines, papermill.iorw, nbclient, jupyter_client.manager
print(time.perf_counter() - start)
"""


def engine_import(masked: bool) -> float:
    """Seconds a fresh Python takes to import the notebook engine."""
    done = subprocess.run(
        [sys.executable, "-c", ENGINE_IMPORT, "masked" if masked else "plain"],
        check=True,
        capture_output=True,
        text=True,
    )
    return float(done.stdout.strip())


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--experiments", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, default=HERE / "RESULTS.md")
    args = parser.parse_args(argv)

    times: dict[int, list[float]] = {1: [], 2: []}
    busy: dict[int, list[float]] = {1: [], 2: []}
    with tempfile.TemporaryDirectory(prefix="bench-notebooks-") as tmp:
        os.environ.setdefault("GIT_AUTHOR_NAME", "bench")
        os.environ.setdefault("GIT_AUTHOR_EMAIL", "bench@example.invalid")
        os.environ.setdefault("GIT_COMMITTER_NAME", "bench")
        os.environ.setdefault("GIT_COMMITTER_EMAIL", "bench@example.invalid")
        for repeat in range(args.repeats):
            for jobs in (1, 2) if repeat % 2 == 0 else (2, 1):
                root = build(Path(tmp) / f"j{jobs}-{repeat}")
                wall, cores = timed_run_all(root, args.experiments, jobs)
                times[jobs].append(wall)
                busy[jobs].append(cores)
                print(f"-j {jobs}: {wall:.2f} s, machine busy {cores:.2f} cores", flush=True)
    imports = {
        masked: statistics.median(engine_import(masked) for _ in range(args.repeats))
        for masked in (False, True)
    }

    seq, par = statistics.median(times[1]), statistics.median(times[2])
    ratios = [a / b for a, b in zip(times[1], times[2], strict=True)]
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    report = "\n".join(
        [
            "## Notebook experiments through the queue: sequential vs -j 2",
            "",
            f"Run {now} by `python bench/bench_notebooks.py --experiments "
            f"{args.experiments} --repeats {args.repeats}`; {platform.machine()}, "
            f"{os.cpu_count()} cores, python {platform.python_version()}, load average "
            f"{load:.1f} at the end (the machine is shared: compare ratios, not seconds).",
            "",
            f"{args.experiments} queued experiments of a one-stage pipeline whose stage is a "
            "notebook run by papermill; wall seconds of `jupyter-exp run --run-all -j N` "
            f"(median of {args.repeats}; -j 1 and -j 2 alternate).",
            "",
            "| workers | wall (s) | per experiment (s) | machine busy (cores) | each run (s) |",
            "|---:|---:|---:|---:|---|",
            *(
                f"| {j} | {statistics.median(times[j]):.2f} | "
                f"{statistics.median(times[j]) / args.experiments:.2f} | "
                f"{statistics.median(busy[j]):.2f} | {', '.join(f'{t:.2f}' for t in times[j])} |"
                for j in (1, 2)
            ),
            "",
            f"- -j 2 is {seq / par:.2f}x faster than -j 1 (median of medians; per repeat: "
            f"{', '.join(f'{r:.2f}x' for r in ratios)}).",
            f"- Machine busy (all processes, of {os.cpu_count()} cores): "
            f"{statistics.median(busy[1]):.2f} during -j 1, {statistics.median(busy[2]):.2f} "
            "during -j 2. -j 2 can only be 2x faster if a whole core is idle during -j 1.",
            f"- Importing the notebook engine in a fresh worker process: "
            f"{imports[True]:.2f} s as the workers do it, {imports[False]:.2f} s in a plain "
            "process (jsonschema's optional rfc3987_syntax import, masked in workers, builds "
            "~40 Lark grammars). Each worker pays it once, before its first notebook.",
            "",
        ]
    )
    write_section(args.out, "bench_notebooks", report)
    print(report)
    print(f"written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
