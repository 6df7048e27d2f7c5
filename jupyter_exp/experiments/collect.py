"""Gathering what ``exp show`` lists: the workspace, baseline commits, their experiments.

The result has the shape of DVC's ``repo.experiments.show()`` (``ExpState`` /
``ExpRange`` / ``SerializableExp`` in ``dvc/repo/experiments/serialize.py``), and
:func:`states_to_json` gives exactly what ``dvc exp show --json`` prints, so tools that
read DVC's JSON read ours.

Speed is the point of this module. Git is asked once for every ref
(``for-each-ref``). Rows come from :mod:`.showcache` when they can: a commit's row is
kept once read (commits never change), the workspace row as long as the stat
signatures of the files it was read from stay the same. Only what is missing is read,
by :mod:`.collect_read`, through one ``git cat-file --batch`` process for every commit
at once; a warm run never imports YAML, the pipeline loader or the engine.

Experiments that are not refs yet (queued, running, failed) come from entry sources a
queue module registers with :func:`register_entry_source`; they get their own ``State``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, NamedTuple

from ..core.repo import Repo
from ..errors import ExperimentNotFoundError, JupyterExpError, RevisionNotFoundError
from ..git import Git
from . import dvcexec, showcache
from .expstate import SUCCESS, ExpData, ExpRange, ExpState, ExternalExperiment, states_to_json
from .refs import EXPS_NAMESPACE, ExpRef

if TYPE_CHECKING:
    from .gittree import CommitInfo, Reader

__all__ = [
    "CollectOptions",
    "ExpData",
    "ExpRange",
    "ExpState",
    "ExternalExperiment",
    "collect_json",
    "collect_states",
    "register_entry_source",
    "states_to_json",
]

WORKSPACE = "workspace"  # the rev of the workspace row
# The order DVC lists a baseline's experiments in: running, done, queued, failed.
_STATE_ORDER = ("Running", SUCCESS, "Queued", "Failed")
_MAX_CHAIN = 1000


class CollectOptions(NamedTuple):
    """Which baselines to list (``dvc exp show``'s revision flags) and how."""

    revs: tuple[str, ...] = ()
    all_branches: bool = False
    all_tags: bool = False
    all_commits: bool = False
    num: int = 1
    hide_queued: bool = False
    hide_failed: bool = False
    hide_workspace: bool = False
    sha_only: bool = False
    param_deps: bool = False
    force: bool = False  # read every row again (the caches are written, not read)


EntrySource = Callable[[Repo, Git, Sequence[str]], Iterable[ExternalExperiment]]
_ENTRY_SOURCES: list[EntrySource] = []


def register_entry_source(source: EntrySource) -> None:
    """Add a provider of queued/running/failed experiments for these baselines."""
    if source not in _ENTRY_SOURCES:
        _ENTRY_SOURCES.append(source)


# --- baselines ---------------------------------------------------------------------------


class RefState(NamedTuple):
    """Branches, tags and experiment refs (ref -> commit), ``HEAD`` and its branch."""

    refs: dict[str, str]
    head: str | None
    branch: str | None

    @classmethod
    def read(cls, git: Git) -> RefState:
        """One ``for-each-ref`` (plus ``rev-parse HEAD`` when detached)."""
        refs, current = git.ref_commits("refs/heads/", "refs/tags/", f"{EXPS_NAMESPACE}/")
        head = refs.get(current) if current else git.head()
        branch = current.removeprefix("refs/heads/") if current else None
        return cls(refs, head, branch)

    def lookup(self, rev: str) -> str | None:
        """The commit ``rev`` names if it is ``HEAD`` or a ref name we listed, else None.

        Tags before branches, as Git looks names up.
        """
        if rev == "HEAD":
            return self.head
        for ref in (rev, f"refs/tags/{rev}", f"refs/heads/{rev}"):
            if ref.startswith("refs/") and ref in self.refs:
                return self.refs[ref]
        return None


def _resolve(git: Git, rev: str, state: RefState) -> str:
    sha = state.lookup(rev) or git.try_resolve(rev)
    if sha is not None:
        return sha
    from .lookup import find_experiment

    try:
        return find_experiment(git, rev).sha  # DVC also accepts an experiment name
    except (ExperimentNotFoundError, JupyterExpError):
        raise RevisionNotFoundError(rev) from None


def _n_commits(git: Git, revs: Iterable[str], num: int, state: RefState) -> list[str]:
    found: list[str] = []
    for rev in revs:
        if num == 0:
            continue
        sha = _resolve(git, rev, state)
        found.extend([sha] if num == 1 else git.log(sha, num if num > 0 else -1))
    return found


def baseline_revs(git: Git, options: CollectOptions, state: RefState) -> list[str]:
    """Baseline commits in DVC's order (``dvc.scm.iter_revs``), each once."""
    refs = state.refs
    revs = list(options.revs)
    if not (revs or options.all_branches or options.all_tags or options.all_commits):
        revs = ["HEAD"]
    found = _n_commits(git, revs, options.num, state)
    if options.all_commits:
        found.extend(git.reachable_commits())
    else:
        if options.all_branches:
            branches = [r for r in refs if r.startswith("refs/heads/")]
            found.extend(_n_commits(git, branches, options.num, state))
        if options.all_tags:
            found.extend(refs[r] for r in refs if r.startswith("refs/tags/"))
    return list(dict.fromkeys(found))


def describe(revs: Iterable[str], state: RefState) -> dict[str, str | None]:
    """A name for each rev: the current branch, else a tag, else a branch (DVC's order)."""
    refs, head, branch = state.refs, state.head, state.branch
    tags: dict[str, str] = {}
    branches: dict[str, str] = {}
    for ref, sha in refs.items():
        if ref.startswith("refs/tags/"):
            tags.setdefault(sha, ref[len("refs/tags/") :])
        elif ref.startswith("refs/heads/"):
            branches.setdefault(sha, ref[len("refs/heads/") :])
    names: dict[str, str | None] = {}
    for rev in revs:
        if rev == head and branch:
            names[rev] = branch
        else:
            names[rev] = tags.get(rev) or branches.get(rev)
    return names


# --- collecting ----------------------------------------------------------------------------


def collect_states(
    repo: Repo, options: CollectOptions | None = None, *, git: Git | None = None
) -> list[ExpState]:
    """The workspace and every selected baseline with its experiments.

    Raises :class:`RevisionNotFoundError` for a ``--rev`` that names nothing. A
    repository without commits gives ``[]``, as DVC does.
    """
    options = options or CollectOptions()
    git = git or Git.find(repo.root)
    state = RefState.read(git)
    if state.head is None:
        return []
    baselines = baseline_revs(git, options, state)
    names = {} if options.sha_only else describe(baselines, state)
    tips = _experiment_refs(state.refs, baselines)
    external = _external(repo, git, baselines, options)

    wanted = [*baselines, *(sha for exps in tips.values() for _, sha in exps)]
    wanted.extend(e.commit for e in external if e.commit)
    rows = CommitRows(repo, git, use_cache=not options.force)
    try:
        rows.load_parents(wanted)
        chains = _chains(rows, tips)
        every = list(dict.fromkeys([*wanted, *(s for c in chains.values() for s in c)]))
        # As DVC: baselines are always read whole (its collect_rev gets no param_deps for
        # them), experiments honour --param-deps.
        datas = rows.rows(every, param_deps=options.param_deps, whole=set(baselines))
    finally:
        rows.close()

    # Workspace rows by project folder: ours, and those of running experiments.
    folders: dict[str, ExpState] = {}
    main = os.fspath(repo.root)
    if not options.hide_workspace:
        folders[main] = collect_workspace(
            repo, param_deps=options.param_deps, use_stamp=not options.force
        )
    for folder in dict.fromkeys(e.root for e in external if e.root):
        if folder not in folders:
            other = repo if folder == main else Repo(folder)
            folders[folder] = collect_workspace(other, param_deps=options.param_deps)
    result: list[ExpState] = [] if options.hide_workspace else [folders[main]]
    for baseline in baselines:
        data, error = datas.get(baseline, (None, None))
        ranges = [
            _ref_range(name, chains.get(sha, [sha]), datas) for name, sha in tips.get(baseline, [])
        ]
        ranges.extend(
            _external_range(e, datas, folders) for e in external if e.baseline == baseline
        )
        result.append(
            ExpState(
                rev=baseline,
                name=names.get(baseline),
                data=data,
                error=error,
                experiments=_ordered(ranges) or None,
            )
        )
    return result


def collect_json(
    repo: Repo, *, revs: str | Sequence[str] | None = None, **options: Any
) -> list[dict[str, Any]]:
    """What ``dvc exp show --json`` prints; ``options`` are :class:`CollectOptions`."""
    chosen = (revs,) if isinstance(revs, str) else tuple(revs or ())
    return states_to_json(collect_states(repo, CollectOptions(revs=chosen, **options)))


Row = tuple[ExpData | None, dict[str, str] | None]


class CommitRows:
    """Parents and rows of commits: from :mod:`.showcache`, else read from Git.

    The ``git cat-file`` process and the reading modules are started/imported on the
    first miss; rows read complete are written back to the cache by :meth:`close`.
    """

    def __init__(self, repo: Repo, git: Git, *, use_cache: bool = True) -> None:
        self.repo = repo
        self.git = git
        self.cached = showcache.load(repo.root)
        self.use_cache = use_cache  # False: rows are read again (and still stored)
        self.parents: dict[str, tuple[str, ...]] = {}
        self._infos: dict[str, CommitInfo] = {}
        self._new: dict[str, dict[str, Any]] = {}
        self._reader: Reader | None = None

    def _reading(self) -> Reader:
        if self._reader is None:
            from .gittree import LazyReader

            self._reader = LazyReader(self.git)
        return self._reader

    def _cached(self, sha: str, param_deps: bool) -> dict[str, Any] | None:
        if not self.use_cache:
            return None
        return self.cached.get(showcache.row_key(sha, param_deps=param_deps))

    def _read_infos(self, shas: Iterable[str]) -> None:
        missing = [sha for sha in shas if sha not in self._infos]
        if missing:
            from .gittree import read_commits

            found = read_commits(self._reading(), missing)
            self._infos.update(found)
            self.parents.update((sha, info.parents) for sha, info in found.items())

    def load_parents(self, shas: Iterable[str]) -> None:
        """Know the parents of every commit of ``shas`` (unknown shas are left out)."""
        missing = []
        for sha in shas:
            if sha in self.parents:
                continue
            entry = self._cached(sha, False) or self._cached(sha, True)
            if entry is not None:
                self.parents[sha] = tuple(entry["parents"])
            else:
                missing.append(sha)
        self._read_infos(missing)

    def rows(self, shas: Sequence[str], *, param_deps: bool, whole: set[str]) -> dict[str, Row]:
        """``(data, error)`` of each commit; those in ``whole`` ignore ``param_deps``."""
        result: dict[str, Row] = {}
        todo: dict[bool, list[str]] = {False: [], True: []}
        for sha in shas:
            deps_only = param_deps and sha not in whole
            entry = self._cached(sha, deps_only)
            if entry is None:
                todo[deps_only].append(sha)
            else:
                result[sha] = (_cached_data(entry), None)
        for deps_only, missing in todo.items():
            if missing:
                result.update(self._read_rows(missing, deps_only))
        return result

    def _read_rows(self, shas: list[str], param_deps: bool) -> dict[str, Row]:
        from .collect_read import read_commit_rows
        from .gittree import git_prefix

        self._read_infos(shas)
        read = read_commit_rows(
            self.repo,
            self._reading(),
            self._infos,
            shas,
            param_deps=param_deps,
            prefix=git_prefix(self.repo, self.git),
        )
        for sha, (data, _) in read.items():
            if data is None:
                continue
            as_dict = data.to_dict()
            if showcache.is_complete(as_dict):
                info = self._infos[sha]
                key = showcache.row_key(sha, param_deps=param_deps)
                self._new[key] = showcache.entry(info.parents, info.timestamp, as_dict)
        return read

    def close(self) -> None:
        """Stop ``git cat-file`` if it ran; write the rows read to the cache."""
        if self._reader is not None:
            self._reader.close()
            self._reader = None
        showcache.store(self.repo.root, self.cached, self._new)
        self.cached.update(self._new)
        self._new = {}


def _cached_data(entry: Mapping[str, Any]) -> ExpData:
    data = entry["data"]
    return ExpData(
        rev=data["rev"],
        timestamp=datetime.fromtimestamp(entry["time"]),  # local and naive, as DVC
        params=data.get("params", {}),
        metrics=data.get("metrics", {}),
        deps=data.get("deps", {}),
        outs=data.get("outs", {}),
        meta=data.get("meta", {}),
    )


def _experiment_refs(refs: Mapping[str, str], baselines: Sequence[str]) -> dict[str, list]:
    wanted = set(baselines)
    tips: dict[str, list[tuple[str, str]]] = {}
    for ref, sha in refs.items():
        info = ExpRef.parse(ref)
        if info is not None and info.baseline in wanted:
            tips.setdefault(info.baseline, []).append((info.name, sha))
    return tips


def _external(
    repo: Repo, git: Git, baselines: Sequence[str], options: CollectOptions
) -> list[ExternalExperiment]:
    found = []
    seen: set[tuple[str, str]] = set()
    for source in _ENTRY_SOURCES:
        for entry in source(repo, git, baselines):
            if options.hide_queued and entry.state == "Queued":
                continue
            if options.hide_failed and entry.state == "Failed":
                continue
            if (entry.baseline, entry.rev) in seen:
                continue  # a queue entry running in a worktree is listed once, as queued
            seen.add((entry.baseline, entry.rev))
            found.append(entry)
    return found


def _chains(rows: CommitRows, tips: Mapping[str, list]) -> dict[str, list[str]]:
    """Commits of each experiment from its tip down to (not including) the baseline.

    One commit for every experiment of ours; DVC 2 checkpoint experiments are chains.
    All chains are walked together, one batch per step.
    """
    chains: dict[str, list[str]] = {}
    walking: dict[str, tuple[str, str]] = {}  # tip -> (current commit, baseline)
    for baseline, exps in tips.items():
        for _, sha in exps:
            chains[sha] = [sha]
            walking[sha] = (sha, baseline)
    steps = 0
    while walking and steps < _MAX_CHAIN:
        following = {}
        for tip, (current, baseline) in walking.items():
            parents = rows.parents.get(current)
            parent = parents[0] if parents else None
            if parent is None or parent == baseline:
                continue
            chains[tip].append(parent)
            following[tip] = (parent, baseline)
        rows.load_parents(sha for sha, _ in following.values())
        walking = following
        steps += 1
    return chains


def _ordered(ranges: list[ExpRange]) -> list[ExpRange]:
    """Running, done, queued, failed; each newest first (DVC's ``_sorted_ranges``)."""

    def newest_first(exp_range: ExpRange) -> tuple[float, str]:
        tip = exp_range.revs[0]
        if tip.data and tip.data.timestamp:
            return tip.data.timestamp.timestamp(), tip.rev
        return 0.0, ""

    ordered: list[ExpRange] = []
    for state in _STATE_ORDER:
        group = [r for r in ranges if r.state == state]
        ordered.extend(sorted(group, key=newest_first, reverse=True))
    ordered.extend(r for r in ranges if r.state not in _STATE_ORDER)
    return ordered


def _ref_range(name: str, chain: list[str], datas: Mapping) -> ExpRange:
    revs = []
    for sha in chain:
        data, error = datas.get(sha, (None, None))
        revs.append(ExpState(rev=sha, data=data, error=error))
    revs[0].name = name
    return ExpRange(revs=revs, name=name)


def _external_range(
    entry: ExternalExperiment, datas: Mapping, folders: Mapping[str, ExpState]
) -> ExpRange:
    workspace = folders.get(entry.root) if entry.root else None
    if workspace is not None:
        # As DVC: a running experiment shows its folder's files as they are now.
        state = ExpState(rev=entry.rev, name=entry.name, data=workspace.data, error=workspace.error)
        return ExpRange(
            revs=[state],
            name=entry.name,
            state=entry.state,
            executor_name=entry.executor,
            executor=entry.executor_info,
        )
    data, error = datas.get(entry.commit, (None, None)) if entry.commit else (None, None)
    if data is not None:
        data = ExpData(
            rev=entry.rev,
            timestamp=entry.timestamp or data.timestamp,
            params=data.params,
            metrics={} if entry.state == "Queued" else data.metrics,
            deps=data.deps,
            outs=data.outs,
        )
    elif entry.timestamp is not None:
        data = ExpData(rev=entry.rev, timestamp=entry.timestamp)
    executor = entry.executor_info or {
        "state": entry.state.lower(),
        "name": entry.executor,
        "local": None,
    }
    state = ExpState(rev=entry.rev, name=entry.name, data=data, error=error)
    return ExpRange(
        revs=[state],
        name=entry.name,
        state=entry.state,
        executor_name=entry.executor,
        executor=executor,
    )


# --- the workspace -----------------------------------------------------------------------


def collect_workspace(repo: Repo, *, param_deps: bool = False, use_stamp: bool = True) -> ExpState:
    """The ``workspace`` row: files as they are on disk, hashes from ``dvc.lock``.

    Answered from the workspace stamp of :mod:`.showcache` when no file it was read
    from moved (and ``use_stamp``); else read (:mod:`.collect_read`) and stamped again.
    """
    key = showcache.workspace_key(param_deps=param_deps)
    cached = showcache.load_workspace(repo.root, key) if use_stamp else None
    if cached is not None:
        data = cached.get("data")
        return ExpState(
            rev=WORKSPACE,
            data=ExpData.from_dict(data) if isinstance(data, dict) else None,
            error=cached.get("error"),
        )
    from .collect_read import read_workspace

    row, watched = read_workspace(repo, param_deps=param_deps)
    if watched is not None:
        payload = {"data": row.data.to_dict() if row.data else None, "error": row.error}
        showcache.store_workspace(repo.root, key, payload, watched)
    return row


# --- experiments that are not refs ------------------------------------------------------


def _queue_entries(repo: Repo, git: Git, baselines: Sequence[str]) -> list[ExternalExperiment]:
    """The queue's entries; the queue is not even imported when it was never used."""
    try:
        if not os.listdir(os.path.join(repo.tmp_dir, "jupyter-exp", "queue", "entries")):
            return []
    except OSError:
        return []
    from .queue.store import exp_show_entries

    return exp_show_entries(repo, git, baselines)


def _workspace_run(repo: Repo, git: Git, baselines: Sequence[str]) -> list[ExternalExperiment]:
    """The experiment running in the workspace (ours or DVC's), from DVC's run files."""
    info = dvcexec.running_in_workspace(repo.tmp_dir)
    if info is None or info["baseline_rev"] not in baselines:
        return []
    return [_running(info, WORKSPACE, os.fspath(repo.root))]


def _temp_runs(repo: Repo, git: Git, baselines: Sequence[str]) -> list[ExternalExperiment]:
    """Experiments running in temporary folders (ours or DVC's), from DVC's run files."""
    return [
        _running(info, info["id"], dvcexec.project_root(info))
        for info in dvcexec.running_in_temp(repo.tmp_dir)
        if info["baseline_rev"] in baselines
    ]


def _running(info: dict[str, Any], rev: str, root: str) -> ExternalExperiment:
    return ExternalExperiment(
        baseline=info["baseline_rev"],
        rev=rev,
        state="Running",
        name=info.get("name"),
        executor=info.get("location"),
        executor_info=dvcexec.executor_record(info),
        root=root,
    )


# Experiments that are not refs yet appear as rows of their own, in DVC's order: the one
# running in the workspace, the queue's entries (Queued, Running, Failed), then runs in
# temporary folders that are not queue entries (`exp run --temp`).
register_entry_source(_workspace_run)
register_entry_source(_queue_entries)
register_entry_source(_temp_runs)
