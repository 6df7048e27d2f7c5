"""``exp show --json`` over 30 and 300 experiments: DVC vs jupyter-exp, same run.

Builds a throw-away project (params, a two-stage pipeline with a metrics file, run once
by jupyter-exp so ``dvc.lock`` is real), then records experiments the fast way: each one
is a commit of the workspace with new params, metrics and lock values whose parent is
the baseline, under ``refs/exps/<sha[:2]>/<sha[2:]>/<name>`` (DVC's layout, so DVC lists
them too). Then it times both command-line tools:

- cold: each tool with its cache of experiment data emptied before each run (DVC's
  ``.dvc/tmp/exps/cache``, ours ``.dvc/tmp/jupyter-exp/exp-show-*.json``: commit rows
  and the workspace row);
- warm: repeated runs, caches filled.

Both tools run as installed console scripts, never through a version manager's shim
(pyenv's bash shim alone costs ~80 ms per call here). DVC runs from its own venv; ours
runs twice: from this interpreter's installation, and from a throw-away venv over the
same packages (the same code, but only the site-packages ``.pth`` files a venv has, as
DVC's venv). This interpreter's site-packages may hold ``.pth`` files that import
things at every start-up (here one imports certifi: ~25 ms before ``main`` runs), which
DVC's venv does not pay; the venv run is the like-for-like comparison.

Both JSON outputs are compared (they must be equal). The table goes to stdout and is
appended to bench/RESULTS.md as its own section (replacing an earlier one of this
script), leaving the rest of the file alone.

    python bench/bench_exp_show.py [--counts 30 300] [--repeats 3] [--interpolated]
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import re
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

from jupyter_exp.experiments import showcache  # noqa: E402
from jupyter_exp.experiments.refs import ExpRef  # noqa: E402
from jupyter_exp.git import Git  # noqa: E402

PARAMS = """\
train:
  lr: 0.001
  epochs: 10
  batch: 32
model:
  layers: 3
  dropout: 0.1
seed: 7
"""

DVC_YAML = """\
stages:
  prepare:
    cmd: mkdir -p data && cp raw.txt data/prepared.txt
    deps: [raw.txt]
    outs: [data]
  train:
    cmd: {train_cmd}
    deps: [data, train.sh]
    params: [train, model]
    outs: [model.bin]
    metrics:
      - metrics.json:
          cache: false
