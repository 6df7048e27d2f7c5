"""Git remotes: listing, checking, pushing and fetching refs.

A mixin of :class:`~jupyter_exp.git.Git`; every method goes through ``self.run``.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Sequence
from pathlib import Path

from ..errors import GitError, RevisionNotFoundError


class RemoteOps:
    """Remote-side plumbing for ``exp push``/``exp pull``."""

    # Provided by Git, which combines this mixin with the rest of the git layer.
    root: Path
    run: Callable[..., str]
    run_bytes: Callable[..., bytes]

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

    def remote_refs(self, remote: str, prefix: str) -> dict[str, str]:
        """Refs under ``prefix`` on ``remote``: ref -> sha."""
        out = self.run("ls-remote", remote, f"{prefix}*")
        refs = {}
        for line in out.splitlines():
            sha, ref = line.split("\t", 1)
            refs[ref] = sha
        return refs

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
