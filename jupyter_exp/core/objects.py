"""Hash records as DVC 3 writes them in ``dvc.lock``, ``*.dvc`` files and the run-cache."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class HashInfo:
    """What DVC records about a file or directory: md5, size, and for dirs nfiles.

    ``md5`` ends with ``.dir`` for directories. ``legacy`` marks an entry written by
    DVC 2 (no ``hash: md5`` field, text files hashed after dos2unix); such entries are
    reported as changed, as DVC 3 does.
    """

    md5: str
    size: int | None = None
    nfiles: int | None = None
    isexec: bool = False
    legacy: bool = False

    @property
    def isdir(self) -> bool:
        """True for a directory (``.dir`` object)."""
        return self.md5.endswith(".dir")

    def lock_fields(self) -> dict[str, Any]:
        """The fields after ``path`` in a lock/.dvc entry, in DVC 3's order."""
        out: dict[str, Any] = {}
        if not self.legacy:
            out["hash"] = "md5"
        out["md5"] = self.md5
        if self.size is not None:
            out["size"] = self.size
        if self.nfiles is not None:
            out["nfiles"] = self.nfiles
        if self.isexec:
            out["isexec"] = True
        return out

    @classmethod
    def from_lock_fields(cls, entry: dict[str, Any]) -> HashInfo | None:
        """Read the hash part of a lock/.dvc entry; None when it has no md5."""
        md5 = entry.get("md5")
        if not md5:
            return None
        return cls(
            md5=str(md5),
            size=entry.get("size"),
            nfiles=entry.get("nfiles"),
            isexec=bool(entry.get("isexec", False)),
            legacy=entry.get("hash") != "md5",
        )

    def same_content(self, other: HashInfo | None) -> bool:
        """True when ``other`` describes the same content (md5 and exec bit)."""
        return (
            other is not None
            and not self.legacy
            and not other.legacy
            and self.md5 == other.md5
            and self.isexec == other.isexec
        )


@dataclass(frozen=True)
class TreeEntry:
    """One file of a directory object: POSIX ``relpath`` inside the dir and its hash."""

    relpath: str
    md5: str
    size: int | None = None
    isexec: bool = False


@dataclass
class LockEntry:
    """One stage's entry in ``dvc.lock`` (and one run-cache record).

    ``deps`` and ``outs`` map the path as written in ``dvc.yaml`` (``def_path``) to its
    hash; ``params`` maps a params file to ``{key: value}``.
    """

    cmd: str | list[str]
    deps: dict[str, HashInfo] = field(default_factory=dict)
    params: dict[str, dict[str, Any]] = field(default_factory=dict)
    outs: dict[str, HashInfo] = field(default_factory=dict)
