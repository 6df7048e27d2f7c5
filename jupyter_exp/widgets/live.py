"""Live refresh: a background thread that polls while the queue has work.

The kernel's main thread stays free (cells run, buttons answer) while a daemon thread
calls ``poll()`` every ``interval`` seconds. ``poll`` returns True to keep going; the
thread ends when it returns False (nothing queued or running any more), when it raises,
or when :meth:`LiveRefresh.stop` is called (the widget was closed). A thread rather than
a task on the kernel's event loop: ``Project`` calls block (Git subprocesses, file
locks), and a thread works the same in a kernel, in terminal IPython and in tests.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

__all__ = ["LiveRefresh"]


class LiveRefresh:
    """Call ``poll`` every ``interval`` seconds in a daemon thread until it says stop.

    ``on_error`` receives an exception ``poll`` raised; the polling then ends.
    """

    def __init__(
        self,
        poll: Callable[[], bool],
        interval: float = 2.0,
        *,
        on_error: Callable[[Exception], None] | None = None,
    ) -> None:
        self.poll = poll
        self.interval = interval
        self.on_error = on_error
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._guard = threading.Lock()
        self.polls = 0  # how many times poll ran, for whoever wants to see it working

    @property
    def running(self) -> bool:
        """True while the polling thread is alive."""
        thread = self._thread
        return thread is not None and thread.is_alive()

    def start(self) -> bool:
        """Start polling unless it already is. Returns True when a thread was started."""
        with self._guard:
            if self.running:
                return False
            self._stop = threading.Event()
            self._thread = threading.Thread(
                target=self._loop, args=(self._stop,), name="jupyter-exp-live-refresh", daemon=True
            )
            self._thread.start()
            return True

    def stop(self, timeout: float | None = None) -> None:
        """Ask the thread to end and wait for it (up to ``timeout`` seconds)."""
        with self._guard:
            self._stop.set()
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    def _loop(self, stop: threading.Event) -> None:
        # `stop` is this thread's own event: a later start() makes a new one.
        while not stop.wait(self.interval):
            try:
                self.polls += 1
                if not self.poll():
                    return
            except Exception as error:  # reported, then polling ends
                if self.on_error is not None:
                    self.on_error(error)
                return
