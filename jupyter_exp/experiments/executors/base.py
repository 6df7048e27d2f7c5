"""What every way of recording an experiment shares: names, contents, hash and the ref.

An experiment is one commit whose parent is the baseline (``HEAD`` when it started),
under ``refs/exps/<baseline[:2]>/<baseline[2:]>/<name>``. Its tree is built the way
DVC's workspace executor builds it: the tracked files as they are now, what is staged,
and the files a run writes that Git should track even when they are still untracked
(``dvc.lock``, ``.gitignore``, ``*.dvc``, params files, uncached outputs such as
metrics and plots, the top-level metrics/params/plots of ``dvc.yaml``, and the plain
dependencies of the stages that ran). Git-ignored files never go in: cached outputs
live in the DVC cache and the commit's ``dvc.lock`` points at them.

The commit is written with plumbing (a scratch index, ``commit-tree``) and the ref is
created with ``update-ref`` and the expected old value, so ``HEAD``, the index and the
branches never move, and two processes recording at once both land.
"""

from __future__ import annotations

import hashlib
import json
import posixpath
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ...core.index import Index
from ...core.lockfile import lock_entry_to_dict, read_lockfile
from ...core.objects import LockEntry
from ...core.overrides import Override
from ...core.repo import Repo
from ...core.repro import ReproOptions, ReproResult
from ...errors import (
    ExperimentError,
    ExperimentExistsError,
    GitError,
    InvalidExperimentNameError,
)
from ...git import ZERO_SHA, Git
from ..names import random_name
from ..refs import ExpRef, baseline_prefix, validate_name

if TYPE_CHECKING:
    from ..checkpoints import CheckpointPlan

# What `identical_to` says when the result is the baseline commit itself.
BASELINE = "HEAD"
_RECORD_ATTEMPTS = 20
_METRICS_MAX_BYTES = 1 << 20


@dataclass
class ExpResult:
    """An experiment recorded (or found identical to one that exists).

    ``ref`` is None when nothing new was recorded: ``identical_to`` then names the
    experiment with the same content, or is ``"HEAD"`` when it equals the baseline, and
    ``sha`` is that commit. ``exp_hash`` is DVC's experiment hash (sha256 of the lock
    entries of the stages involved), used in the default commit message.
    ``metrics`` maps each metrics file of the pipeline to its parsed content.
    """

    name: str
    baseline: str
    ref: str | None = None
    sha: str | None = None
    identical_to: str | None = None
    exp_hash: str = ""
    metrics: dict[str, Any] = field(default_factory=dict)

    @property
    def recorded(self) -> bool:
        """True when a new experiment ref was written."""
        return self.ref is not None


@dataclass
class ExpRunResult(ExpResult):
    """An experiment run: :class:`ExpResult` plus what the run did.

    ``repro`` is the reproduction's outcome by stage; ``overrides`` the ``-S`` values
    applied, ``changed_files`` the params files they rewrote; ``temp`` tells whether it
    ran in a temporary worktree (its results are then only in the experiment, not in the
    workspace). ``checkpoints`` lists the checkpoint commits this run appended to the
    experiment (oldest first; empty without checkpoint stages): ``sha`` is then the last.
    """

    repro: ReproResult = field(default_factory=ReproResult)
    overrides: list[str] = field(default_factory=list)
    changed_files: list[str] = field(default_factory=list)
    temp: bool = False
    checkpoints: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ExpJob:
    """One experiment to run, checked and named: what an executor needs.

    ``options`` already carries the experiment's environment variables; ``checkpoints``
    says where checkpoint stages resume from (None: the executor's default).
    """

    baseline: str
    name: str
    explicit: bool
    force: bool
    message: str | None
    overrides: tuple[Override, ...]
    options: ReproOptions
    copy_paths: tuple[str, ...] = ()
    checkpoints: CheckpointPlan | None = None


@dataclass(frozen=True)
class Recorded:
    """Where :func:`record` put the experiment (``ref`` None: identical, not recorded)."""

    name: str
    ref: str | None
    sha: str
    identical_to: str | None


# --- baseline and names ------------------------------------------------------------------


def require_baseline(git: Git) -> str:
    """``HEAD``'s sha; experiments need a commit to branch from."""
    head = git.head()
    if head is None:
        raise ExperimentError("empty Git repository: make a first commit to use experiments")
    return head


