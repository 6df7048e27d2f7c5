"""Gathering what ``exp show`` lists: the workspace, baseline commits, their experiments.

The result has the shape of DVC's ``repo.experiments.show()`` (``ExpState`` /
``ExpRange`` / ``SerializableExp`` in ``dvc/repo/experiments/serialize.py``), and
:func:`states_to_json` gives exactly what ``dvc exp show --json`` prints, so tools that
read DVC's JSON read ours.

Speed is the point of this module. Git is asked once for every ref
(``for-each-ref``), and everything else goes through one ``git cat-file --batch``
process: commit objects, trees, pipeline files and every params/metrics file of every
commit, each batch covering all commits (see :mod:`.gittree`). Nothing runs per
experiment, and parsed files are cached by blob sha.

Experiments that are not refs yet (queued, running, failed) come from entry sources a
queue module registers with :func:`register_entry_source`; they get their own ``State``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ..core.index import Index
from ..core.repo import Repo
from ..errors import ExperimentNotFoundError, JupyterExpError, RevisionNotFoundError
from ..git import Git
from . import showcache
from .expstate import SUCCESS, ExpData, ExpRange, ExpState, ExternalExperiment, states_to_json
from .gittree import (
    CommitInfo,
    LazyReader,
    Reader,
    fetch_files,
    find_pipeline_files,
    load_facts,
    read_commits,
)
from .lookup import find_experiment
from .queue.store import exp_show_entries
from .refs import EXPS_NAMESPACE, ExpRef
from .revdata import (
    Blob,
    CachedReader,
    Content,
    Listing,
    PipelineFacts,
    error_dict,
    parse_lock,
    read_deps,
    read_metrics,
    read_outs,
    read_params,
    wanted_paths,
)

__all__ = [
    "CollectOptions",
    "ExpData",
    "ExpRange",
    "ExpState",
    "ExternalExperiment",
    "collect_states",
    "register_entry_source",
    "states_to_json",
]

WORKSPACE = "workspace"
# The order DVC lists a baseline's experiments in: running, done, queued, failed.
_STATE_ORDER = ("Running", SUCCESS, "Queued", "Failed")
_MAX_CHAIN = 1000


@dataclass(frozen=True)
class CollectOptions:
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


EntrySource = Callable[[Repo, Git, Sequence[str]], Iterable[ExternalExperiment]]
_ENTRY_SOURCES: list[EntrySource] = []


def register_entry_source(source: EntrySource) -> None:
    """Add a provider of queued/running/failed experiments for these baselines."""
    if source not in _ENTRY_SOURCES:
        _ENTRY_SOURCES.append(source)


# --- baselines ---------------------------------------------------------------------------


@dataclass(frozen=True)
class RefState:
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
    repo: Repo, options: CollectOptions = CollectOptions(), *, git: Git | None = None
) -> list[ExpState]:
    """The workspace and every selected baseline with its experiments.

    Raises :class:`RevisionNotFoundError` for a ``--rev`` that names nothing. A
    repository without commits gives ``[]``, as DVC does.
    """
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
    cached = showcache.load(repo)
    prefix = _prefix(repo, git)
    with LazyReader(git) as reader:
        commits = {
            sha: CommitInfo("", tuple(cached[sha]["parents"]), 0) for sha in wanted if sha in cached
        }
        commits.update(read_commits(reader, (sha for sha in wanted if sha not in commits)))
        chains = _chains(reader, tips, commits, cached)
        every = list(dict.fromkeys([*wanted, *(s for c in chains.values() for s in c)]))
        # As DVC: baselines are always read whole (its collect_rev gets no param_deps for
        # them), experiments honour --param-deps; only whole results are cached.
        whole = [s for s in every if s in baselines or not options.param_deps]
        datas = {s: (ExpData.from_dict(cached[s]["data"]), None) for s in whole if s in cached}
        todo = [s for s in whole if s not in cached]
        datas.update(_collect_commits(repo, reader, commits, todo, False, prefix))
        if options.param_deps:
            others = [s for s in every if s not in datas]
            # Commits known from the cache only have their parents: read them.
            commits.update(read_commits(reader, (s for s in others if not commits[s].tree)))
            datas.update(_collect_commits(repo, reader, commits, others, True, prefix))
    new = {
        sha: {"parents": list(commits[sha].parents), "data": data.to_dict()}
        for sha in todo
        if sha in commits
        for data, _ in [datas[sha]]
        if data is not None and showcache.is_complete(data.to_dict())
    }
    showcache.store(repo, cached, new)

    result: list[ExpState] = []
    if not options.hide_workspace:
        result.append(collect_workspace(repo, param_deps=options.param_deps))
    for baseline in baselines:
        data, error = datas.get(baseline, (None, None))
        ranges = [
            _ref_range(name, chains.get(sha, [sha]), datas) for name, sha in tips.get(baseline, [])
        ]
        ranges.extend(_external_range(e, datas) for e in external if e.baseline == baseline)
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


def _prefix(repo: Repo, git: Git) -> str:
    """The project's folder inside the Git work tree: ``""`` or ``"sub/dir/"``."""
    rel = os.path.relpath(repo.root, git.root).replace(os.sep, "/")
    return "" if rel == "." else f"{rel}/"


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
    for source in _ENTRY_SOURCES:
        for entry in source(repo, git, baselines):
            if options.hide_queued and entry.state == "Queued":
                continue
            if options.hide_failed and entry.state == "Failed":
                continue
            found.append(entry)
    return found


