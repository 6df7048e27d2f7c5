"""The one place that talks to Git.

Everything here is git plumbing (``update-ref``, ``commit-tree``, ``cat-file --batch``,
``for-each-ref``...) run as ``git`` subprocesses, so we never touch the user's ``HEAD``,
index or branches unless asked to, and refs move atomically with an expected old value.

Why not GitPython, the package first chosen for this layer: for these commands it shells
out to the same ``git`` binary, and importing it costs ~90 ms, which every ``exp``
command would pay. Talking to ``git`` directly in this one module keeps the layer small
and the commands fast; nothing else in the code base runs git.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ..errors import GitError, NotInRepositoryError, RevisionNotFoundError

ZERO_SHA = "0" * 40


@dataclass(frozen=True)
class RefInfo:
    """A ref with the commit it points to and that commit's basic facts."""

    ref: str
    sha: str
    parents: tuple[str, ...]
    timestamp: int
    subject: str


@dataclass(frozen=True)
class TreeEntry:
    """One path in a commit's tree."""

    path: str
    mode: str
    sha: str
    kind: str  # "blob", "tree" or "commit"


class Git:
    """A Git work tree rooted at ``root`` (the folder that holds ``.git``)."""

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self.root = Path(root).resolve()
        if not (self.root / ".git").exists():
            raise NotInRepositoryError(str(root))
        self._git_dir: Path | None = None

    @classmethod
    def init(cls, root: str | os.PathLike[str]) -> Git:
        """``git init`` a new repository at ``root`` and return it."""
        done = subprocess.run(
            ["git", "init", "-q", str(root)], capture_output=True, text=True, check=False
        )
        if done.returncode != 0:
            raise GitError(["init"], done.stderr, done.returncode)
        return cls(root)

    def config_get(self, key: str) -> str | None:
        """A git config value as Git resolves it (repo, user, system), None if unset."""
        value = self.run("config", "--get", key, check=False).strip()
        return value or None

    def config_set(self, key: str, value: str) -> None:
        """Set ``key`` in this repository's own config."""
        self.run("config", key, value)

    def commit_all(self, message: str) -> str:
        """Stage everything not ignored, commit it on the current branch, return the sha."""
        self.run("add", "-A")
        self.run("commit", "-q", "--allow-empty", "--no-verify", "-m", message)
        return self.run("rev-parse", "HEAD").strip()

    @classmethod
    def find(cls, start: str | os.PathLike[str]) -> Git:
        """The Git work tree containing ``start``."""
        here = Path(start).resolve()
        for folder in (here, *here.parents):
            if (folder / ".git").exists():
                return cls(folder)
        raise NotInRepositoryError(str(start))

    # --- running git ---------------------------------------------------------------------

    def run(
        self,
        *args: str,
        input: bytes | None = None,
        env: Mapping[str, str] | None = None,
        check: bool = True,
    ) -> str:
        """Run ``git ARGS`` in the work tree and return stdout as text."""
        return self.run_bytes(*args, input=input, env=env, check=check).decode(
            "utf-8", "surrogateescape"
        )

    def run_bytes(
        self,
        *args: str,
        input: bytes | None = None,
        env: Mapping[str, str] | None = None,
        check: bool = True,
    ) -> bytes:
        """Run ``git ARGS`` and return raw stdout; raise :class:`GitError` on failure."""
        full_env = {**os.environ, **(env or {}), "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"}
        done = subprocess.run(
            ["git", *args],
            cwd=self.root,
            input=input,
            env=full_env,
            capture_output=True,
            check=False,
        )
        if check and done.returncode != 0:
            raise GitError(args, done.stderr.decode("utf-8", "replace"), done.returncode)
        return done.stdout

    @property
    def git_dir(self) -> Path:
        """The repository's ``.git`` directory (resolved for worktrees)."""
        if self._git_dir is None:
            self._git_dir = Path(self.run("rev-parse", "--absolute-git-dir").strip())
        return self._git_dir

    # --- revisions -----------------------------------------------------------------------

    def head(self) -> str | None:
        """The commit ``HEAD`` points to, or None in a repository without commits."""
        out = self.run("rev-parse", "--verify", "-q", "HEAD^{commit}", check=False).strip()
        return out or None

    def current_branch(self) -> str | None:
        """Short name of the checked-out branch, None when detached."""
        out = self.run("symbolic-ref", "-q", "--short", "HEAD", check=False).strip()
        return out or None

    def resolve(self, rev: str) -> str:
        """Full sha of the commit ``rev`` names; :class:`RevisionNotFoundError` if none."""
        if rev.startswith("-"):
            raise RevisionNotFoundError(rev)
        out = self.run("rev-parse", "--verify", "-q", f"{rev}^{{commit}}", check=False).strip()
        if not out:
            raise RevisionNotFoundError(rev)
        return out

    def try_resolve(self, rev: str) -> str | None:
        """Like :meth:`resolve`, None instead of an error."""
        try:
            return self.resolve(rev)
        except RevisionNotFoundError:
            return None

    def is_valid_ref_name(self, ref: str) -> bool:
        """True when Git accepts ``ref`` as a full ref name."""
        done = subprocess.run(
            ["git", "check-ref-format", ref], cwd=self.root, capture_output=True, check=False
        )
        return done.returncode == 0

    def branches(self) -> dict[str, str]:
        """Local branches: short name -> sha."""
        return {r.ref.removeprefix("refs/heads/"): r.sha for r in self.refs("refs/heads/")}

    def tags(self) -> dict[str, str]:
        """Tags: short name -> commit sha (annotated tags peeled)."""
        out = self.run(
            "for-each-ref",
            "--format=%(refname:short)%00%(objectname)%00%(*objectname)",
            "refs/tags/",
        )
        tags = {}
        for line in out.splitlines():
            name, sha, peeled = line.split("\0")
            tags[name] = peeled or sha
        return tags

    def log(self, rev: str, limit: int) -> list[str]:
        """Up to ``limit`` first-parent commits from ``rev`` (newest first)."""
        out = self.run("rev-list", "--first-parent", f"--max-count={limit}", rev)
        return out.split()

    def all_commits(self) -> list[str]:
        """Every commit reachable from branches and tags."""
        return self.run("rev-list", "--branches", "--tags").split()

    # --- refs ----------------------------------------------------------------------------

    def refs(self, prefix: str) -> list[RefInfo]:
        """Refs under ``prefix`` with their commits' parents, time and subject, one call."""
        fmt = "%(refname)%00%(objectname)%00%(parent)%00%(committerdate:unix)%00%(subject)"
        out = self.run("for-each-ref", f"--format={fmt}", prefix)
        result = []
        for line in out.splitlines():
            ref, sha, parents, stamp, subject = line.split("\0", 4)
            result.append(RefInfo(ref, sha, tuple(parents.split()), int(stamp or 0), subject))
        return result

    def ref_sha(self, ref: str) -> str | None:
        """The sha ``ref`` points to, None if it does not exist."""
        out = self.run("rev-parse", "--verify", "-q", ref, check=False).strip()
        return out or None

    def update_ref(
        self, ref: str, sha: str, *, old: str | None = None, message: str | None = None
    ) -> None:
        """Point ``ref`` at ``sha`` atomically.

        ``old``: the sha the ref must have now; ``ZERO_SHA`` means it must not exist.
        Git refuses (and we raise :class:`GitError`) if another writer got there first.
        """
        args = ["update-ref"]
        if message:
            args += ["-m", message]
        args += [ref, sha]
        if old is not None:
            args.append(old)
        self.run(*args)

    def delete_ref(self, ref: str, *, old: str | None = None) -> None:
        """Delete ``ref`` (only if it still points to ``old`` when given)."""
        args = ["update-ref", "-d", ref]
        if old is not None:
            args.append(old)
        self.run(*args)

    def set_symbolic_ref(self, ref: str, target: str) -> None:
        """Make ``ref`` a symbolic ref to ``target``."""
        self.run("symbolic-ref", ref, target)

    # --- reading commits -----------------------------------------------------------------

    def read_files(self, rev: str, paths: Iterable[str]) -> dict[str, bytes]:
        """Contents of ``paths`` at ``rev`` (paths missing there are left out), one process."""
        wanted = list(dict.fromkeys(paths))
        if not wanted:
            return {}
        request = "".join(f"{rev}:{p}\n" for p in wanted).encode()
        out = self.run_bytes("cat-file", "--batch", input=request)
        return dict(_parse_batch(wanted, out))

    def read_many(self, requests: Sequence[tuple[str, str]]) -> dict[tuple[str, str], bytes]:
        """Contents of many ``(rev, path)`` pairs in a single ``cat-file --batch``."""
        if not requests:
            return {}
        body = "".join(f"{rev}:{path}\n" for rev, path in requests).encode()
        out = self.run_bytes("cat-file", "--batch", input=body)
        return dict(_parse_batch(list(requests), out))

    def tree(self, rev: str, *, recursive: bool = True) -> list[TreeEntry]:
        """Entries of ``rev``'s tree (files only when recursive)."""
        args = ["ls-tree", "-z", "--full-tree"]
        if recursive:
            args.append("-r")
        out = self.run(*args, rev)
        entries = []
        for item in out.split("\0"):
            if not item:
                continue
            meta, path = item.split("\t", 1)
            mode, kind, sha = meta.split()
            entries.append(TreeEntry(path, mode, sha, kind))
        return entries

    def changed_paths(self, a: str, b: str) -> list[str]:
        """Paths that differ between two commits."""
        out = self.run("diff", "--name-only", "-z", "--no-renames", a, b)
        return [p for p in out.split("\0") if p]

    def commit_time(self, rev: str) -> int:
        """Committer time of ``rev`` (unix seconds)."""
        return int(self.run("log", "-1", "--format=%ct", rev).strip())

    # --- the workspace -------------------------------------------------------------------

    def dirty_paths(self, *, untracked: bool = False) -> list[str]:
        """Tracked paths with uncommitted changes (staged or not), plus untracked ones."""
        args = ["status", "--porcelain=v1", "-z", "--no-renames"]
        args.append("--untracked-files=all" if untracked else "--untracked-files=no")
        out = self.run(*args)
        return [item[3:] for item in out.split("\0") if len(item) > 3]

    def untracked_paths(self) -> list[str]:
        """Files neither tracked nor ignored."""
        out = self.run("ls-files", "-z", "--others", "--exclude-standard")
        return [p for p in out.split("\0") if p]

    def is_tracked(self, path: str) -> bool:
        """True when Git tracks ``path`` (a file, or any file under a folder)."""
        return bool(self.run("ls-files", "-z", "--", path).strip("\0"))

    @contextmanager
    def temporary_index(self, *, from_index: bool = True) -> Iterator[dict[str, str]]:
        """An env pointing git at a scratch index (a copy of the real one by default).

        Lets us build commits of the workspace without touching the user's index.
        """
        folder = Path(tempfile.mkdtemp(prefix="jupyter-exp-index-", dir=self.git_dir))
        index = folder / "index"
        real = self.git_dir / "index"
        if from_index and real.exists():
            # copy2 keeps the index's mtime: with a fresh mtime Git's racy-file check
            # would trust stat data and miss same-size edits made in the same second.
            shutil.copy2(real, index)
        try:
            yield {"GIT_INDEX_FILE": str(index)}
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def snapshot(
        self,
        *,
        message: str,
        parent: str | None,
        add_paths: Sequence[str] = (),
        include_untracked: bool = False,
        author_env: Mapping[str, str] | None = None,
    ) -> str:
        """Commit the workspace as it is, without touching ``HEAD``, index or branches.

        The commit holds what is staged, every tracked file's current content, the
        ``add_paths`` (when they exist and are not ignored) and, with
        ``include_untracked``, every untracked file that is not ignored.
        """
        with self.temporary_index() as env:
            if parent is None:
                self.run("read-tree", "--empty", env=env)
            self.run("add", "-u", "--", ".", env=env)
            existing = [p for p in add_paths if (self.root / p).exists()]
            if existing:
                self.run("add", "--ignore-errors", "--", *existing, env=env, check=False)
            if include_untracked:
                self.run("add", "-A", "--", ".", env=env)
            tree = self.run("write-tree", env=env).strip()
        args = ["commit-tree", tree, "-m", message]
        if parent:
            args[2:2] = ["-p", parent]
        return self.run(*args, env=author_env).strip()

    def restore_tree(self, rev: str, *, paths: Sequence[str] = ()) -> None:
        """Write ``rev``'s version of tracked files into the workspace and index.

        Files tracked at ``HEAD`` but absent from ``rev`` are removed. ``HEAD`` and the
        current branch do not move.
        """
        head = self.head()
        if head:
            gone = set(self.tree_paths(head)) - set(self.tree_paths(rev))
            for path in sorted(gone):
                target = self.root / path
                if target.is_file() or target.is_symlink():
                    target.unlink()
        self.run("checkout", rev, "--", *(paths or ["."]))
        # Leave the changes unstaged, as `dvc exp apply` does.
        self.run("reset", "-q", "--", ".", check=False)

    def tree_paths(self, rev: str) -> list[str]:
        """Every file path in ``rev``."""
        out = self.run("ls-tree", "-r", "-z", "--name-only", "--full-tree", rev)
        return [p for p in out.split("\0") if p]

    def create_branch(self, name: str, sha: str) -> None:
        """Create branch ``name`` at ``sha``; refuse if it exists."""
        if not self.is_valid_ref_name(f"refs/heads/{name}"):
            raise RevisionNotFoundError(name, kind="branch name")
        self.update_ref(f"refs/heads/{name}", sha, old=ZERO_SHA)

    # --- remotes -------------------------------------------------------------------------

    def remotes(self) -> list[str]:
        """Configured remote names."""
        return self.run("remote").split()

    def check_remote(self, remote: str) -> None:
        """Raise :class:`RevisionNotFoundError` unless ``remote`` is a remote or a URL/path."""
        if remote in self.remotes():
            return
        if "://" in remote or remote.startswith("git@") or Path(remote).exists():
            return
        raise RevisionNotFoundError(remote, kind="git remote")

    def push(self, remote: str, refspecs: Sequence[str], *, force: bool = False) -> None:
        """``git push REMOTE REFSPEC...``."""
        args = ["push", "--porcelain", remote, *refspecs]
        if force:
            args.insert(1, "--force")
        self.run(*args)

    def fetch(self, remote: str, refspecs: Sequence[str], *, force: bool = False) -> None:
        """``git fetch REMOTE REFSPEC...`` straight into the same local refs."""
        args = ["fetch", "--no-tags", "--no-write-fetch-head", remote, *refspecs]
        if force:
            args.insert(1, "--force")
        self.run(*args)

    def remote_refs(self, remote: str, prefix: str) -> dict[str, str]:
        """Refs under ``prefix`` on ``remote``: ref -> sha."""
        out = self.run("ls-remote", remote, f"{prefix}*")
        refs = {}
        for line in out.splitlines():
            sha, ref = line.split("\t", 1)
            refs[ref] = sha
        return refs

    # --- exp show / list -----------------------------------------------------------------

    def ref_commits(self, *prefixes: str) -> tuple[dict[str, str], str | None]:
        """Refs under ``prefixes`` -> the commit each names (annotated tags peeled), and
        the checked-out branch's ref (None when detached or not listed): one call.
        """
        fmt = "--format=%(HEAD)%00%(refname)%00%(objectname)%00%(*objectname)"
        out = self.run("for-each-ref", fmt, *prefixes)
        found, current = {}, None
        for line in out.splitlines():
            mark, ref, sha, peeled = line.split("\0")
            found[ref] = peeled or sha
            if mark == "*":
                current = ref
        return found, current

    def reachable_commits(self) -> list[str]:
        """Commits reachable from ``HEAD``, branches, remote branches and tags, newest first.

        What DVC's ``--all-commits`` walks (scmrepo's ``list_all_commits``).
        """
        out = self.run("rev-list", "--date-order", "HEAD", "--branches", "--remotes", "--tags")
        return out.split()

    def object_reader(self) -> ObjectReader:
        """A running ``git cat-file --batch`` to read many objects over one process.

        Use as a context manager; see :class:`ObjectReader`.
        """
        return ObjectReader(self)

    # --- exp diff / apply / remove / push / pull -----------------------------------------

    def hash_paths(self, paths: Sequence[str]) -> dict[str, str]:
        """Blob sha Git would record for each existing workspace file (nothing is written).

        Git's filters (``core.autocrlf``, clean filters) apply as they would on ``add``;
        a symlink hashes to its target text, as Git stores it. Missing paths are left out.
        """
        files, links = [], {}
        for path in dict.fromkeys(paths):
            full = self.root / path
            if full.is_symlink():
                target = os.fsencode(os.readlink(full))
                links[path] = _blob_sha(target)
            elif full.is_file():
                files.append(path)
        result = dict(links)
        if files:
            body = "".join(f"{p}\n" for p in files).encode()
            out = self.run("hash-object", "--stdin-paths", input=body).split()
            result.update(zip(files, out, strict=True))
        return result

    def stash_commit(
        self,
        message: str,
        *,
        include_untracked: bool = True,
        force_paths: Sequence[str] = (),
        always: bool = False,
    ) -> str | None:
        """Save the workspace as ``git stash push -u`` would, touching nothing.

        The commit has ``HEAD``, an index commit and (when there are untracked files) an
        untracked-files commit as parents, so ``git stash apply <sha>`` restores it. The
        untracked files saved are all of them (``include_untracked``) plus the files named
        in ``force_paths`` (ignored ones too). Returns None when there is nothing to save
        (unless ``always``) or no ``HEAD``.
        """
        head = self.head()
        if head is None:
            return None
        branch = self.current_branch() or "(no branch)"
        about = self.run("log", "-1", "--format=%h %s", head).strip()
        head_tree = self.run("rev-parse", f"{head}^{{tree}}").strip()
        index_tree = self.run("write-tree").strip()
        with self.temporary_index() as env:
            self.run("add", "-u", "--", ".", env=env)
            work_tree = self.run("write-tree", env=env).strip()
        extra = [
            p
            for p in dict.fromkeys(
                [*(self.untracked_paths() if include_untracked else []), *force_paths]
            )
            if (self.root / p).exists() or (self.root / p).is_symlink()
        ]
        untracked = None
        if extra:
            with self.temporary_index(from_index=False) as env:
                self.run("read-tree", "--empty", env=env)
                spec = "".join(f"{p}\0" for p in extra).encode()
                self.run(
                    "add",
                    "-f",
                    "--pathspec-from-file=-",
                    "--pathspec-file-nul",
                    input=spec,
                    env=env,
                )
                tree = self.run("write-tree", env=env).strip()
            untracked = self.run(
                "commit-tree", tree, "-m", f"untracked files on {branch}: {about}"
            ).strip()
        clean = untracked is None and index_tree == head_tree and work_tree == head_tree
        if clean and not always:
            return None
        index = self.run(
            "commit-tree", index_tree, "-p", head, "-m", f"index on {branch}: {about}"
        ).strip()
        parents = ["-p", head, "-p", index] + (["-p", untracked] if untracked else [])
        return self.run("commit-tree", work_tree, *parents, "-m", message).strip()

    def set_ref_logged(self, ref: str, sha: str, message: str) -> None:
        """Point ``ref`` at ``sha`` and record it in the ref's reflog (created if needed)."""
        self.run("update-ref", "--create-reflog", "-m", message, ref, sha)

    def delete_refs(self, refs: Mapping[str, str]) -> None:
        """Delete every ``ref -> expected old sha`` in one atomic transaction.

        If any ref moved meanwhile, Git refuses the whole transaction (GitError).
        """
        if not refs:
            return
        body = "".join(f"delete {ref}\0{old}\0" for ref, old in refs.items()).encode()
        self.run("update-ref", "--stdin", "-z", input=body)

    def push_refspecs(
        self, remote: str, refspecs: Sequence[str], *, force: bool = False
    ) -> dict[str, str]:
        """``git push --porcelain``: the status of each destination ref.

        Status is ``"new"``, ``"updated"``, ``"deleted"``, ``"up_to_date"`` or
        ``"rejected"`` (a non-fast-forward without ``force``). Raises :class:`GitError`
        when the push itself fails (remote unreachable...).
        """
        if not refspecs:
            return {}
        args = ["push", "--porcelain", *(["--force"] if force else []), remote, *refspecs]
        done = subprocess.run(
            ["git", *args],
            cwd=self.root,
            capture_output=True,
            check=False,
            env={**os.environ, "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"},
        )
        kinds = {" ": "updated", "+": "updated", "*": "new", "-": "deleted", "=": "up_to_date"}
        result = {}
        for line in done.stdout.decode("utf-8", "replace").splitlines():
            parts = line.split("\t")
            if len(parts) >= 2 and len(parts[0]) == 1 and ":" in parts[1]:
                result[parts[1].rsplit(":", 1)[1]] = kinds.get(parts[0], "rejected")
        if done.returncode != 0 and not result:
            raise GitError(args, done.stderr.decode("utf-8", "replace"), done.returncode)
        return result

    def fetch_refspecs(self, remote: str, refspecs: Sequence[str]) -> None:
        """``git fetch REMOTE SRC:DST...``; refs that would not fast-forward are left as is.

        Raises :class:`GitError` when the fetch fails for another reason.
        """
        if not refspecs:
            return
        args = ["fetch", "--no-tags", "--no-write-fetch-head", remote, *refspecs]
        try:
            self.run(*args)
        except GitError as exc:
            if "[rejected]" not in exc.stderr:
                raise

    # --- recording experiments (exp run / exp save) --------------------------------------

    def tree_of(self, rev: str) -> str:
        """The sha of commit ``rev``'s tree."""
        return self.run("rev-parse", "--verify", f"{rev}^{{tree}}").strip()

    def ref_trees(self, prefix: str) -> dict[str, tuple[str, str]]:
        """Refs under ``prefix``: ref -> (commit sha, tree sha), in one call."""
        out = self.run("for-each-ref", "--format=%(refname)%00%(objectname)%00%(tree)", prefix)
        found = {}
        for line in out.splitlines():
            ref, sha, tree = line.split("\0")
            found[ref] = (sha, tree)
        return found

    def workspace_tree(
        self, *, add_paths: Sequence[str] = (), force_paths: Sequence[str] = ()
    ) -> str:
        """The tree :meth:`snapshot` would commit, written without making a commit.

        Staged files, every tracked file's current content, the ``add_paths`` that exist
        and are not ignored, and the ``force_paths`` even when ignored (``git add -f``).
        The user's index is not touched.
        """
        with self.temporary_index() as env:
            self.run("add", "-u", "--", ".", env=env)
            existing = [p for p in add_paths if os.path.lexists(self.root / p)]
            for flag, paths, check in (
                ("--ignore-errors", existing, False),
                ("-f", force_paths, True),
            ):
                if paths:  # --ignore-errors: ignored paths are skipped, the others added
                    spec = "".join(f"{p}\0" for p in paths).encode()
                    args = ("add", flag, "--pathspec-from-file=-", "--pathspec-file-nul")
                    self.run(*args, input=spec, env=env, check=check)
            return self.run("write-tree", env=env).strip()

    def commit_tree(self, tree: str, parents: Sequence[str], message: str) -> str:
        """Make a commit of ``tree`` with ``parents``; no ref moves."""
        args = ["commit-tree", tree, "-m", message]
        for parent in parents:
            args += ["-p", parent]
        return self.run(*args).strip()

    def add_worktree(self, path: str | os.PathLike[str], rev: str) -> None:
        """Check ``rev`` out in a new detached worktree at ``path``."""
        self.run("worktree", "add", "--detach", "--quiet", os.fspath(path), rev)

    def remove_worktree(self, path: str | os.PathLike[str]) -> None:
        """Remove the worktree at ``path`` with everything in it, and Git's record of it."""
        self.run("worktree", "remove", "--force", "--force", os.fspath(path), check=False)
        if os.path.lexists(path):
            shutil.rmtree(path, ignore_errors=True)
        self.run("worktree", "prune", check=False)

    # --- the experiment queue ------------------------------------------------------------

    def commit_with_files(
        self, base: str, files: Mapping[str, bytes], parents: Sequence[str], message: str
    ) -> str:
        """A commit of ``base``'s tree with ``files`` (path -> content) written over it.

        Built in a scratch index (blobs via ``hash-object -w``); no ref, index or work
        tree changes. A replaced file keeps its mode; a new one is a plain file.
        """
        with self.temporary_index(from_index=False) as env:
            self.run("read-tree", base, env=env)
            listed = self.run("ls-tree", "-z", "--full-tree", base, "--", *files)
            modes = {
                item.split("\t", 1)[1]: item.split(" ", 1)[0] for item in listed.split("\0") if item
            }
            lines = []
            for path, data in files.items():
                sha = self.run("hash-object", "-w", "--stdin", input=data).strip()
                lines.append(f"{modes.get(path, '100644')} {sha}\t{path}\0")
            if lines:
                self.run(
                    "update-index", "-z", "--index-info", input="".join(lines).encode(), env=env
                )
            tree = self.run("write-tree", env=env).strip()
        return self.commit_tree(tree, parents, message)

    # --- checkpoint chains ---------------------------------------------------------------

    def first_parent_chain(self, tip: str, stop: str) -> list[RefInfo]:
        """Commits from ``tip`` down its first parents, not reachable from ``stop``.

        Newest first, one call; each as a :class:`RefInfo` whose ``ref`` is empty. For
        a checkpoint experiment with baseline ``stop``, the chain's last commit has
        ``stop`` as its first parent.
        """
        fmt = "%H%x00%P%x00%ct%x00%s"
        out = self.run(
            "rev-list", "--first-parent", "--no-commit-header", f"--format={fmt}", tip, f"^{stop}"
        )
        chain = []
        for line in out.splitlines():
            sha, parents, stamp, subject = line.split("\0", 3)
            chain.append(RefInfo("", sha, tuple(parents.split()), int(stamp or 0), subject))
        return chain

    def refs_containing(self, sha: str, prefix: str) -> list[str]:
        """Refs under ``prefix`` from which commit ``sha`` is reachable."""
        out = self.run("for-each-ref", "--format=%(refname)", f"--contains={sha}", prefix)
        return out.split()

    def update_refs(self, updates: Sequence[tuple[str, str, str | None]]) -> None:
        """``(ref, new sha, expected old sha or None)`` updates as one atomic transaction."""
        # "update REF NEW [OLD]": an empty OLD would mean "must not exist".
        lines = "".join(
            f"update {ref} {new}{'' if old is None else ' ' + old}\n" for ref, new, old in updates
        )
        self.run("update-ref", "--stdin", input=lines.encode())

    def write_blobs(self, paths: Sequence[str]) -> dict[str, str]:
        """Store the current content of files ``paths`` as blobs; path -> blob sha."""
        if not paths:
            return {}
        spec = "".join(f"{p}\n" for p in paths).encode()
        out = self.run("hash-object", "-w", "--stdin-paths", input=spec)
        return dict(zip(paths, out.split(), strict=True))

    def ignored(self, paths: Sequence[str]) -> set[str]:
        """The ``paths`` Git ignores (``.gitignore`` and friends)."""
        if not paths:
            return set()
        spec = "".join(f"{p}\0" for p in paths).encode()
        out = self.run("check-ignore", "-z", "--stdin", input=spec, check=False)
        return {p for p in out.split("\0") if p}

    def index_tree(
        self,
        index: Path,
        *,
        add_paths: Sequence[str] = (),
        blobs: Mapping[str, tuple[str, str]] | None = None,
        fresh: bool = False,
    ) -> str:
        """:meth:`workspace_tree` through a scratch index file the caller keeps.

        ``fresh`` starts it from the real index plus every tracked file's current
        content; later calls only re-add ``add_paths`` (existing, not ignored), so a
        series of trees of a changing workspace costs two git calls each. ``blobs``
        (path -> (mode, blob sha), see :meth:`write_blobs`) are put in as they are.
        """
        env = {"GIT_INDEX_FILE": str(index)}
        if fresh:
            real = self.git_dir / "index"
            index.parent.mkdir(parents=True, exist_ok=True)
            index.unlink(missing_ok=True)
            if real.exists():
                shutil.copy2(real, index)  # its mtime too: see temporary_index
            self.run("add", "-u", "--", ".", env=env)
        existing = [p for p in add_paths if os.path.lexists(self.root / p)]
        if existing:
            spec = "".join(f"{p}\0" for p in existing).encode()
            args = ("add", "--ignore-errors", "--pathspec-from-file=-", "--pathspec-file-nul")
            self.run(*args, input=spec, env=env, check=False)
        if blobs:
            info = "".join(f"{mode} {sha}\t{path}\0" for path, (mode, sha) in blobs.items())
            self.run("update-index", "-z", "--add", "--index-info", input=info.encode(), env=env)
        return self.run("write-tree", env=env).strip()


