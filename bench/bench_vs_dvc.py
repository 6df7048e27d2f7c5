"""Side-by-side timings: ``dvc`` vs ``jupyter-exp`` on the same throw-away projects.

Both tools run as command-line subprocesses, on identical copies of a project built in a
temp dir: a small pipeline (params.yaml, a data dir, four stages) and a 200-file data dir
for hashing. Each number is the median of ``--repeats`` runs; the table gives DVC/ours
(above 1 means we are faster) next to the goals, and is written to bench/RESULTS.md.

    python bench/bench_vs_dvc.py [--repeats 5] [--files 200] [--mib 1]

DVC comes from the oracle venv of the tests (installed on first use, see
tests/dvc_oracle.py) unless ``--dvc`` names an executable.
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
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from common import isolated_env, machine, write_section

HERE = Path(__file__).resolve().parent
REPO = HERE.parent

PARAMS = """\
prepare:
  split: 0.2
featurize:
  n: 100
train:
  lr: 0.001
  epochs: 3
"""

DVC_YAML = """\
stages:
  prepare:
    cmd: mkdir -p prepared && cp data/*.csv prepared/ && echo ${prepare.split} > prepared/split
    deps: [data]
    params: [prepare]
    outs: [prepared]
  featurize:
    cmd: cat prepared/*.csv > features.csv && echo ${featurize.n} >> features.csv
    deps: [prepared]
    params: [featurize.n]
    outs: [features.csv]
  train:
    cmd: >-
      cat features.csv > model.bin && echo ${train.lr} ${train.epochs} >> model.bin
      && echo '{"acc": 0.9}' > metrics.json
    deps: [features.csv]
    params: [train]
    outs: [model.bin]
    metrics:
    - metrics.json:
        cache: false
  evaluate:
    cmd: wc -c model.bin > eval.txt
    deps: [model.bin]
    outs: [eval.txt]
"""

HASH_YAML = """\
stages:
  count:
    cmd: ls big | wc -l > count.txt
    deps: [big]
    outs: [count.txt]
"""


# --- tools ---------------------------------------------------------------------------------


@dataclass
class Tool:
    """One command-line tool under test."""

    name: str
    argv: list[str]
    env: dict[str, str]
    failures: list[str] = field(default_factory=list)

    def run(self, cwd: Path, *args: str, timeout: float = 900) -> float | None:
        """Seconds taken by ``tool ARGS`` in ``cwd``; None (and a note) if it failed."""
        start = time.perf_counter()
        try:
            done = subprocess.run(
                [*self.argv, *args],
                cwd=cwd,
                env=self.env,
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            self.failures.append(f"{self.name} {' '.join(args)}: {exc}")
            return None
        elapsed = time.perf_counter() - start
        if done.returncode != 0:
            tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
            self.failures.append(
                f"{self.name} {' '.join(args)} exited {done.returncode}: " + " | ".join(tail)
            )
            return None
        return elapsed


def _dvc_tool(explicit: str | None, scratch: Path) -> Tool:
    env = isolated_env(scratch)
    if explicit:
        return Tool("dvc", [explicit], env)
    sys.path.insert(0, str(REPO / "tests"))
    try:
        from dvc_oracle import ensure_dvc  # the tests' oracle venv

        exe = ensure_dvc()
        # DVC lives in its own venv: nothing of ours on its Python path.
        for var in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV"):
            env.pop(var, None)
        return Tool("dvc", [str(exe)], env)
    except Exception as exc:  # no pytest/filelock, no network...: fall back to PATH
        found = shutil.which("dvc")
        if not found:
            raise SystemExit(f"no DVC available ({exc}); pass --dvc PATH") from exc
        return Tool("dvc", [found], env)


def _our_tool(explicit: str | None, scratch: Path) -> Tool:
    env = isolated_env(scratch)
    if explicit:
        return Tool("jupyter-exp", [explicit], env)
    found = shutil.which("jupyter-exp")
    argv = [found] if found else [sys.executable, "-m", "jupyter_exp.cli.main"]
    return Tool("jupyter-exp", argv, env)


# --- projects ------------------------------------------------------------------------------


def _git(root: Path, env: dict[str, str], *args: str) -> None:
    subprocess.run(["git", *args], cwd=root, env=env, check=True, capture_output=True)


def _pipeline_template(folder: Path, env: dict[str, str]) -> Path:
    folder.mkdir(parents=True)
    (folder / "params.yaml").write_text(PARAMS)
    (folder / "dvc.yaml").write_text(DVC_YAML)
    data = folder / "data"
    data.mkdir()
    for i in range(20):
        (data / f"part{i:02}.csv").write_text("".join(f"{i},{j},{i * j}\n" for j in range(200)))
    _git(folder, env, "init", "-q")
    _git(folder, env, "add", "-A")
    _git(folder, env, "commit", "-q", "-m", "template")
    return folder


def _data_template(folder: Path, env: dict[str, str], files: int, mib: int) -> Path:
    folder.mkdir(parents=True)
    big = folder / "big"
    big.mkdir()
    chunk = 1024 * 1024
    for i in range(files):
        with open(big / f"f{i:04}.bin", "wb") as handle:
            for _ in range(mib):
                handle.write(os.urandom(chunk))
    # A stage depending on the dir: `repro` hashes it without copying it to the cache.
    (folder / "dvc.yaml").write_text(HASH_YAML)
    _git(folder, env, "init", "-q")
    _git(folder, env, "add", "dvc.yaml")
    _git(folder, env, "commit", "-q", "-m", "template")
    return folder


def _fresh(template: Path, target: Path, tool: Tool) -> Path:
    """A copy of ``template`` initialised for ``tool`` (``init`` is not timed)."""
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(template, target, symlinks=True)
    tool.run(target, "init", "-q")
    return target


def _set_lr(root: Path, value: float) -> None:
    text = (root / "params.yaml").read_text()
    lines = [f"  lr: {value}" if ln.startswith("  lr:") else ln for ln in text.splitlines()]
    (root / "params.yaml").write_text("\n".join(lines) + "\n")


# --- measurements --------------------------------------------------------------------------


def _median(samples: Sequence[float | None]) -> float | None:
    good = [s for s in samples if s is not None]
    return statistics.median(good) if len(good) == len(samples) and good else None


def measure(tool: Tool, work: Path, pipeline: Path, data: Path, repeats: int, label: str) -> dict:
    """Median seconds of each scenario for ``tool``."""
    runs: dict[str, list[float | None]] = {}

    def timed(scenario: str, root: Path, *args: str) -> None:
        runs.setdefault(scenario, []).append(tool.run(root, *args))

    for _ in range(repeats):
        root = _fresh(pipeline, work / f"{tool.name}-pipe", tool)
        timed("first run", root, "repro")
    tool.run(root, "repro")  # warm-up: a first no-op may still fill state
    for _ in range(repeats):
        _drop_stamp(root)  # ours: force the full check (load, hash via state db, compare)
        timed("no-op run, full check", root, "repro")
    _let_stamp_settle(tool, root)
    for _ in range(repeats):
        timed("no-op run", root, "repro")
    for i in range(repeats):
        _set_lr(root, 0.01 * (i + 2))  # a new value every time: no run-cache hit
        timed("one param changed", root, "repro")

    for _ in range(repeats):
        big = _fresh(data, work / f"{tool.name}-hash", tool)
        timed(f"stage over {label}, first run", big, "repro")
    for _ in range(repeats):
        _drop_stamp(big)
        timed(f"stage over {label}, no-op, full check", big, "repro")
    _let_stamp_settle(tool, big)
    for _ in range(repeats):
        timed(f"stage over {label}, no-op", big, "repro")
    for _ in range(repeats):
        big = _fresh(data, work / f"{tool.name}-add", tool)
        timed(f"add {label}, first", big, "add", "big")
    for _ in range(repeats):
        timed(f"add {label}, no-op", big, "add", "big")
    return {scenario: _median(samples) for scenario, samples in runs.items()}


STAMP = Path(".dvc/tmp/jupyter-exp/uptodate.json")


def _drop_stamp(root: Path) -> None:
    """Remove jupyter-exp's up-to-date stamp (DVC has none; a no-op for it)."""
    (root / STAMP).unlink(missing_ok=True)


def _let_stamp_settle(tool: Tool, root: Path) -> None:
    """Wait out the 2 s racy-mtime window, then run once: ours writes its stamp here.

    A user's second no-op a few seconds after a run gets exactly this.
    """
    time.sleep(2.2)
    tool.run(root, "repro")


def startup_floor(repeats: int) -> float:
    """Median seconds of ``python -c pass``: what any Python CLI pays before its first line."""
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", "pass"], check=True)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def md5sum_baseline(data: Path, repeats: int) -> float | None:
    """Median seconds of ``md5sum`` over the same files (page cache warm, like the tools)."""
    exe = shutil.which("md5sum")
    if not exe:
        return None
    files = sorted(str(p) for p in (data / "big").iterdir())
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        subprocess.run([exe, *files], check=True, capture_output=True)
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


# --- report --------------------------------------------------------------------------------

GOALS: dict[str, tuple[str, Callable[[float], bool]]] = {
    "no-op run": ("DVC/ours >= 10x", lambda ratio: ratio >= 10),
}


def _fmt(value: float | None) -> str:
    return "failed" if value is None else f"{value:.3f}"


def render(dvc: dict, ours: dict, md5: float | None, info: dict, repeats: int, label: str) -> str:
    lines = [
        "# jupyter-exp vs DVC",
        "",
        f"Run {info['date']} by `python bench/bench_vs_dvc.py {info['args']}`.",
        "",
        f"- machine: {info['machine']}",
        f"- python {info['python']}, dvc {info['dvc']}, jupyter-exp {info['ours']}",
        f"- medians of {repeats} runs, wall-clock seconds of the command-line tools",
        "",
        "| scenario | DVC (s) | jupyter-exp (s) | DVC/ours | goal |",
        "|---|---:|---:|---:|---|",
    ]
    for scenario, theirs in dvc.items():
        mine = ours.get(scenario)
        ratio = theirs / mine if theirs and mine else None
        goal_text, check = GOALS.get(scenario, ("", lambda _r: True))
        verdict = ""
        if goal_text and ratio is not None:
            verdict = f"{goal_text}: {'met' if check(ratio) else 'NOT met'}"
        ratio_text = "-" if ratio is None else f"{ratio:.2f}x"
        lines.append(f"| {scenario} | {_fmt(theirs)} | {_fmt(mine)} | {ratio_text} | {verdict} |")
    lines.append(f"| md5sum, same files | {_fmt(md5)} | | | baseline |")
    lines.append(f"| python -c pass | {_fmt(info['startup'])} | | | interpreter start |")
    lines.append("")
    for scenario, what in (
        (f"stage over {label}, first run", "`repro` of a stage depending on the dir"),
        (f"add {label}, first", "`add` of the dir, copy into the cache included"),
    ):
        first_hash = ours.get(scenario)
        if md5 and first_hash:
            ratio = first_hash / md5
            verdict = "met" if ratio <= 1.3 else "NOT met"
            lines.append(
                f"- First hashing, {what}: {ratio:.2f}x the time of `md5sum` over the same "
                f"files; goal <= 1.3x: {verdict}."
            )
    lines.append(
        f"- Every command starts a Python interpreter: `python -c pass` takes "
        f"{_fmt(info['startup'])} s here, a floor under each jupyter-exp time."
    )
    if info["failures"]:
        lines += ["", "Failures:", ""] + [f"- {f}" for f in info["failures"]]
    return "\n".join(lines) + "\n"


def _version(tool: Tool) -> str:
    done = subprocess.run(
        [*tool.argv, "--version"], env=tool.env, capture_output=True, text=True, check=False
    )
    text = (done.stdout.strip() or done.stderr.strip() or "unknown").splitlines()[-1]
    return text.split()[-1]  # "jupyter-exp 0.1.0" -> "0.1.0"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--files", type=int, default=200)
    parser.add_argument("--mib", type=int, default=1, help="size of each file in MiB")
    parser.add_argument("--dvc", help="dvc executable (default: the tests' oracle venv)")
    parser.add_argument("--ours", help="jupyter-exp executable (default: from PATH)")
    parser.add_argument("--out", type=Path, default=HERE / "RESULTS.md")
    args = parser.parse_args(argv)
    # DVC's venv holds byte-compiled modules (pip compiles on install); an editable
    # checkout may not (PYTHONDONTWRITEBYTECODE), so compile ours the same way first.
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", str(HERE.parent / "jupyter_exp")],
        check=False,
        capture_output=True,
    )

    with tempfile.TemporaryDirectory(prefix="bench-vs-dvc-") as tmp:
        scratch = Path(tmp)
        dvc, ours = _dvc_tool(args.dvc, scratch), _our_tool(args.ours, scratch)
        pipeline = _pipeline_template(scratch / "pipeline", dvc.env)
        data = _data_template(scratch / "data", dvc.env, args.files, args.mib)
        print(f"measuring {dvc.name} ...", flush=True)
        label = f"{args.files} files of {args.mib} MiB"
        dvc_times = measure(dvc, scratch, pipeline, data, args.repeats, label)
        print(f"measuring {ours.name} ...", flush=True)
        our_times = measure(ours, scratch, pipeline, data, args.repeats, label)
        md5 = md5sum_baseline(data, args.repeats)
        startup = startup_floor(args.repeats)
        info = {
            "date": datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
            "machine": machine(memory=True),
            "python": platform.python_version(),
            "args": " ".join(sys.argv[1:] if argv is None else argv) or "(defaults)",
            "dvc": _version(dvc),
            "ours": _version(ours),
            "failures": dvc.failures + ours.failures,
            "startup": startup,
        }
    report = render(dvc_times, our_times, md5, info, args.repeats, label)
    print(report)
    write_section(args.out, "bench_vs_dvc", report)
    print(f"written to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