"""
PLAIN_CMD = "sh train.sh"
INTERPOLATED_CMD = "sh train.sh ${train.lr} ${model.layers}"
TRAIN_SH = """\
cat data/prepared.txt > model.bin
printf '{"acc": 0.5, "loss": 0.5, "val": {"acc": 0.4}}' > metrics.json
"""


def _dvc(explicit: str | None) -> list[str]:
    if explicit:
        return [explicit]
    sys.path.insert(0, str(REPO / "tests"))
    try:
        from dvc_oracle import ensure_dvc  # the tests' oracle venv

        return [str(ensure_dvc())]
    except Exception as exc:  # no oracle: DVC from PATH
        found = shutil.which("dvc")
        if not found:
            raise SystemExit(f"no DVC available ({exc}); pass --dvc PATH") from exc
        return [found]


def _ours(explicit: str | None) -> list[str]:
    if explicit:
        return [explicit]
    # The console script of this interpreter's installation (PATH may hold a shim).
    beside = Path(sys.executable).with_name("jupyter-exp")
    if beside.is_file() and os.access(beside, os.X_OK):
        return [str(beside)]
    found = shutil.which("jupyter-exp")
    return [found] if found else [sys.executable, "-m", "jupyter_exp.cli.main"]


def venv_ours(scratch: Path) -> list[str]:
    """A ``jupyter-exp`` console script in a fresh venv seeing this interpreter's packages.

    The venv's own ``.pth`` adds this repository and this interpreter's site-packages to
    ``sys.path``: folders named there are searched but their ``.pth`` files are not run,
    so the venv starts as a normal installation does.
    """
    import site

    folder = scratch / "ours-venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(folder)], check=True)
    python = folder / "bin" / "python"
    venv_site = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    paths = [str(REPO), *site.getsitepackages()]
    Path(venv_site, "jupyter_exp_bench.pth").write_text("\n".join(paths) + "\n")
    script = folder / "bin" / "jupyter-exp"
    script.write_text(
        f"#!{python}\nimport sys\nfrom jupyter_exp.cli.main import main\nsys.exit(main())\n"
    )
    script.chmod(0o755)
    return [str(script)]


def _run(argv: list[str], root: Path, env: dict[str, str]) -> tuple[float, str]:
    start = time.perf_counter()
    done = subprocess.run(argv, cwd=root, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed in {root}:\n{done.stderr[-2000:]}")
    return elapsed, done.stdout


def build_project(root: Path, env: dict[str, str], ours: list[str], interpolated: bool) -> str:
    """The baseline project, run once and committed; returns the baseline sha."""
    root.mkdir(parents=True)
    subprocess.run(["git", "init", "-q", "-b", "main"], cwd=root, env=env, check=True)
    (root / "params.yaml").write_text(PARAMS)
    cmd = INTERPOLATED_CMD if interpolated else PLAIN_CMD
    (root / "dvc.yaml").write_text(DVC_YAML.format(train_cmd=cmd))
    (root / "train.sh").write_text(TRAIN_SH)
    (root / "raw.txt").write_text("raw data\n" * 100)
    (root / ".gitignore").write_text("/data\n/model.bin\n")
    _run([*ours, "repro"], root, env)
    subprocess.run(["git", "add", "-A"], cwd=root, env=env, check=True)
    subprocess.run(["git", "commit", "-qm", "baseline"], cwd=root, env=env, check=True)
    return Git(root).resolve("HEAD")


def add_experiments(root: Path, baseline: str, start: int, stop: int) -> None:
    """Record experiments ``start..stop-1`` as DVC lays them out (no stage runs)."""
    git = Git(root)
    params = (root / "params.yaml").read_text()
    lock = (root / "dvc.lock").read_text()
    metrics = (root / "metrics.json").read_text()
    try:
        for i in range(start, stop):
            lr = f"{0.001 * (i + 2):.6g}"
            layers = str(2 + i % 5)
            (root / "params.yaml").write_text(
                params.replace("lr: 0.001", f"lr: {lr}").replace("layers: 3", f"layers: {layers}")
            )
            (root / "dvc.lock").write_text(
                re.sub(r"lr: 0\.001\b", f"lr: {lr}", lock).replace("layers: 3", f"layers: {layers}")
            )
            acc = 0.5 + (i % 97) / 200
            (root / "metrics.json").write_text(
                json.dumps({"acc": acc, "loss": round(1 - acc, 6), "val": {"acc": acc - 0.1}})
            )
            sha = git.snapshot(message=f"dvc: commit experiment {i}", parent=baseline)
            git.update_ref(ExpRef(baseline, f"exp-{i:04d}").ref, sha)
    finally:
        (root / "params.yaml").write_text(params)
        (root / "dvc.lock").write_text(lock)
        (root / "metrics.json").write_text(metrics)


def measure(
    root: Path, env: dict[str, str], dvc: list[str], ours: dict[str, list[str]], repeats: int
) -> dict[str, float | bool]:
    """Cold and warm medians of DVC and of each of ``ours`` (label -> command), and
    whether every JSON output agrees with DVC's."""
    exp_cache = root / ".dvc" / "tmp" / "exps" / "cache"
    dvc_cold = []
    for _ in range(repeats):
        shutil.rmtree(exp_cache, ignore_errors=True)
        elapsed, dvc_out = _run([*dvc, "exp", "show", "--json"], root, env)
        dvc_cold.append(elapsed)
    dvc_warm = [_run([*dvc, "exp", "show", "--json"], root, env)[0] for _ in range(repeats)]
    result: dict[str, float | bool] = {
        "dvc_cold": statistics.median(dvc_cold),
        "dvc_warm": statistics.median(dvc_warm),
        "same": True,
    }
    our_caches = [root / showcache.COMMITS_FILE, root / showcache.WORKSPACE_FILE]
    for label, command in ours.items():
        cold = []
        for _ in range(repeats):
            for cache in our_caches:
                cache.unlink(missing_ok=True)
            elapsed, our_out = _run([*command, "show", "--json"], root, env)
            cold.append(elapsed)
        warm = [_run([*command, "show", "--json"], root, env)[0] for _ in range(repeats)]
        result[f"{label}_cold"] = statistics.median(cold)
        result[f"{label}_warm"] = statistics.median(warm)
        result["same"] = bool(result["same"]) and json.loads(dvc_out) == json.loads(our_out)
    return result


