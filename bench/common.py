"""What the benchmarks share: the environment both tools run in, the machine line of
a report, and each benchmark's own section of bench/RESULTS.md."""

from __future__ import annotations

import os
import platform
from pathlib import Path


def isolated_env(scratch: Path, *, dvc_test: bool = True) -> dict[str, str]:
    """This environment minus ``DVC_*``, with a scratch HOME and a fixed Git identity.

    ``DVC_TEST`` turns off DVC's update checks and prompts; the queue benchmark runs
    DVC's real workers and leaves it unset.
    """
    home = scratch / "home"
    home.mkdir(exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith("DVC_")}
    env.update(
        HOME=str(home),
        DVC_NO_ANALYTICS="1",
        DVC_STUDIO_OFFLINE="true",
        DVC_SITE_CACHE_DIR=str(scratch / "dvc-site"),
        GIT_AUTHOR_NAME="bench",
        GIT_AUTHOR_EMAIL="bench@example.com",
        GIT_COMMITTER_NAME="bench",
        GIT_COMMITTER_EMAIL="bench@example.com",
        GIT_CONFIG_NOSYSTEM="1",
    )
    if dvc_test:
        env["DVC_TEST"] = "true"
    return env


def machine(*, memory: bool = False) -> str:
    """``OS release, CPU model, N cores`` (and the RAM when asked) for a report."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram = ""
    if memory:
        try:
            total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
            ram = f", {total / 2**30:.0f} GiB RAM"
        except (ValueError, OSError, AttributeError):
            pass
    return f"{platform.system()} {platform.release()}, {cpu}, {os.cpu_count()} cores{ram}"


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
