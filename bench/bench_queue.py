"""The experiment queue: DVC's ``dvc queue start -j 2`` vs ``jupyter exp queue start -j 2``.

Two scenarios, each on identical copies of a small project built in a temp dir, both
tools as command-line subprocesses in the same run:

1. ``--experiments`` (8) experiments queued with one ``-S`` sweep; the clock runs from
   ``queue start -j 2`` until every experiment has landed (its ref under ``refs/exps/``,
   polled every 0.05 s with ``git for-each-ref``, the same probe for both tools).
   Queueing time is reported apart.
2. A sweep of 4 whose shared upstream stage takes ``--shared-seconds`` (2) s: how many
   times each tool ran it (the stage appends a line to a counter file outside the
   project) and the wall time, again with ``-j 2``.

    python bench/bench_queue.py [--experiments 8] [--jobs 2] [--repeats 1]

Results go to their own section of bench/RESULTS.md. DVC comes from the tests' oracle
venv (its queue workers start ``dvc`` by name, so that venv's bin goes first on PATH).
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

from common import isolated_env, machine, write_section

HERE = Path(__file__).resolve().parent
REPO = HERE.parent

PARAMS = "train:\n  lr: 0.1\n  epochs: 3\n"

# prepare does not depend on the swept param: shared by every experiment.
DVC_YAML = """\
stages:
  prepare:
    cmd: {prepare}
    deps: [data.txt]
    outs: [prepared.txt]
  train:
    cmd: >-
      cat prepared.txt params.yaml > model.txt && echo '{{"acc": 1}}' > metrics.json
    deps: [prepared.txt]
    params: [train]
    outs: [model.txt]
    metrics:
    - metrics.json:
        cache: false
"""

TIMEOUT = 900.0
POLL = 0.05


# --- tools and projects ---------------------------------------------------------------------


def _dvc(explicit: str | None) -> Path:
    if explicit:
        return Path(explicit)
    sys.path.insert(0, str(REPO / "tests"))
    try:
        from dvc_oracle import ensure_dvc  # the tests' oracle venv

        return Path(ensure_dvc())
    except Exception as exc:  # no oracle: DVC from PATH
        found = shutil.which("dvc")
        if not found:
            raise SystemExit(f"no DVC available ({exc}); pass --dvc PATH") from exc
        return Path(found)


def _queue_env(scratch: Path, dvc: Path | None = None) -> dict[str, str]:
    """The shared isolated env; with ``dvc``, its venv first on PATH for DVC's workers."""
    env = isolated_env(scratch, dvc_test=False)
    if dvc is not None:
        for var in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV"):
            env.pop(var, None)
        env["PATH"] = f"{dvc.parent}{os.pathsep}{env.get('PATH', '')}"
    return env


def _run(argv: Sequence[str], cwd: Path, env: dict[str, str]) -> str:
    done = subprocess.run(
        list(argv), cwd=cwd, env=env, capture_output=True, text=True, timeout=TIMEOUT
    )
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-5:]
        raise SystemExit(f"{' '.join(argv)} exited {done.returncode}: " + " | ".join(tail))
    return done.stdout


def build(folder: Path, env: dict[str, str], dvc: Path, prepare: str) -> Path:
    """A committed DVC project (``dvc init``) with the two-stage pipeline."""
    folder.mkdir(parents=True)
    (folder / "params.yaml").write_text(PARAMS)
    (folder / "data.txt").write_text("hello queue\n" * 100)
    (folder / "dvc.yaml").write_text(DVC_YAML.format(prepare=prepare))
    _run(["git", "init", "-q"], folder, env)
    _run([str(dvc), "init", "-q"], folder, env)
    _run(["git", "add", "-A"], folder, env)
    _run(["git", "commit", "-q", "-m", "template"], folder, env)
    return folder


