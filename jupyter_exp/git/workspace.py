"""Git operations on the work tree and index: status, snapshots, worktrees, restores.

A mixin of :class:`~jupyter_exp.git.Git`; every method goes through ``self.run``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

# The "no object" sha: as an expected old value, "this ref must not exist yet".
ZERO_SHA = "0" * 40


def _blob_sha(data: bytes) -> str:
    """The sha Git gives a blob with ``data``."""
    import hashlib  # here: loading OpenSSL costs every git command ~3 ms at start-up

    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


class WorkspaceOps:
    """Workspace-side plumbing: what changed, snapshot commits through a scratch index,
    worktrees, and writing a commit's files back."""

    # Provided by Git, which combines this mixin with the rest of the git layer.
    root: Path
    run: Callable[..., str]
    run_bytes: Callable[..., bytes]

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

    @contextmanager
    def temporary_index(self, *, from_index: bool = True) -> Iterator[dict[str, str]]:
        """An env pointing git at a scratch index (a copy of the real one by default).

        Lets us build commits of the workspace without touching the user's index.
        """
        import shutil  # here and below: read-only commands never import them (~3 ms)
        import tempfile

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
            import shutil

            shutil.rmtree(path, ignore_errors=True)
        self.run("worktree", "prune", check=False)

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
                import shutil

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

    def commit_all(self, message: str) -> str:
        """Stage everything not ignored, commit it on the current branch, return the sha."""
        self.run("add", "-A")
        self.run("commit", "-q", "--allow-empty", "--no-verify", "-m", message)
        return self.run("rev-parse", "HEAD").strip()
