"""Checkpoints: the cost of one checkpoint, and ``exp show`` over many checkpoint chains.

1. handshake: a training-like stage writes a model of ``--mib`` MiB (new content every
   step) and ``metrics.json``, then calls ``make_checkpoint()``, ``--steps`` times, under
   ``exp run`` (in-process engine, real stage process). The script times each
   ``make_checkpoint()`` call (signal written -> outputs hashed and cached, ``dvc.lock``
   written, changing files captured as Git blobs -> signal removed; the commit itself
   follows in a worker thread); the engine reports its own share
   (:class:`~jupyter_exp.core.checkpoint_signal.CheckpointTaken`).
   Goal: under 5% of a 1-second training step (50 ms).
2. ``exp show``: ``--exps`` experiments of ``--checkpoints`` checkpoints each (commits
   written directly with ``git fast-import``: each one new metrics, params and lock, as a
   real run would leave them), then ``jupyter-exp show --json`` / ``--csv`` and
   ``Project.exp_show()`` timed cold (show cache emptied) and warm, with DVC 3's
   ``dvc exp show --json`` (which reads chains as its legacy checkpoints) alongside when
   the oracle is available. Both JSON outputs must be equal.

The table goes to stdout and into bench/RESULTS.md between this script's markers.

    python bench/bench_checkpoints.py [--steps 20] [--mib 10] [--exps 50] [--checkpoints 100]
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import json
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
sys.path.insert(0, str(REPO))


TRAIN_PY = """\
import json, os, sys, time
from jupyter_exp.checkpoints import make_checkpoint

size = int(os.environ["MODEL_BYTES"])
steps = int(os.environ["STEPS"])
model = bytearray(os.urandom(size))
timings = []
for step in range(steps):
    model[step % size] ^= 0xFF  # new content each step, as training gives
    with open("model.bin", "wb") as f:
        f.write(model)
    with open("metrics.json", "w") as f:
        json.dump({"step": step, "loss": 1.0 / (step + 1)}, f)
    started = time.perf_counter()
    make_checkpoint()
    timings.append(time.perf_counter() - started)
with open(os.environ["TIMINGS"], "w") as f:
    json.dump(timings, f)
"""

DVC_YAML = """\
stages:
  train:
    cmd: {python} train.py
    deps: [train.py]
    params: [train]
    outs:
    - model.bin:
        checkpoint: true
    metrics:
    - metrics.json:
        cache: false
"""

PARAMS = "train:\n  lr: 0.001\n  epochs: 100\n"


def _git(root: Path, env: dict[str, str], *args: str, stdin: bytes | None = None) -> str:
    done = subprocess.run(
        ["git", *args], cwd=root, env=env, input=stdin, capture_output=True, check=True
    )
    return done.stdout.decode().strip()


def _project(root: Path, env: dict[str, str]) -> str:
    root.mkdir(parents=True)
    _git(root, env, "init", "-q", "-b", "main")
    (root / ".dvc").mkdir()
    (root / ".dvc/.gitignore").write_text("/config.local\n/tmp\n/cache\n")
    (root / ".dvc/config").write_text("")
    (root / "dvc.yaml").write_text(DVC_YAML.format(python=sys.executable))
    (root / "params.yaml").write_text(PARAMS)
    (root / "train.py").write_text(TRAIN_PY)
    _git(root, env, "add", "-A")
    _git(root, env, "commit", "-qm", "baseline")
    return _git(root, env, "rev-parse", "HEAD")


# --- 1. one checkpoint ---------------------------------------------------------------------


def bench_handshake(scratch: Path, steps: int, mib: int) -> dict[str, float]:
    """Median/p90 of ``make_checkpoint()`` as the script sees it, and the engine's share."""
    from jupyter_exp import Project
    from jupyter_exp.core.checkpoint_signal import CheckpointTaken

    env = isolated_env(scratch)
    root = scratch / "handshake"
    _project(root, env)
    timings = scratch / "timings.json"
    engine: list[float] = []

    def on_event(event: object) -> None:
        if isinstance(event, CheckpointTaken):
            engine.append(event.duration)

    saved = dict(os.environ)
    os.environ.update(env)
    try:
        stage_env = {"MODEL_BYTES": str(mib << 20), "STEPS": str(steps), "TIMINGS": str(timings)}
        started = time.perf_counter()
        result = Project(root).exp_run(env=stage_env, on_event=on_event)
        total = time.perf_counter() - started
    finally:
        os.environ.clear()
        os.environ.update(saved)
    seen = json.loads(timings.read_text())
    assert len(result.checkpoints) >= steps, result.checkpoints
    seen.sort()
    return {
        "steps": steps,
        "mib": mib,
        "median": statistics.median(seen),
        "p90": seen[int(0.9 * (len(seen) - 1))],
        "max": seen[-1],
        "engine": statistics.median(engine),
        "run": total,
    }


