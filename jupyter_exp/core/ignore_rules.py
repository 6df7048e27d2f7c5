"""gitignore-style patterns (``.gitignore``, ``.dvcignore``): one matcher for the project.

Used by pipeline discovery, ``.dvcignore`` handling while hashing, and the ``.gitignore``
checks of ``add``/``repro``.

Supports what these files commonly use: comments, ``!`` negation, trailing ``/`` for
folders, patterns anchored by a ``/``, ``*``, ``?``, ``[...]`` and ``**``. The last
matching rule wins, deeper files after shallower ones, as in Git (the tests check it
against ``git check-ignore``). Hand-written rather than pathspec: importing pathspec costs
~40 ms, and pipeline discovery runs on every command.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Rule:
    """One pattern line, relative to the folder ``base`` ('' for the root)."""

    base: str
    regex: re.Pattern[str]
    negate: bool
    dir_only: bool


def parse_ignore(text: str, base: str) -> list[Rule]:
    """Rules of one ignore file found in the repo-relative folder ``base``."""
    rules = []
    for raw in text.splitlines():
        line = raw.rstrip()
        if line.endswith("\\") and raw.endswith(" "):
            line += " "  # "\ " keeps an escaped trailing space
        if not line or line.startswith("#"):
            continue
        negate = line.startswith("!")
        if negate:
            line = line[1:]
        dir_only = line.endswith("/")
        line = line.rstrip("/")
        if not line:
            continue
        anchored = "/" in line
        line = line.lstrip("/")
        body = _translate(line)
        prefix = "^" if anchored else "^(?:.*/)?"
        rules.append(Rule(base, re.compile(prefix + body + "$"), negate, dir_only))
    return rules


def _translate(pattern: str) -> str:
    out, i, n = [], 0, len(pattern)
    while i < n:
        c = pattern[i]
        if c == "*":
            if pattern.startswith("**", i):
                at_start = i == 0 or pattern[i - 1] == "/"
                after = pattern[i + 2 : i + 3]
                if at_start and after == "/":
                    out.append("(?:.*/)?")
                    i += 3
                    continue
                if at_start and after == "":
                    out.append(".*")
                    i += 2
                    continue
                out.append("[^/]*")
                i += 2
                continue
            out.append("[^/]*")
        elif c == "?":
            out.append("[^/]")
        elif c == "\\" and i + 1 < n:
            i += 1
            out.append(re.escape(pattern[i]))
        elif c == "[":
            end = pattern.find("]", i + 2)
            if end == -1:
                out.append(re.escape(c))
            else:
                inner = pattern[i + 1 : end]
                if inner.startswith("!"):
                    inner = "^" + inner[1:]
                out.append("[" + inner.replace("\\", "\\\\") + "]")
                i = end
        else:
            out.append(re.escape(c))
        i += 1
    return "".join(out)


def is_ignored(rules: list[Rule], path: str, is_dir: bool) -> bool:
    """True when the last rule matching repo-relative ``path`` ignores it."""
    return bool(verdict(rules, path, is_dir))


def verdict(rules: list[Rule], path: str, is_dir: bool) -> bool | None:
    """The last matching rule's say: True ignored, False re-included, None no match."""
    result: bool | None = None
    for rule in rules:
        if rule.dir_only and not is_dir:
            continue
        if rule.base:
            if not path.startswith(rule.base + "/"):
                continue
            rel = path[len(rule.base) + 1 :]
        else:
            rel = path
        if rule.regex.match(rel):
            result = not rule.negate
    return result