def _blob_sha(data: bytes) -> str:
    """The sha Git gives a blob with ``data``."""
    import hashlib

    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def _parse_batch(keys: list, out: bytes) -> Iterator[tuple[object, bytes]]:
    """Split ``cat-file --batch`` output into (key, content) for the objects found."""
    pos = 0
    for key in keys:
        end = out.index(b"\n", pos)
        header = out[pos:end].decode()
        pos = end + 1
        if header.endswith(" missing") or header.endswith(" ambiguous"):
            continue
        size = int(header.rsplit(" ", 1)[1])
        yield key, out[pos : pos + size]
        pos += size + 1


@dataclass(frozen=True)
class GitObject:
    """An object read by :class:`ObjectReader`: its sha, type and raw content."""

    sha: str
    kind: str  # "blob", "tree", "commit" or "tag"
    data: bytes


class ObjectReader:
    """One ``git cat-file --batch`` process serving many requests.

    :meth:`read` takes specs (``<sha>``, ``<rev>:<path>``, ``<rev>^{tree}``...) and
    returns the objects in order, None for what does not exist. Requests go in chunks
    small enough for the pipe buffer, each chunk's answers read before the next is
    written, so neither side can block the other.
    """

    _CHUNK_BYTES = 8192

    def __init__(self, git: Git) -> None:
        env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "LC_ALL": "C"}
        self._proc = subprocess.Popen(
            ["git", "cat-file", "--batch"],
            cwd=git.root,
            env=env,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )

    def __enter__(self) -> ObjectReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def read(self, specs: Sequence[str]) -> list[GitObject | None]:
        """The object each spec names, or None (missing, ambiguous, or a bad spec)."""
        result: list[GitObject | None] = []
        chunk: list[bytes] = []
        size = 0
        for spec in specs:
            line = spec.encode("utf-8", "surrogateescape") + b"\n"
            if b"\n" in line[:-1]:
                raise GitError(["cat-file", "--batch"], f"unreadable object name {spec!r}")
            if chunk and size + len(line) > self._CHUNK_BYTES:
                result.extend(self._exchange(chunk))
                chunk, size = [], 0
            chunk.append(line)
            size += len(line)
        if chunk:
            result.extend(self._exchange(chunk))
        return result

    def _exchange(self, lines: list[bytes]) -> list[GitObject | None]:
        stdin, stdout = self._proc.stdin, self._proc.stdout
        assert stdin is not None and stdout is not None
        try:
            stdin.write(b"".join(lines))
            stdin.flush()
        except BrokenPipeError:
            raise GitError(["cat-file", "--batch"], "git cat-file exited") from None
        found: list[GitObject | None] = []
        for _ in lines:
            header = stdout.readline()
            if not header:
                raise GitError(["cat-file", "--batch"], "git cat-file exited")
            if header.endswith((b" missing\n", b" ambiguous\n")):
                found.append(None)
                continue
            parts = header.split()
            size = int(parts[2])
            data = stdout.read(size)
            stdout.read(1)  # the newline after the content
            found.append(GitObject(parts[0].decode(), parts[1].decode(), data))
        return found

    def close(self) -> None:
        """Stop the process."""
        if self._proc.poll() is None:
            if self._proc.stdin is not None:
                self._proc.stdin.close()
            self._proc.wait()
        if self._proc.stdout is not None:
            self._proc.stdout.close()