def startup_floor(python: str, repeats: int) -> float:
    """Median seconds of ``python -c pass``: the floor under every run of a tool."""
    times = []
    for _ in range(max(repeats, 3)):
        start = time.perf_counter()
        subprocess.run([python, "-c", "pass"], check=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _version(argv: list[str], env: dict[str, str]) -> str:
    done = subprocess.run(
        [*argv, "--version"], env=env, capture_output=True, text=True, check=False
    )
    return (done.stdout.strip() or "unknown").split()[-1]


def _ratios(r: dict, label: str) -> tuple[float, float]:
    return r["dvc_cold"] / r[f"{label}_cold"], r["dvc_warm"] / r[f"{label}_warm"]


def render(results: dict[int, dict], info: dict[str, str]) -> str:
    counts = sorted(results)
    lines = [
        "## exp show --json: DVC vs jupyter-exp",
        "",
        f"Run {info['date']} by `python bench/bench_exp_show.py {info['args']}`.",
        "",
        f"- machine: {info['machine']}; python {info['python']}, dvc {info['dvc']}, "
        f"jupyter-exp {info['ours']}",
        f"- pipeline: two stages, params read {info['pipeline']}; one metrics file",
        "- cold: each tool's cache of experiment data emptied before each run; warm: caches "
        f"filled; medians of {info['repeats']} runs; wall-clock seconds of the CLI",
        "- ours: jupyter-exp in a venv over the same packages, as DVC runs from its venv "
        "(like for like); ours (sys): from this interpreter's own installation, whose "
        "site-packages `.pth` files run at every start-up",
        f"- `python -c pass`: {info['startup_venv']} s in a venv (DVC's: "
        f"{info['startup_dvc']} s), {info['startup']} s with this interpreter's site-packages",
        "",
        "| experiments | DVC cold | ours cold | DVC/ours cold | DVC warm | ours warm "
        "| DVC/ours warm | ours (sys) cold / warm | DVC/ours (sys) | same JSON |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for n in counts:
        r = results[n]
        cold, warm = _ratios(r, "venv")
        sys_cold, sys_warm = _ratios(r, "sys")
        lines.append(
            f"| {n} | {r['dvc_cold']:.3f} | {r['venv_cold']:.3f} | {cold:.1f}x | "
            f"{r['dvc_warm']:.3f} | {r['venv_warm']:.3f} | {warm:.1f}x | "
            f"{r['sys_cold']:.3f} / {r['sys_warm']:.3f} | {sys_cold:.1f}x / {sys_warm:.1f}x | "
            f"{'yes' if r['same'] else 'NO'} |"
        )
    lines.append("")
    if 30 in results:
        worst = min(_ratios(results[30], "venv"))
        worst_sys = min(_ratios(results[30], "sys"))
        lines.append(
            "- Goal: at least 10x faster than DVC at 30 experiments: "
            f"{'met' if worst >= 10 else 'NOT met'} like for like (worst of cold/warm: "
            f"{worst:.1f}x); with this interpreter's start-up: "
            f"{'met' if worst_sys >= 10 else 'NOT met'} ({worst_sys:.1f}x)."
        )
    if len(counts) >= 2:
        lo, hi = counts[0], counts[-1]
        linear = hi / lo
        for mode in ("cold", "warm"):
            ours = results[hi][f"venv_{mode}"] / results[lo][f"venv_{mode}"]
            dvc = results[hi][f"dvc_{mode}"] / results[lo][f"dvc_{mode}"]
            verdict = "met" if ours <= linear else "NOT met"
            lines.append(
                f"- Growth {lo} -> {hi} experiments ({linear:.0f}x more), {mode}: ours took "
                f"{ours:.2f}x the time, DVC {dvc:.2f}x; no worse than linear: {verdict}."
            )
    lines.append(
        "- Our warm time is the interpreter's start-up plus importing the collector, one "
        "`git for-each-ref` and the stat calls of the workspace stamp (nothing is parsed: "
        "every row comes from the caches)."
    )
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counts", type=int, nargs="+", default=[30, 300])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--interpolated",
        action="store_true",
        help="stage cmd reads params through ${} (a per-experiment pipeline)",
    )
    parser.add_argument("--dvc", help="dvc executable (default: the tests' oracle venv)")
    parser.add_argument("--ours", help="jupyter-exp executable (default: from PATH)")
    parser.add_argument("--out", type=Path, default=HERE / "RESULTS.md")
    args = parser.parse_args(argv)

    results: dict[int, dict] = {}
    with tempfile.TemporaryDirectory(prefix="bench-exp-show-") as tmp:
        scratch = Path(tmp)
        env = isolated_env(scratch)
        os.environ.update({k: env[k] for k in env if k.startswith("GIT_")})
        dvc, ours = _dvc(args.dvc), _ours(args.ours)
        commands = {"venv": venv_ours(scratch), "sys": ours}
        dvc_env = {k: v for k, v in env.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
        root = scratch / "project"
        baseline = build_project(root, env, ours, args.interpolated)
        made = 0
        for count in sorted(args.counts):
            print(f"recording {count - made} more experiments ...", flush=True)
            add_experiments(root, baseline, made, count)
            made = count
            print(f"timing exp show over {count} experiments ...", flush=True)
            results[count] = measure(root, dvc_env, dvc, commands, args.repeats)
        info = {
            "date": datetime.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
            "args": " ".join(sys.argv[1:] if argv is None else argv) or "(defaults)",
            "machine": machine(),
            "python": platform.python_version(),
            "dvc": _version(dvc, dvc_env),
            "ours": _version(ours, env),
            "repeats": str(args.repeats),
            "pipeline": "through ${} in cmd" if args.interpolated else "as stage params",
            "startup": f"{startup_floor(sys.executable, args.repeats):.3f}",
            "startup_venv": f"{startup_floor(str(scratch / 'ours-venv/bin/python'), 5):.3f}",
            "startup_dvc": f"{startup_floor(str(Path(dvc[0]).with_name('python')), 5):.3f}",
        }
    report = render(results, info)
    print(report)
    write_section(args.out, "bench_exp_show", report)
    print(f"appended to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