def fresh_name(git: Git, baseline: str) -> str:
    """A random ``adjective-noun`` name no experiment of ``baseline`` has."""
    taken = {ExpRef.parse(r.ref) for r in git.refs(baseline_prefix(baseline))}
    names = {r.name for r in taken if r is not None}
    for _ in range(1000):
        name = random_name()
        if name not in names:
            return name
    suffix = 2
    while f"{name}-{suffix}" in names:
        suffix += 1
    return f"{name}-{suffix}"


def choose_name(git: Git, baseline: str, name: str | None, force: bool) -> tuple[str, bool]:
    """The experiment's name and whether the user chose it, checked before anything runs.

    Raises :class:`InvalidExperimentNameError` for a name Git or DVC refuse and
    :class:`ExperimentExistsError` when ``baseline`` has an experiment of that name
    (unless ``force``).
    """
    if name is None:
        return fresh_name(git, baseline), False
    validate_name(name)
    ref = ExpRef(baseline, name).ref
    if not git.is_valid_ref_name(ref):
        raise InvalidExperimentNameError(name, "Git does not accept it in a ref name")
    if not force and git.ref_sha(ref) is not None:
        raise ExperimentExistsError(name)
    return name, True


def default_message(exp_hash: str) -> str:
    """DVC's commit message for an experiment."""
    return f"dvc: commit experiment {exp_hash}"


# --- contents ----------------------------------------------------------------------------


def paths_to_track(
    repo: Repo, index: Index, ran: Iterable[str] = (), exclude: Sequence[str] = ()
) -> list[str]:
    """Repo paths Git should carry in the experiment even when they are untracked.

    ``ran``: addresses of the stages that ran, whose plain (not DVC-produced)
    dependencies are added too, as DVC stages them. ``exclude``: paths (and what is
    under them) to leave out, such as ``--copy-paths``. Only existing paths are listed.
    """
    wanted: dict[str, None] = {}
    ran = set(ran)
    cached = [o.repo_path for s in index.stages for o in s.outs if o.cache]
    for pipeline in index.files:
        folder = posixpath.dirname(pipeline.path)
        wanted[pipeline.path] = None
        wanted[posixpath.join(folder, "dvc.lock")] = None
        for path in _top_level_files(pipeline.params, pipeline.metrics, pipeline.plots):
            wanted[posixpath.normpath(posixpath.join(folder, path))] = None
    for stage in index.stages:
        if stage.is_data_source:
            wanted[stage.dvcfile] = None
        for params in stage.params:
            wanted[params.repo_path] = None
        for out in stage.outs:
            if out.cache:
                wanted[posixpath.join(posixpath.dirname(out.repo_path), ".gitignore")] = None
            else:
                wanted[out.repo_path] = None
        if stage.address in ran:
            for dep in stage.deps:
                if not any(_under(dep.repo_path, c) for c in cached):
                    wanted[dep.repo_path] = None
    return [
        path
        for path in wanted
        if path not in ("", ".")
        and not path.startswith("../")
        and not any(_under(path, e) for e in exclude)
        and repo.abspath(path).exists()
    ]


def _under(path: str, folder: str) -> bool:
    return folder in (".", "") or path == folder or path.startswith(folder + "/")


def _top_level_files(params: list[Any], metrics: list[Any], plots: list[Any]) -> list[str]:
    """File paths named by a ``dvc.yaml``'s top-level ``params``/``metrics``/``plots``."""
    found = [p for p in (*params, *metrics) if isinstance(p, str)]
    for plot in plots:
        if isinstance(plot, str):
            found.append(plot)
        elif isinstance(plot, dict):
            for plot_id, props in plot.items():
                y = props.get("y") if isinstance(props, dict) else None
                if isinstance(y, dict):  # {file: columns}: the files are the sources
                    found.extend(str(k) for k in y)
                    x = props.get("x")
                    if isinstance(x, dict):
                        found.extend(str(k) for k in x)
                else:
                    found.append(str(plot_id))
    return found


def git_paths(git: Git, repo: Repo, paths: Iterable[str]) -> list[str]:
    """Repo paths as paths of Git's work tree (they differ for a project in a subfolder)."""
    prefix = repo.root.relative_to(git.root).as_posix()
    if prefix in ("", "."):
        return list(paths)
    return [posixpath.join(prefix, p) for p in paths]