# --- 2. exp show over chains -----------------------------------------------------------------


def build_chains(root: Path, env: dict[str, str], baseline: str, exps: int, length: int) -> None:
    """``exps`` refs of ``length`` checkpoint commits each, through one ``git fast-import``."""
    from jupyter_exp.experiments.refs import ExpRef

    stream: list[bytes] = []
    when = int(time.time()) - exps * length
    mark = 0

    def data(text: str) -> None:
        raw = text.encode()
        stream.append(b"data %d\n" % len(raw) + raw + b"\n")

    for e in range(exps):
        ref = ExpRef(baseline, f"exp-{e:03d}").ref
        parent = baseline
        lr = 0.001 * (e + 1)
        for step in range(length):
            mark += 1
            when += 1
            model_md5 = hashlib.md5(f"{e}-{step}".encode()).hexdigest()
            stream.append(f"commit {ref}\nmark :{mark}\n".encode())
            stream.append(f"committer bench <bench@example.com> {when} +0000\n".encode())
            data(f"dvc: commit experiment {e:04d}{step:04d}")
            stream.append(f"from {parent}\n".encode())
            for path, text in (
                ("metrics.json", json.dumps({"step": step, "loss": round(1 / (step + 1), 6)})),
                ("params.yaml", f"train:\n  lr: {lr}\n  epochs: 100\n"),
                ("dvc.lock", _lock(lr, model_md5)),
            ):
                stream.append(f"M 100644 inline {path}\n".encode())
                data(text)
            stream.append(b"\n")
            parent = f":{mark}"
    _git(root, env, "fast-import", "--quiet", stdin=b"".join(stream))


def _lock(lr: float, model_md5: str) -> str:
    return f"""\
schema: '2.0'
stages:
  train:
    cmd: python train.py
    deps:
    - path: train.py
      hash: md5
      md5: 0123456789abcdef0123456789abcdef
      size: 100
    params:
      params.yaml:
        train:
          lr: {lr}
          epochs: 100
    outs:
    - path: metrics.json
      hash: md5
      md5: fedcba9876543210fedcba9876543210
      size: 40
    - path: model.bin
      hash: md5
      md5: {model_md5}
      size: 10485760
"""


