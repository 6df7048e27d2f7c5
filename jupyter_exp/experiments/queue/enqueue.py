"""``exp run --queue``: put experiments (one, or a sweep's combinations) in the queue.

The workspace is committed once, as ``exp run --temp`` would run it (a snapshot whose
parent is ``HEAD``). Each combination of the ``-S`` overrides is then applied to the
params files *of that snapshot* (copies in a scratch folder, never the workspace), and
the result becomes the entry's own commit, kept by ``refs/jupyter-exp/queue/<sha>``.
So edits made after queueing do not leak in, ``exp show`` reads each queued entry's
params from its commit, and every bad override, name or target is refused before any
entry is written.

With ``rev`` (``--queue --rev CHECKPOINT``) the entries start from that checkpoint's
commit instead of the workspace, as ``--temp --rev`` runs do: its params (with the
``-S`` overrides applied), its ``dvc.lock`` and so its cached outputs, which the
checkpoint stages resume from. A single entry continues the experiment whose tip the
checkpoint is (unless ``name`` names another); a sweep's entries, or a checkpoint that is
not a tip, start new experiments branching there.
"""

from __future__ import annotations

import dataclasses
import os
import posixpath
import secrets
import shutil
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ...core.overrides import Override, apply_overrides, expand_sweeps, parse_overrides
from ...core.repo import Repo
from ...core.repro import ReproOptions
from ...errors import ExperimentExistsError, InvalidArgumentError, InvalidExperimentNameError
from ...git import ZERO_SHA, Git
from ..checkpoints import plan_checkpoints
from ..executors.base import ExpJob, fresh_name, git_paths, require_baseline
from ..executors.temp import check_copy_paths, snapshot_workspace
from ..refs import ExpRef, validate_name
from .store import QUEUE_REF_PREFIX, QueueEntry, QueueStore, now

__all__ = ["options_from_entry", "queue_experiments"]

# ReproOptions fields an entry keeps (``interactive`` cannot wait in a queue, ``dry``
# records nothing, so both are refused).
_KEPT = (
    "targets",
    "force",
    "single_item",
    "pipeline",
    "all_pipelines",
    "recursive",
    "downstream",
    "force_downstream",
    "keep_going",
    "ignore_errors",
    "allow_missing",
    "run_cache",
    "env",
)


def queue_experiments(
    repo: Repo,
    options: ReproOptions,
    *,
    params: Sequence[str] = (),
    name: str | None = None,
    message: str | None = None,
    copy_paths: Sequence[str] = (),
    rev: str | None = None,
    reset: bool = False,
) -> list[QueueEntry]:
    """Queue one experiment per combination of the ``-S`` sweeps; return the entries.

    ``name`` names a single experiment, or ``name-1``..``name-N`` for a sweep of N.
    ``rev`` names a checkpoint to resume (see the module's doc); it raises
    :class:`InvalidArgumentError` when no stage has a checkpoint output or with
    ``reset`` (queued runs start over without ``rev``), and
    :class:`ExperimentNotFoundError` when it names nothing.
    Raises :class:`InvalidArgumentError` (``--dry``/``--interactive``, bad ``-C``),
    override, params and pipeline errors, :class:`InvalidExperimentNameError` and
    :class:`ExperimentExistsError` (unless ``options.force``) before queueing anything.
    """
    if options.dry or options.interactive is not None:
        flag = "--dry" if options.dry else "--interactive"
        raise InvalidArgumentError(f"{flag} can't be used with --queue", argument=flag)
    git = Git.find(repo.root)
    baseline = require_baseline(git)
    overrides = parse_overrides(list(params))
    combos = expand_sweeps(overrides)
    store = QueueStore(repo.root)
    resume = None
    if rev is not None:
        resume = plan_checkpoints(repo, git, baseline, temp=True, reset=reset, rev=rev)
    if resume is not None:
        baseline = resume.baseline
    if resume is not None and resume.name and len(combos) == 1 and name in (None, resume.name):
        names = [(resume.name, name is not None)]  # appended to the experiment it is the tip of
    else:
        names = _names(git, store, baseline, name, len(combos), options.force)
    copies = check_copy_paths(repo, tuple(copy_paths))
    probe = ExpJob(
        baseline=baseline,
        name="",
        explicit=False,
        force=options.force,
        message=message,
        overrides=tuple(overrides),
        options=options,
    )
    base = resume.parent if resume is not None else snapshot_workspace(repo, git, probe, copies)
    files = _params_texts(repo, git, base, overrides)

    commits = []
    for (exp_name, _), combo in zip(names, combos, strict=True):
        changed = _apply(files, combo)
        contents = {p: text.encode("utf-8") for p, text in changed.items()}
        note = f"jupyter-exp: queued experiment {exp_name}\n\n{secrets.token_hex(8)}"
        gitfiles = dict(zip(git_paths(git, repo, list(contents)), contents.values(), strict=True))
        commits.append((git.commit_with_files(base, gitfiles, [baseline], note), combo, changed))

    copy_from = _save_copies(repo, store, copies)
    kept = {k: _jsonable(getattr(options, k)) for k in _KEPT}
    start = now()
    entries = []
    for position, ((exp_name, explicit), (sha, combo, changed)) in enumerate(
        zip(names, commits, strict=True)
    ):
        entry = QueueEntry(
            id=sha,
            name=exp_name,
            explicit=explicit,
            baseline=baseline,
            created=start + position * 1e-6,  # keeps a sweep's order
            options=kept,
            overrides=[str(o) for o in combo],
            changed_files=sorted(changed),
            message=message,
            copy_paths=list(copies),
            copy_from=copy_from,
            checkpoint=dataclasses.asdict(resume) if resume is not None else None,
        )
        git.update_ref(QUEUE_REF_PREFIX + sha, sha, old=ZERO_SHA)
        with store.locked():
            store.write(entry)
        entries.append(entry)
    return entries


