"""``exp apply``: put an experiment's files and outputs into the workspace.

The workspace gets the experiment commit's tracked files, then its cached outputs from
the DVC cache as its ``dvc.lock`` records them; ``HEAD``, the branch and the index stay
as they were (the changes are left unstaged, as ``dvc exp apply`` leaves them).

Nothing the user wrote is lost without a way back:

* uncommitted edits the apply would overwrite (tracked files, untracked or ignored files
  at paths the experiment has, outputs whose content is nowhere in the cache) are a
  :class:`~jupyter_exp.errors.WorkspaceConflictError` unless ``force``;
* before anything changes, the workspace is saved as a commit shaped like ``git stash
  push -u`` under ``refs/exps/apply/stash`` (DVC's ref and message; older saves stay in
  that ref's reflog), and output content found only in the workspace is saved to the
  DVC cache (the commit message lists those paths and hashes). ``git reset --hard &&
  git stash apply refs/exps/apply/stash`` brings the files back, ``dvc checkout`` the
  outputs.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field

from ..core.cache import Cache
from ..core.checkout import checkout
from ..core.hashing import hash_path
from ..core.objects import HashInfo, TreeEntry
from ..core.repo import Repo
from ..core.state import StateDB, state_path
from ..errors import WorkspaceConflictError
from ..git import Git
from .lookup import find_experiment
from .refs import EXEC_APPLY, EXPS_NAMESPACE
from .revision import git_prefix, open_revision

# DVC's refs for the workspace saved by `exp apply` and the HEAD it was on.
APPLY_STASH = f"{EXPS_NAMESPACE}/apply/stash"
APPLY_HEAD = f"{EXPS_NAMESPACE}/apply/ORIG_HEAD"


@dataclass
class ApplyResult:
    """What ``exp apply`` did.

    ``snapshot`` is the commit holding the workspace as it was (None when it had no
    uncommitted changes); ``saved_outputs`` maps outputs whose content was only in the
    workspace to the hash they were saved under in the cache; ``missing`` lists outputs
    of the experiment that are not in the cache (left as they were: pull them first);
    ``in_the_way`` lists files that existed at paths only the experiment tracks (they
    must go before the saved workspace is applied back, see :attr:`restore_hint`).
    """

    name: str
    sha: str
    snapshot: str | None = None
    saved_outputs: dict[str, str] = field(default_factory=dict)
    checked_out: list[str] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    in_the_way: list[str] = field(default_factory=list)

    @property
    def snapshot_ref(self) -> str | None:
        """The ref holding :attr:`snapshot` (``refs/exps/apply/stash``)."""
        return APPLY_STASH if self.snapshot else None

    @property
    def restore_hint(self) -> str | None:
        """The commands that bring the saved workspace back."""
        if not self.snapshot:
            return None
        # Files the experiment added where untracked ones were would block `stash apply`.
        remove = " ".join(shlex.quote(p) for p in self.in_the_way)
        aside = f" && rm -f -- {remove}" if remove else ""
        return f"git reset --hard{aside} && git stash apply {APPLY_STASH} && dvc checkout"


def exp_apply(repo: Repo, git: Git, experiment: str, *, force: bool = False) -> ApplyResult:
    """Apply ``experiment`` (name, ref or sha prefix) to the workspace.

    Raises :class:`ExperimentNotFoundError`, or :class:`WorkspaceConflictError` naming
    the files that hold uncommitted edits the apply would overwrite (unless ``force``);
    in both cases nothing has changed.
    """
    with repo.lock():
        exp = find_experiment(git, experiment)
        with open_revision(repo, git, exp.sha) as view:
            outputs = view.cached_outputs()
        prefix = git_prefix(repo, git)
        conflicts, untracked, in_the_way = _file_conflicts(git, exp.sha)
        cache = Cache(repo)
        with StateDB(state_path(repo.tmp_dir)) as state:
            unsaved = _output_conflicts(repo, cache, outputs, state)
            conflicts += [prefix + path for path in unsaved]
            if conflicts and not force:
                raise WorkspaceConflictError(
                    sorted(conflicts), action=f"applying experiment '{exp.name}'"
                )
            result = ApplyResult(exp.name, exp.sha)
            for path, (info, tree) in unsaved.items():
                cache.save(repo.abspath(path), info, tree)
                result.saved_outputs[path] = info.md5
            result.snapshot = _save_workspace(git, exp.sha, exp.name, untracked, result)
            result.in_the_way = in_the_way if result.snapshot else []
            git.restore_tree(exp.sha)
            link_types = repo.config.link_types
            for path, _out, info in outputs:
                if not cache.has(info):
                    result.missing.append(path)
                    continue
                checkout(cache, info, repo.abspath(path), link_types, state=state)
                result.checked_out.append(path)
        git.update_ref(EXEC_APPLY, exp.sha)
    return result


def _file_conflicts(git: Git, rev: str) -> tuple[list[str], list[str], list[str]]:
    """What restoring ``rev``'s tracked files does to uncommitted work (Git paths).

    Returns the paths whose uncommitted edits would be overwritten or deleted, the
    untracked or ignored files at paths only ``rev`` tracks (they are overwritten, so
    they are saved with the workspace), and the files that will stand in the way of
    applying the saved workspace back (at such paths, or staged new files: the index
    is reset, so they become untracked).
    """
    head = git.head()
    theirs = {e.path: e.sha for e in git.tree(rev) if e.kind == "blob"}
    ours = {e.path: e.sha for e in git.tree(head) if e.kind == "blob"} if head else {}
    dirty = set(git.dirty_paths())
    edited = dirty | set(git.untracked_paths())
    in_the_way = [
        p
        for p in theirs
        if p not in ours and ((git.root / p).exists() or (git.root / p).is_symlink())
    ]
    current = git.hash_paths([*edited, *in_the_way])
    conflicts = set()
    for path in edited:
        if path in theirs:
            if current.get(path) != theirs[path]:
                conflicts.add(path)
        elif path in ours and path in current:
            conflicts.add(path)  # edited here, deleted by the experiment
    untracked = [p for p in in_the_way if p not in dirty]
    # Ignored files (not in `edited`) that the experiment's version would replace.
    conflicts.update(p for p in untracked if current.get(p) != theirs[p])
    # New files staged here end up untracked (the index is reset): in the way too.
    staged_new = [p for p in dirty if p not in ours and p not in theirs and p in current]
    return sorted(conflicts), untracked, sorted({*in_the_way, *staged_new})


def _output_conflicts(
    repo: Repo, cache: Cache, outputs: list, state: StateDB
) -> dict[str, tuple[HashInfo, list[TreeEntry] | None]]:
    """Outputs the checkout would replace whose current content is not in the cache."""
    unsaved = {}
    for path, _out, info in outputs:
        hashed = hash_path(repo, path, state)
        if hashed is None:
            continue
        current, tree = hashed
        if current.md5 == info.md5 or cache.has(current, tree):
            continue
        unsaved[path] = (current, tree)
    return unsaved


def _save_workspace(
    git: Git, rev: str, name: str, untracked: list[str], result: ApplyResult
) -> str | None:
    """Save the workspace under :data:`APPLY_STASH` (None when there is nothing to save)."""
    head = git.head()
    if head is None:
        return None
    branch = git.current_branch() or "(no branch)"
    subject = f"On {branch}: dvc-exp-apply:{head}:{rev}:{name}"
    message = subject
    if result.saved_outputs:
        lines = [f"{path} {md5}" for path, md5 in sorted(result.saved_outputs.items())]
        message += "\n\nOutputs saved to the DVC cache:\n" + "\n".join(lines)
    # Untracked files the apply does not overwrite stay where they are: not saved.
    snapshot = git.stash_commit(
        message,
        include_untracked=False,
        force_paths=untracked,
        always=bool(result.saved_outputs),
    )
    if snapshot is None:
        return None
    git.update_ref(APPLY_HEAD, head)
    git.set_ref_logged(APPLY_STASH, snapshot, subject)
    return snapshot