def _timed(argv: list[str], root: Path, env: dict[str, str]) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run(argv, cwd=root, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed:\n{done.stderr[-2000:]}")
    return elapsed, done.stdout


def _dvc() -> list[str] | None:
    sys.path.insert(0, str(REPO / "tests"))
    try:
        from dvc_oracle import ensure_dvc

        return [str(ensure_dvc())]
    except Exception:
        found = shutil.which("dvc")
        return [found] if found else None


def bench_show(scratch: Path, exps: int, length: int, repeats: int, dvc: bool) -> dict:
    """Cold/warm medians of exp show over ``exps`` x ``length`` checkpoints."""
    env = isolated_env(scratch)
    root = scratch / "show"
    baseline = _project(root, env)
    started = time.perf_counter()
    build_chains(root, env, baseline, exps, length)
    built = time.perf_counter() - started
    ours = shutil.which("jupyter-exp") or "jupyter-exp"
    cache = root / ".dvc/tmp/exps"
    results: dict[str, float] = {"build": built}
    outputs: dict[str, str] = {}
    commands = {"json": [ours, "show", "--json"], "csv": [ours, "show", "--csv"]}
    dvc_argv = _dvc() if dvc else None
    if dvc_argv:
        commands["dvc json"] = [*dvc_argv, "exp", "show", "--json"]
    for label, argv in commands.items():
        cold, warm = [], []
        for _ in range(repeats):
            shutil.rmtree(cache, ignore_errors=True)
            elapsed, out = _timed(argv, root, env)
            cold.append(elapsed)
            outputs[label] = out
            warm.append(_timed(argv, root, env)[0])
        results[f"{label} cold"] = statistics.median(cold)
        results[f"{label} warm"] = statistics.median(warm)
    rows = outputs["csv"].count("\n") - 1
    if "dvc json" in outputs:
        results["json equal"] = float(
            json.loads(outputs["dvc json"]) == json.loads(outputs["json"])
        )
    code = (  # pandas imported first: the time is the table's, not the import's
        "import sys, time\nimport pandas\nfrom jupyter_exp import Project\n"
        "t = time.perf_counter(); df = Project(sys.argv[1]).exp_show()\n"
        "cold = time.perf_counter() - t\n"
        "t = time.perf_counter(); df = Project(sys.argv[1]).exp_show()\n"
        "print(cold, time.perf_counter() - t, len(df), int(df['Step'].max()))\n"
    )
    shutil.rmtree(cache, ignore_errors=True)
    frame = subprocess.run(
        [sys.executable, "-c", code, str(root)],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    results["dataframe cold"] = float(frame[0])
    results["dataframe warm"] = float(frame[1])
    results["rows"] = rows
    results["dataframe rows"] = int(frame[2])
    results["max step"] = int(frame[3])
    return results


# --- report ----------------------------------------------------------------------------------


def render(hand: dict, show: dict, args: argparse.Namespace) -> str:
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    share = hand["median"] / 1.0 * 100
    lines = [
        "## Checkpoints: one checkpoint, and exp show over checkpoint chains",
        "",
        f"Run {now} by `python bench/bench_checkpoints.py --steps {args.steps} "
        f"--mib {args.mib} --exps {args.exps} --checkpoints {args.checkpoints}`.",
        "",
        f"- machine: {machine()}; python {platform.python_version()}",
        "",
        f"One checkpoint with a {hand['mib']} MiB model (new content each step) and "
        f"metrics.json, {hand['steps']} steps, seen from the training script "
        "(`make_checkpoint()` returns when the outputs are hashed and cached, dvc.lock "
        "written and the files that change captured as Git blobs; the commit and the ref "
        "follow in a worker thread):",
        "",
        "| median | p90 | max | engine share (median) | share of a 1 s step | goal |",
        "|---:|---:|---:|---:|---:|---|",
        f"| {hand['median'] * 1000:.1f} ms | {hand['p90'] * 1000:.1f} ms | "
        f"{hand['max'] * 1000:.1f} ms | {hand['engine'] * 1000:.1f} ms | {share:.1f}% | "
        f"< 5%: {'met' if share < 5 else 'NOT met'} |",
        "",
        f"`exp show` over {args.exps} experiments x {args.checkpoints} checkpoints "
        f"({show['rows']} table rows; chains built in {show['build']:.1f} s with git "
        f"fast-import), medians of {args.repeats} runs, wall-clock seconds:",
        "",
        "| command | cold (cache emptied) | warm |",
        "|---|---:|---:|",
    ]
    for label, name in (
        ("json", "jupyter-exp show --json"),
        ("csv", "jupyter-exp show --csv"),
        ("dvc json", "dvc exp show --json (tips only)"),
    ):
        if f"{label} cold" in show:
            lines.append(f"| {name} | {show[f'{label} cold']:.2f} | {show[f'{label} warm']:.2f} |")
    lines.append(
        f"| Project.exp_show() DataFrame ({show['dataframe rows']} rows, Step up to "
        f"{show['max step']}; in-process, pandas loaded) | {show['dataframe cold']:.2f} | "
        f"{show['dataframe warm']:.2f} |"
    )
    if "json equal" in show:
        same = "identical" if show["json equal"] else "DIFFERENT"
        lines += ["", f"`--json` output: ours and DVC's {same}."]
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--mib", type=int, default=10)
    parser.add_argument("--exps", type=int, default=50)
    parser.add_argument("--checkpoints", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--no-dvc", action="store_true", help="skip dvc exp show")
    parser.add_argument("--out", type=Path, default=HERE / "RESULTS.md")
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-checkpoints-") as tmp:
        scratch = Path(tmp)
        hand = bench_handshake(scratch, args.steps, args.mib)
        show = bench_show(scratch, args.exps, args.checkpoints, args.repeats, not args.no_dvc)
    section = render(hand, show, args)
    print(section)
    if not args.no_write:
        write_section(args.out, "bench_checkpoints", section)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
