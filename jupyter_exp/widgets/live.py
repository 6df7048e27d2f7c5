"""Live refresh: a background thread that polls while the queue has work.

The kernel's main thread stays free (cells run, buttons answer) while a daemon thread
calls ``poll()`` every ``interval`` seconds. ``poll`` returns True while there is work to
follow. When it returns False the thread either keeps watching at the slower
``idle_interval`` (while ``keep_watching()`` says so: the table is on screen, and a queue
may be started from elsewhere) or ends; it also ends when ``poll`` raises or when
:meth:`LiveRefresh.stop` is called (the widget was closed). :meth:`LiveRefresh.start` on a
running thread wakes it, so an action's result shows at once. A thread rather than
a task on the kernel's event loop: ``Project`` calls block (Git subprocesses, file
locks), and a thread works the same in a kernel, in terminal IPython and in tests.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

__all__ = ["LiveRefresh"]


class LiveRefresh:
    """Call ``poll`` every ``interval`` seconds in a daemon thread while it reports work.

    ``on_error`` receives an exception ``poll`` raised; the polling then ends. Without
    work, polling goes on every ``idle_interval`` seconds while ``keep_watching()`` is
    true, and ends otherwise.
    """

    def __init__(
        self,
        poll: Callable[[], bool],
        interval: float = 2.0,
        *,
        on_error: Callable[[Exception], None] | None = None,
        keep_watching: Callable[[], bool] | None = None,
        idle_interval: float | None = None,
    ) -> None:
        self.poll = poll
        self.interval = interval
        self.on_error = on_error
        self.keep_watching = keep_watching
        self.idle_interval = 5 * interval if idle_interval is None else idle_interval
        self._wake = threading.Event()
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
        """Start polling, or wake the running thread to poll now.

        Returns True when a thread was started.
        """
        with self._guard:
            if self.running:
                self._wake.set()
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
            self._wake.set()
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    def _loop(self, stop: threading.Event) -> None:
        # `stop` is this thread's own event: a later start() makes a new one.
        wait = self.interval
        while True:
            self._wake.wait(wait)
            self._wake.clear()
            if stop.is_set():
                return
            try:
                self.polls += 1
                busy = self.poll()
                watching = not busy and self.keep_watching is not None and self.keep_watching()
            except Exception as error:  # reported, then polling ends
                if self.on_error is not None:
                    self.on_error(error)
                return
            if not busy and not watching:
                return
            wait = self.interval if busy else self.idle_interval
