"""Our own processes mask imports they never use; a user's Python keeps them."""

from __future__ import annotations

import subprocess
import sys

PROBE = """
import sys
sys.argv = {argv!r}
from jupyter_exp.cli.main import main
try:
    main({call})
except SystemExit:
    pass
print("masked" if sys.modules.get("rfc3987_syntax", "absent") is None else "importable")
"""


def probe(argv: list[str], call: str) -> str:
    code = PROBE.format(argv=argv, call=call)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return done.stdout.split()[-1]


def test_the_cli_process_masks_unused_imports() -> None:
    assert probe(["jupyter-exp", "--version"], "") == "masked"


def test_main_called_from_someone_elses_python_masks_nothing() -> None:
    assert probe(["python"], "['--version']") == "importable"
