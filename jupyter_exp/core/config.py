"""Read DVC's ``.dvc/config`` (and ``config.local``): the settings the engine honours.

DVC writes its config with configobj (INI with optional quoting and sections such as
``['remote "name"']``); :mod:`configparser` reads that dialect once quotes are stripped,
so we avoid a dependency for a handful of keys.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

from ..errors import InvalidArgumentError

LINK_TYPES = ("reflink", "hardlink", "symlink", "copy")
# DVC's own default is "reflink,copy": never a link the user could edit through.
DEFAULT_LINK_TYPES = ("reflink", "copy")


class Config(NamedTuple):
    """The subset of DVC's config the engine uses (a NamedTuple: no dataclasses import,
    ~5 ms, on the paths that only need the cache folder)."""

    sections: dict[str, dict[str, str]]

    def get(self, section: str, key: str, default: str | None = None) -> str | None:
        """A raw value, or ``default``."""
        return self.sections.get(section, {}).get(key, default)

    @property
    def cache_dir(self) -> str | None:
        """``cache.dir``, relative to ``.dvc/`` unless absolute."""
        return self.get("cache", "dir")

    @property
    def link_types(self) -> tuple[str, ...]:
        """``cache.type`` as an ordered tuple, validated."""
        raw = self.get("cache", "type")
        if not raw:
            return DEFAULT_LINK_TYPES
        types = tuple(t.strip() for t in raw.split(",") if t.strip())
        bad = [t for t in types if t not in LINK_TYPES]
        if bad or not types:
            raise InvalidArgumentError(
                f".dvc/config: cache.type has unknown link type(s) {', '.join(bad) or raw!r}; "
                f"use a comma-separated list of {', '.join(LINK_TYPES)}",
                argument="cache.type",
            )
        return types


def _unquote(value: str) -> str:
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
        return value[1:-1]
    return value


def _section_name(name: str) -> str:
    # configobj writes `['remote "x"']`; configparser hands us `'remote "x"'`.
    return _unquote(name)


def load_config(dvc_dir: Path) -> Config:
    """Merge ``config`` then ``config.local`` from ``dvc_dir`` (missing files are empty)."""
    import configparser  # here: commands that never read the config skip its import

    sections: dict[str, dict[str, str]] = {}
    for name in ("config", "config.local"):
        path = dvc_dir / name
        if not path.is_file():
            continue
        parser = configparser.ConfigParser(interpolation=None, strict=False)
        try:
            parser.read_string(path.read_text(encoding="utf-8"), source=str(path))
        except configparser.Error as exc:
            raise InvalidArgumentError(f"{path}: cannot parse config: {exc}") from None
        for section in parser.sections():
            values = sections.setdefault(_section_name(section), {})
            for key, value in parser.items(section):
                values[key] = _unquote(value)
    return Config(sections)