def exp_hash(repo: Repo, index: Index, addresses: Iterable[str]) -> str:
    """DVC's experiment hash: sha256 of the stages' lock entries as sorted JSON.

    As ``BaseExecutor.hash_exp``: ``{stage name: lock entry}`` for each pipeline stage
    of ``addresses`` in order (data sources are left out), dumped with sorted keys.
    """
    by_address = {s.address: s for s in index.stages}
    locks: dict[str, dict[str, LockEntry]] = {}
    data: dict[str, Any] = {}
    for address in addresses:
        stage = by_address.get(address)
        if stage is None or stage.is_data_source:
            continue
        if stage.lockfile not in locks:
            locks[stage.lockfile] = read_lockfile(repo, stage.lockfile)
        entry = locks[stage.lockfile].get(stage.name)
        if entry is not None:
            data[stage.name] = lock_entry_to_dict(entry)
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode("utf-8")).hexdigest()


def read_metrics(repo: Repo, index: Index) -> dict[str, Any]:
    """Parsed content of the pipeline's metrics files (small JSON/YAML/TOML ones)."""
    paths: dict[str, None] = {}
    for stage in index.stages:
        for out in stage.outs:
            if out.kind == "metric":
                paths[out.repo_path] = None
    for pipeline in index.files:
        folder = posixpath.dirname(pipeline.path)
        for path in pipeline.metrics:
            if isinstance(path, str):
                paths[posixpath.normpath(posixpath.join(folder, path))] = None
    found: dict[str, Any] = {}
    for path in paths:
        value = _read_metric(repo, path)
        if value is not None:
            found[path] = value
    return found


def _read_metric(repo: Repo, path: str) -> Any:
    target = repo.abspath(path)
    try:
        if not target.is_file() or target.stat().st_size > _METRICS_MAX_BYTES:
            return None
        text = target.read_text(encoding="utf-8")
        if path.endswith(".json"):
            return json.loads(text)
        if path.endswith(".toml"):
            import tomllib

            return tomllib.loads(text)
        from ...core.yamlio import load_yaml

        return load_yaml(text, path)
    except Exception:  # a metrics summary is best effort: unreadable files are left out
        return None


# --- the commit and the ref --------------------------------------------------------------


def record(
    git: Git,
    *,
    baseline: str,
    tree: str,
    name: str,
    explicit: bool,
    force: bool,
    message: str,
) -> Recorded:
    """Record ``tree`` as experiment ``name`` of ``baseline``, unless it is not new.

    A tree equal to the baseline's or to an experiment of the same baseline records
    nothing and says which. Otherwise the commit is made and the ref created with
    ``update-ref`` expecting it absent (or, with ``force`` on a chosen name, expecting
    the value just read): when another process wins the race, a random name is redrawn;
    a chosen one raises :class:`ExperimentExistsError`.
    """
    if tree == git.tree_of(baseline):
        return Recorded(name, None, baseline, BASELINE)
    existing = git.ref_trees(baseline_prefix(baseline))
    own = ExpRef(baseline, name).ref
    same = sorted(ref for ref, (_, t) in existing.items() if t == tree and ExpRef.parse(ref))
    if same:
        ref = own if own in same else same[0]
        parsed = ExpRef.parse(ref)
        assert parsed is not None
        return Recorded(name, None, existing[ref][0], parsed.name)
    sha = git.commit_tree(tree, [baseline], message)
    name, ref = claim_ref(
        git, baseline=baseline, name=name, explicit=explicit, force=force, sha=sha
    )
    return Recorded(name, ref, sha, None)


def claim_ref(
    git: Git, *, baseline: str, name: str, explicit: bool, force: bool, sha: str
) -> tuple[str, str]:
    """Create experiment ``name``'s ref at ``sha``; return the name and ref used.

    ``update-ref`` expects the ref absent (or, with ``force`` on a chosen name, the
    value just read): when another process wins the race, a random name is redrawn; a
    chosen one raises :class:`ExperimentExistsError`.
    """
    for _ in range(_RECORD_ATTEMPTS):
        ref = ExpRef(baseline, name).ref
        current = git.ref_sha(ref)
        if current is None:
            old = ZERO_SHA
        elif explicit and force:
            old = current
        elif explicit:
            raise ExperimentExistsError(name)
        else:
            name = fresh_name(git, baseline)
            continue
        try:
            git.update_ref(ref, sha, old=old)
        except GitError:
            continue  # another writer moved the ref between our read and our write
        return name, ref
    raise ExperimentError(f"could not record experiment '{name}': its ref kept changing")