def _chains(
    reader: Reader,
    tips: Mapping[str, list],
    commits: dict[str, CommitInfo],
    cached: Mapping[str, dict[str, Any]],
) -> dict[str, list[str]]:
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
            info = commits.get(current)
            parent = info.parents[0] if info and info.parents else None
            if parent is None or parent == baseline:
                continue
            chains[tip].append(parent)
            following[tip] = (parent, baseline)
        for sha, _ in following.values():
            if sha in cached and sha not in commits:
                commits[sha] = CommitInfo("", tuple(cached[sha]["parents"]), 0)
        missing = [c for c, _ in following.values() if c not in commits]
        commits.update(read_commits(reader, missing))
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


def _external_range(entry: ExternalExperiment, datas: Mapping) -> ExpRange:
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


def _collect_commits(
    repo: Repo,
    reader: Reader,
    commits: Mapping[str, CommitInfo],
    shas: Sequence[str],
    param_deps: bool,
    prefix: str,
) -> dict[str, tuple[ExpData | None, dict[str, str] | None]]:
    """Data of each commit, every file read in a few batches over all of them."""
    known = [sha for sha in shas if sha in commits]
    roots = {sha: commits[sha].tree for sha in known}
    if prefix:
        # A DVC project in a sub-folder of the Git repository: start from its tree.
        objects = reader.read([f"{sha}:{prefix.rstrip('/')}" for sha in known])
        roots = {s: o.sha for s, o in zip(known, objects, strict=True) if o and o.kind == "tree"}
    files = find_pipeline_files(reader, roots)
    facts = load_facts(reader, files, prefix=prefix)
    requests = {
        sha: wanted_paths(f, param_deps=param_deps)
        for sha, f in facts.items()
        if isinstance(f, PipelineFacts)
    }
    contents = fetch_files(reader, requests, prefix=prefix)
    cached = CachedReader(os.fspath(repo.cache_dir / "files" / "md5"))
    result: dict[str, tuple[ExpData | None, dict[str, str] | None]] = {}
    for sha in known:
        if sha not in files:
            result[sha] = (None, {"type": "FileNotFoundError", "msg": f"no '{prefix}' here"})
            continue
        stamp = datetime.fromtimestamp(commits[sha].timestamp)  # local and naive, as DVC
        fact = facts[sha]
        if not isinstance(fact, PipelineFacts):
            result[sha] = (None, fact)
            continue
        root = files[sha].root.get("params.yaml")
        has_default = root is not None and root.is_file
        result[sha] = _assemble(
            sha, stamp, fact, contents[sha], cached, has_default=has_default, param_deps=param_deps
        )
    return result


def _assemble(
    rev: str,
    stamp: datetime | None,
    facts: PipelineFacts,
    files: Mapping[str, Content],
    cached: CachedReader,
    *,
    has_default: bool,
    param_deps: bool,
) -> tuple[ExpData | None, dict[str, str] | None]:
    try:
        locks = {}
        for path in facts.lockfiles:
            blob = files.get(path)
            if isinstance(blob, Blob):
                locks[path] = parse_lock(path, blob)
    except (JupyterExpError, ValueError) as exc:
        return None, error_dict(exc)
    data = ExpData(
        rev=rev,
        timestamp=stamp,
        params=read_params(facts, files, has_default=has_default, param_deps=param_deps),
        metrics=read_metrics(facts, files, locks, cached),
        deps=read_deps(facts, locks),
        outs=read_outs(facts, locks),
    )
    return data, None


# --- the workspace -----------------------------------------------------------------------


def collect_workspace(repo: Repo, *, param_deps: bool = False) -> ExpState:
    """The ``workspace`` row: files as they are on disk, hashes from ``dvc.lock``."""
    try:
        facts = PipelineFacts.from_index(Index.load(repo))
    except JupyterExpError as exc:
        return ExpState(rev=WORKSPACE, error=error_dict(exc))
    files: dict[str, Content] = {}
    for path in wanted_paths(facts, param_deps=param_deps):
        _read_disk(repo, path, files)
    cached = CachedReader(os.fspath(repo.cache_dir / "files" / "md5"))
    has_default = os.path.isfile(repo.abspath("params.yaml"))
    data, error = _assemble(
        WORKSPACE, None, facts, files, cached, has_default=has_default, param_deps=param_deps
    )
    return ExpState(rev=WORKSPACE, data=data, error=error)


def _read_disk(repo: Repo, path: str, files: dict[str, Content]) -> None:
    full = repo.abspath(path)
    if full.is_dir():
        found = []
        for folder, dirs, names in os.walk(full):
            dirs.sort()
            rel = os.path.relpath(folder, repo.root).replace(os.sep, "/")
            found.extend(f"{rel}/{name}" for name in sorted(names))
        files[path] = Listing(tuple(sorted(found)))
        for child in found:
            _read_disk(repo, child, files)
        return
    try:
        files[path] = Blob(full.read_bytes())
    except OSError:
        files[path] = None


# The queue's entries (Queued, Running, Failed) appear as rows of their own.
register_entry_source(exp_show_entries)