def options_from_entry(entry: QueueEntry, env: dict[str, str]) -> ReproOptions:
    """The :class:`ReproOptions` an entry runs with, ``env`` added to its own."""
    kept = {k: v for k, v in entry.options.items() if k in _KEPT}
    kept["targets"] = tuple(kept.get("targets", ()))
    kept["env"] = {**kept.get("env", {}), **env}
    return dataclasses.replace(ReproOptions(), **kept)


def _jsonable(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


# --- names -----------------------------------------------------------------------------------


def _names(
    git: Git, store: QueueStore, baseline: str, name: str | None, count: int, force: bool
) -> list[tuple[str, bool]]:
    """``(name, chosen by the user)`` for each experiment to queue, checked now."""
    taken: set[str] = set()
    if store.dir.is_dir():
        taken = {e.name for e in store.entries() if e.baseline == baseline and not e.done}
    if name is None:
        found: list[tuple[str, bool]] = []
        for _ in range(count):
            fresh = fresh_name(git, baseline)
            while fresh in taken:
                fresh = fresh_name(git, baseline)
            taken.add(fresh)
            found.append((fresh, False))
        return found
    wanted = [name] if count == 1 else [f"{name}-{i}" for i in range(1, count + 1)]
    for item in wanted:
        validate_name(item)
        ref = ExpRef(baseline, item).ref
        if not git.is_valid_ref_name(ref):
            raise InvalidExperimentNameError(item, "Git does not accept it in a ref name")
        if item in taken or (not force and git.ref_sha(ref) is not None):
            raise ExperimentExistsError(item)
    return [(item, True) for item in wanted]


# --- params of the snapshot ------------------------------------------------------------------


def _override_file(override: Override) -> str:
    name = override.file if override.file is not None else "params.yaml"
    rel = posixpath.normpath(name.replace(os.sep, "/"))
    if not name or os.path.isabs(name) or rel == ".." or rel.startswith("../"):
        raise InvalidArgumentError(
            f"params file '{name}' must be a path inside the project", argument=str(override)
        )
    return rel


def _params_texts(
    repo: Repo, git: Git, commit: str, overrides: Sequence[Override]
) -> dict[str, str | None]:
    """Repo path -> text at ``commit`` of every params file the overrides name (None: absent)."""
    rels = list(dict.fromkeys(_override_file(o) for o in overrides))
    found = git.read_files(commit, git_paths(git, repo, rels))
    by_git = dict(zip(git_paths(git, repo, rels), rels, strict=True))
    texts: dict[str, str | None] = dict.fromkeys(rels)
    for gpath, data in found.items():
        texts[by_git[gpath]] = data.decode("utf-8")
    return texts


def _apply(files: dict[str, str | None], combo: list[Override]) -> dict[str, str]:
    """Apply one combination to copies of ``files``; the texts of the files it changed."""
    if not combo:
        return {}
    scratch = Path(tempfile.mkdtemp(prefix="jupyter-exp-queue-"))
    try:
        for rel, text in files.items():
            if text is not None:
                target = scratch / rel
                target.parent.mkdir(parents=True, exist_ok=True)
                with open(target, "w", encoding="utf-8", newline="") as fobj:
                    fobj.write(text)
        changed = apply_overrides(Repo(scratch), combo)
        return {rel: (scratch / rel).read_text(encoding="utf-8") for rel in changed}
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _save_copies(repo: Repo, store: QueueStore, copies: Sequence[str]) -> str | None:
    """Copy the ``-C`` paths aside now, so the entries get them as they were."""
    if not copies:
        return None
    folder = store.copies_dir / secrets.token_hex(6)
    for rel in copies:
        src, dest = repo.abspath(rel), folder / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        if src.is_dir():
            shutil.copytree(src, dest, symlinks=True)
        else:
            shutil.copy2(src, dest)
    return str(folder)
