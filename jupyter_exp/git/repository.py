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
import subprocess
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import NamedTuple

from ..errors import GitError, NotInRepositoryError, RevisionNotFoundError
from .remotes import RemoteOps
from .workspace import WorkspaceOps


class RefInfo(NamedTuple):
    """A ref with the commit it points to and that commit's basic facts."""

    ref: str
    sha: str
    parents: tuple[str, ...]
    timestamp: int
    subject: str


class TreeEntry(NamedTuple):
    """One path in a commit's tree."""

    path: str
    mode: str
    sha: str
    kind: str  # "blob", "tree" or "commit"


class Git(WorkspaceOps, RemoteOps):
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

    # --- reading commits -----------------------------------------------------------------

    def read_files(self, rev: str, paths: Iterable[str]) -> dict[str, bytes]:
        """Contents of ``paths`` at ``rev`` (paths missing there are left out), one process."""
        wanted = list(dict.fromkeys(paths))
        if not wanted:
            return {}
        request = "".join(f"{rev}:{p}\n" for p in wanted).encode()
        out = self.run_bytes("cat-file", "--batch", input=request)
        return dict(_parse_batch(wanted, out))

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

    # --- remotes -------------------------------------------------------------------------

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


class GitObject(NamedTuple):
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
