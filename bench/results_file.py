"""Several benchmarks share bench/RESULTS.md: each owns one marked section of it."""

from __future__ import annotations

from pathlib import Path


def write_section(path: Path, name: str, section: str) -> None:
    """Put ``section`` between ``<!-- name: start/end -->`` markers, keeping the rest."""
    start, end = f"<!-- {name}: start -->", f"<!-- {name}: end -->"
    text = path.read_text() if path.exists() else ""
    block = f"{start}\n{section.rstrip()}\n{end}\n"
    if start in text and end in text:
        before, rest = text.split(start, 1)
        after = rest.split(end, 1)[1].lstrip("\n")
        text = before + block + ("\n" + after if after else "")
    else:
        text = (text.rstrip("\n") + "\n\n" if text else "") + block
    path.write_text(text)
