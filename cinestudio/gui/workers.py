"""Running work off the UI thread: tasks on a thread pool, results delivered on the UI thread.

    runner = TaskRunner(parent=self)                      # one per widget that needs workers
    task = runner.submit(backend.clip_ids, flt, on_result=self._show_ids, on_error=self._fail)
    task.cancel()                                         # the result will not be delivered
    runner.shutdown()                                     # on close: cancel all, wait for them

The function runs in a pool thread; `on_result` / `on_error` / `on_progress` run on the UI
thread (queued through the runner, a QObject living there). A function that declares the
keyword parameters ``progress`` and/or ``should_stop`` gets them (the protocol of
`cinestudio.progress`), so cancel() stops long use-cases cleanly.

Every running task and every thread started by `ManagedThread` is listed in a registry
(`live_workers()`), which the GUI tests check after each test: a widget that leaks a running
worker past its closing fails the test.
"""

from __future__ import annotations

import inspect
import itertools
import threading
import time
import traceback
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThread, QThreadPool, Signal, Slot

_registry_lock = threading.Lock()
_live: dict[int, str] = {}
_ids = itertools.count(1)


def _register(name: str) -> int:
    token = next(_ids)
    with _registry_lock:
        _live[token] = name
    return token


def _unregister(token: int) -> None:
    with _registry_lock:
        _live.pop(token, None)


def live_workers() -> list[str]:
    """Names of the tasks and managed threads running now (for leak checks)."""
    with _registry_lock:
        return sorted(_live.values())


def wait_for_workers(timeout_s: float = 5.0) -> bool:
    """Wait until no registered worker runs (True) or the timeout passes (False)."""
    deadline = time.monotonic() + timeout_s
    while live_workers():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)
    return True


class Task:
    """A handle on a submitted function.

    `request_stop()` makes its `should_stop()` true (a use-case stops cleanly and its result,
    e.g. a partial report, is still delivered); `cancel()` also drops whatever it returns.
    """

    def __init__(self, task_id: int, name: str):
        self.id = task_id
        self.name = name
        self._stop = threading.Event()
        self._discard = False
        self.done = threading.Event()

    def request_stop(self) -> None:
        self._stop.set()

    def cancel(self) -> None:
        self._discard = True
        self._stop.set()

    @property
    def cancelled(self) -> bool:
        return self._discard

    def should_stop(self) -> bool:
        return self._stop.is_set()

    def __repr__(self) -> str:
        return f"Task({self.id}, {self.name!r}, cancelled={self.cancelled})"


class _Relay(QObject):
    """Carries a task's events from its pool thread to the runner on the UI thread."""

    event = Signal(int, str, object)


def _accepts(fn: Callable[..., Any], name: str) -> bool:
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False
    return name in params or any(p.kind is p.VAR_KEYWORD for p in params.values())


class _Runnable(QRunnable):
    def __init__(self, task: Task, relay: _Relay, fn: Callable[..., Any], args: tuple,
                 kwargs: dict[str, Any], token: int):
        super().__init__()
        self.setAutoDelete(True)
        self.task, self.relay, self.fn, self.args, self.kwargs = task, relay, fn, args, kwargs
        self.token = token

    def run(self) -> None:
        task, relay = self.task, self.relay
        kind, payload = "cancelled", None
        try:
            if not task.cancelled:
                kwargs = dict(self.kwargs)
                if _accepts(self.fn, "should_stop"):
                    kwargs.setdefault("should_stop", task.should_stop)
                if _accepts(self.fn, "progress"):
                    kwargs.setdefault("progress", lambda done, total, message="":
                                      relay.event.emit(task.id, "progress", (done, total, message)))
                try:
                    kind, payload = "result", self.fn(*self.args, **kwargs)
                except BaseException as exc:  # delivered to on_error on the UI thread
                    exc.__traceback_text__ = traceback.format_exc()  # type: ignore[attr-defined]
                    kind, payload = "error", exc
        finally:
            # finished before the result is posted: whoever sees the result sees the task done
            task.done.set()
            _unregister(self.token)
        relay.event.emit(task.id, kind, payload)


class TaskRunner(QObject):
    """Submits functions to a thread pool and calls back on the UI thread."""

    def __init__(self, parent: QObject | None = None, *, max_threads: int | None = None,
                 name: str = "tasks"):
        super().__init__(parent)
        self.name = name
        if max_threads is None:
            self.pool = QThreadPool.globalInstance()
        else:
            self.pool = QThreadPool(self)
            self.pool.setMaxThreadCount(max_threads)
        self._relay = _Relay()
        self._relay.event.connect(self._deliver)
        self._callbacks: dict[int, tuple[Task, Callable | None, Callable | None, Callable | None]] = {}
        self._next = itertools.count(1)
        self._closed = False

    def submit(self, fn: Callable[..., Any], *args: Any,
               on_result: Callable[[Any], None] | None = None,
               on_error: Callable[[BaseException], None] | None = None,
               on_progress: Callable[[int, int, str], None] | None = None,
               name: str | None = None, **kwargs: Any) -> Task:
        task = Task(next(self._next), name or getattr(fn, "__qualname__", repr(fn)))
        if self._closed:
            task.cancel()
            task.done.set()
            return task
        self._callbacks[task.id] = (task, on_result, on_error, on_progress)
        token = _register(f"{self.name}:{task.name}")
        self.pool.start(_Runnable(task, self._relay, fn, args, kwargs, token))
        return task

    @Slot(int, str, object)
    def _deliver(self, task_id: int, kind: str, payload: Any) -> None:
        entry = self._callbacks.get(task_id)
        if entry is None:
            return
        task, on_result, on_error, on_progress = entry
        if kind == "progress":
            if on_progress is not None and not task.cancelled:
                on_progress(*payload)
            return
        del self._callbacks[task_id]
        if task.cancelled or self._closed:
            return
        if kind == "result" and on_result is not None:
            on_result(payload)
        elif kind == "error":
            if on_error is not None:
                on_error(payload)
            else:
                print(getattr(payload, "__traceback_text__", repr(payload)))

    def pending(self) -> int:
        return len(self._callbacks)

    def cancel_all(self) -> None:
        for task, *_ in list(self._callbacks.values()):
            task.cancel()

    def wait(self, timeout_s: float = 10.0) -> bool:
        """Block until every submitted task has finished running (not a UI-thread habit:
        for shutdown and tests)."""
        deadline = time.monotonic() + timeout_s
        for task, *_ in list(self._callbacks.values()):
            if not task.done.wait(max(0.0, deadline - time.monotonic())):
                return False
        return True

    def shutdown(self, timeout_s: float = 10.0) -> bool:
        """Cancel every task, wait for the running ones, drop their results."""
        self._closed = True
        self.cancel_all()
        ok = self.wait(timeout_s)
        self._callbacks.clear()
        return ok


class ManagedThread(QThread):
    """A QThread that registers itself while it runs (long-lived workers such as a decoder)."""

    def __init__(self, name: str, parent: QObject | None = None):
        super().__init__(parent)
        self.setObjectName(name)
        self._token: int | None = None

    def start(self, *args: Any) -> None:  # type: ignore[override]
        if self._token is None:
            self._token = _register(f"thread:{self.objectName()}")
        super().start(*args)

    def run(self) -> None:
        try:
            self.work()
        finally:
            token, self._token = self._token, None
            if token is not None:
                _unregister(token)

    def work(self) -> None:
        raise NotImplementedError
