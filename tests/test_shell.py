"""The shell runner: DVC's argv, live output as events, interrupts reach the whole group."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import pytest

from jupyter_exp.core.stages.shell import run_command, shell_argv
from jupyter_exp.events import StageOutput


def collect():
    events: list[StageOutput] = []
    return events, events.append


def test_argv_matches_dvc(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("SHELL", "/bin/bash")
    assert shell_argv("echo hi") == ["/bin/bash", "--noprofile", "--norc", "-c", "echo hi"]
    monkeypatch.delenv("SHELL")
    assert shell_argv("echo hi") == ["/bin/sh", "-c", "echo hi"]


def test_streams_stdout_and_stderr_and_returns_status(tmp_path: Path):
    events, sink = collect()
    code = run_command(
        "echo out; echo err >&2; printf 'caf\\303\\251'; exit 3",
        cwd=tmp_path,
        env={**os.environ, "X": "1"},
        stage="s",
        on_event=sink,
    )
    assert code == 3
    out = "".join(e.text for e in events if e.stream == "stdout")
    err = "".join(e.text for e in events if e.stream == "stderr")
    assert out == "out\ncafé"
    assert err == "err\n"
    assert all(e.stage == "s" for e in events)


def test_output_arrives_while_the_command_runs(tmp_path: Path):
    seen_at: list[float] = []

    def sink(event):
        seen_at.append(time.monotonic())

    start = time.monotonic()
    run_command(
        "echo first; sleep 1; echo second", cwd=tmp_path, env=os.environ, stage="s", on_event=sink
    )
    assert seen_at[0] - start < 0.8  # the first line did not wait for the end


def test_cwd_and_env_are_used(tmp_path: Path):
    events, sink = collect()
    run_command(
        "pwd; echo $MARK", cwd=tmp_path, env={**os.environ, "MARK": "m1"}, stage="s", on_event=sink
    )
    text = "".join(e.text for e in events)
    assert text.splitlines() == [str(tmp_path), "m1"]


def test_killed_by_signal_is_negative(tmp_path: Path):
    code = run_command(
        "kill -9 $$", cwd=tmp_path, env=os.environ, stage="s", on_event=lambda e: None
    )
    assert code == -9


def test_keyboard_interrupt_kills_the_whole_process_group(tmp_path: Path):
    pidfile = tmp_path / "child.pid"
    # The shell starts a grandchild that ignores nothing and would outlive a naive kill.
    cmd = f"sleep 60 & echo $! > {pidfile}; wait"
    error: list[BaseException] = []

    def interrupt_soon():
        for _ in range(100):
            if pidfile.exists() and pidfile.read_text().strip():
                break
            time.sleep(0.05)
        signal.pthread_kill(main_thread, signal.SIGINT)

    main_thread = threading.get_ident()
    threading.Thread(target=interrupt_soon, daemon=True).start()
    try:
        run_command(cmd, cwd=tmp_path, env=os.environ, stage="s", on_event=lambda e: None)
    except KeyboardInterrupt as exc:
        error.append(exc)
    assert error, "the interrupt must propagate"
    grandchild = int(pidfile.read_text())
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        try:
            os.kill(grandchild, 0)
        except ProcessLookupError:
            break
        # A zombie is gone for our purposes once its parent shell died and init reaps it.
        time.sleep(0.05)
    else:
        status = Path(f"/proc/{grandchild}/status").read_text()
        assert "zombie" in status, "the background child of the stage survived"