def _landed(root: Path) -> int:
    out = subprocess.run(
        ["git", "for-each-ref", "--format=%(refname)", "refs/exps/"],
        cwd=root,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    # Experiment refs only: refs/exps/ab/cdef.../name (DVC's own refs have other shapes).
    return sum(1 for r in out if len(r.split("/")) == 5 and len(r.split("/")[3]) == 38)


def _wait_landed(root: Path, count: int, failed: Path | None = None) -> float:
    start = time.perf_counter()
    while _landed(root) < count:
        if time.perf_counter() - start > TIMEOUT:
            raise SystemExit(f"{root}: only {_landed(root)} of {count} experiments landed")
        time.sleep(POLL)
    return time.perf_counter() - start


def _sweep(values: Sequence[float]) -> str:
    return "train.lr=" + ",".join(str(v) for v in values)


# --- one tool, one scenario -----------------------------------------------------------------


def run_dvc(root: Path, env: dict[str, str], dvc: Path, n: int, jobs: int) -> dict[str, float]:
    """Queue ``n`` experiments with DVC, then time ``dvc queue start -j`` to all landed."""
    start = time.perf_counter()
    _run([str(dvc), "exp", "run", "--queue", "-S", _sweep(_values(n))], root, env)
    queued = time.perf_counter() - start
    start = time.perf_counter()
    _run([str(dvc), "queue", "start", "-j", str(jobs)], root, env)
    _wait_landed(root, n)
    ran = time.perf_counter() - start
    subprocess.run([str(dvc), "queue", "stop"], cwd=root, env=env, capture_output=True)
    _wait_workers_gone(root, env, dvc)
    return {"queue": queued, "run": ran}


def _wait_workers_gone(root: Path, env: dict[str, str], dvc: Path) -> None:
    """Let DVC's celery workers exit, so they do not eat the CPU of the next timing."""
    deadline = time.perf_counter() + 60
    while time.perf_counter() < deadline:
        out = subprocess.run(
            [str(dvc), "queue", "status"], cwd=root, env=env, capture_output=True, text=True
        ).stdout
        if "0 active, 0 idle" in out or "Worker status" not in out:
            return
        time.sleep(1)


def run_ours(root: Path, env: dict[str, str], ours: list[str], n: int, jobs: int) -> dict:
    """Queue ``n`` experiments with jupyter-exp, then time ``queue start -j`` to all landed."""
    start = time.perf_counter()
    _run([*ours, "run", "--queue", "-S", _sweep(_values(n))], root, env)
    queued = time.perf_counter() - start
    start = time.perf_counter()
    _run([*ours, "queue", "start", "-j", str(jobs)], root, env)
    _wait_landed(root, n)
    ran = time.perf_counter() - start
    _wait_ours_done(root, env, ours)
    return {"queue": queued, "run": ran}


def _wait_ours_done(root: Path, env: dict[str, str], ours: list[str]) -> None:
    deadline = time.perf_counter() + 60
    while time.perf_counter() < deadline:
        out = _run([*ours, "queue", "status"], root, env)
        if "0 active, 0 idle" in out:
            return
        time.sleep(0.2)


def _values(n: int) -> list[float]:
    return [round(0.01 * (i + 1), 2) for i in range(n)]


# --- the report -----------------------------------------------------------------------------


def render(results: dict, info: dict[str, str]) -> str:
    q, s = results["queue"], results["sweep"]
    ratio = q["dvc_run"] / q["ours_run"]
    lines = [
        "## Experiment queue: `dvc queue start -j 2` vs `jupyter exp queue start -j 2`",
        "",
        f"Run {info['date']} by `python bench/bench_queue.py {info['args']}`.",
        "",
        f"- machine: {info['machine']}; python {info['python']}, dvc {info['dvc']}, "
        f"jupyter-exp {info['ours']}",
        "- two-stage pipeline (a shared `prepare`, a `train` reading the swept param); "
        f"experiments queued with one `-S` sweep; medians of {info['repeats']} run(s); "
        "wall-clock seconds; 'run' = from `queue start` until every experiment's ref exists",
        "",
        "| scenario | DVC (s) | jupyter-exp (s) | DVC/ours |",
        "|---|---:|---:|---:|",
        f"| queue {info['n']} experiments (`exp run --queue -S ...`) | {q['dvc_queue']:.2f} | "
        f"{q['ours_queue']:.2f} | {q['dvc_queue'] / q['ours_queue']:.1f}x |",
        f"| run {info['n']} queued experiments, `-j {info['jobs']}` | {q['dvc_run']:.2f} | "
        f"{q['ours_run']:.2f} | {ratio:.1f}x |",
        f"| sweep of 4, shared stage of {info['shared']} s, `-j {info['jobs']}` | "
        f"{s['dvc_run']:.2f} | {s['ours_run']:.2f} | {s['dvc_run'] / s['ours_run']:.1f}x |",
        "",
        f"- Goal: at least 3x faster than DVC on the {info['n']}-experiment queue: "
        f"{'met' if ratio >= 3 else 'NOT met'} ({ratio:.1f}x).",
        f"- Shared upstream stage in the sweep of 4: DVC ran it {s['dvc_count']} time(s), "
        f"jupyter-exp {s['ours_count']} time(s) (the others took its outputs from the "
        "run-cache, waiting on its run lock when they started together).",
    ]
    return "\n".join(lines) + "\n"


def _version(argv: list[str], env: dict[str, str]) -> str:
    done = subprocess.run([*argv, "--version"], env=env, capture_output=True, text=True)
    return (done.stdout.strip() or "unknown").split()[-1]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--experiments", type=int, default=8)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--shared-seconds", type=float, default=2.0)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--dvc", help="dvc executable (default: the tests' oracle venv)")
    parser.add_argument("--out", type=Path, default=HERE / "RESULTS.md")
    args = parser.parse_args(argv)
    dvc = _dvc(args.dvc)
    found = shutil.which("jupyter-exp")
    ours = [found] if found else [sys.executable, "-m", "jupyter_exp.cli.main"]

    samples: dict[str, list[float]] = {}
    counts: dict[str, int] = {}
    with tempfile.TemporaryDirectory(prefix="bench-queue-") as tmp:
        scratch = Path(tmp)
        env, dvc_env = _queue_env(scratch), _queue_env(scratch, dvc)
        for rep in range(args.repeats):
            for tool in ("dvc", "ours"):
                print(f"[{rep + 1}/{args.repeats}] {tool}: {args.experiments} queued ...")
                root = build(scratch / f"q-{tool}-{rep}", env, dvc, "cp data.txt prepared.txt")
                if tool == "dvc":
                    got = run_dvc(root, dvc_env, dvc, args.experiments, args.jobs)
                else:
                    got = run_ours(root, env, ours, args.experiments, args.jobs)
                for key, value in got.items():
                    samples.setdefault(f"{tool}_{key}", []).append(value)
                print(f"    queue {got['queue']:.2f}s, run {got['run']:.2f}s", flush=True)

                print(f"[{rep + 1}/{args.repeats}] {tool}: sweep of 4, shared stage ...")
                counter = scratch / f"count-{tool}-{rep}"
                prepare = (
                    f"echo ran >> {counter} && sleep {args.shared_seconds:g} "
                    "&& cp data.txt prepared.txt"
                )
                root = build(scratch / f"s-{tool}-{rep}", env, dvc, prepare)
                if tool == "dvc":
                    got = run_dvc(root, dvc_env, dvc, 4, args.jobs)
                else:
                    got = run_ours(root, env, ours, 4, args.jobs)
                samples.setdefault(f"sweep_{tool}_run", []).append(got["run"])
                counts[tool] = max(counts.get(tool, 0), len(counter.read_text().splitlines()))
                print(f"    run {got['run']:.2f}s, shared stage ran {counts[tool]}x", flush=True)
        info = {
            "date": datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
            "args": " ".join(sys.argv[1:] if argv is None else argv) or "(defaults)",
            "machine": machine(),
            "python": platform.python_version(),
            "dvc": _version([str(dvc)], dvc_env),
            "ours": _version(ours, env),
            "repeats": str(args.repeats),
            "n": str(args.experiments),
            "jobs": str(args.jobs),
            "shared": f"{args.shared_seconds:g}",
        }
    med = {k: statistics.median(v) for k, v in samples.items()}
    results = {
        "queue": {k: med[k] for k in ("dvc_queue", "dvc_run", "ours_queue", "ours_run")},
        "sweep": {
            "dvc_run": med["sweep_dvc_run"],
            "ours_run": med["sweep_ours_run"],
            "dvc_count": counts["dvc"],
            "ours_count": counts["ours"],
        },
    }
    report = render(results, info)
    print(report)
    write_section(args.out, "bench_queue", report)
    print(f"written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
