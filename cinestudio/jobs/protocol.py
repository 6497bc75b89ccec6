"""The JSON-lines protocol a job worker speaks: one JSON object per line, on stdout and in the run
folder's ``events.jsonl`` (the same lines), so the queue runner, the CLI and the GUI read one format
whether they started the worker or not.

Every message has ``type``, ``job`` (the job id), ``seq`` (1, 2, ... within one worker start) and
``t`` (Unix time, seconds). The types and their own fields:

``started``   ``attempt``, ``pid``, ``host``, ``device`` (resolved), ``resume_step`` (the checkpoint
              step it continues from, or null), ``run_dir``
``progress``  ``done``, ``total``, ``message``, ``phase`` (``prepare``, ``train``, ``evaluate``…),
              ``eta_s`` (seconds left in this phase, or null)
``metric``    ``step``, ``values`` (name → number: ``loss``, ``loss_movement``, ``lr``,
              ``val_r1.framing``, …)
``log``       ``level`` (``info``, ``warning``, ``error``), ``message``
``artifact``  ``name`` (``checkpoint``, ``model``, ``plot``, ``confusion``, ``evaluation``…),
              ``path`` (relative to the run folder), ``step`` (optional)
``done``      ``state`` (``succeeded``, ``cancelled``, ``interrupted``), ``result``, ``message``
``error``     ``error`` (one line for people), ``traceback`` (text, or null for input errors)

A line that is not such an object (a library printing on stdout) is read as a ``log`` message.
Readers ignore fields they do not know, so messages can grow.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any

MESSAGE_TYPES = ("started", "progress", "metric", "log", "artifact", "done", "error")
EVENTS_NAME = "events.jsonl"      # the protocol, as written by the worker, in the run folder
STDERR_NAME = "worker.log"        # the worker's stderr (warnings, tracebacks), in the run folder


def encode(message: dict[str, Any]) -> str:
    """One protocol line (no newline)."""
    return json.dumps(message, ensure_ascii=False, separators=(",", ":"), default=str)


def decode(line: str | bytes) -> dict[str, Any] | None:
    """A protocol message from one line; a foreign line becomes a ``log``; blank lines are None."""
    if isinstance(line, bytes):
        line = line.decode("utf-8", errors="replace")
    text = line.strip()
    if not text:
        return None
    try:
        msg = json.loads(text)
    except ValueError:
        msg = None
    if isinstance(msg, dict) and msg.get("type") in MESSAGE_TYPES:
        return msg
    return {"type": "log", "level": "info", "message": text}


class EventWriter:
    """What a worker uses to speak: each message goes to `stream` (stdout) and to the events file."""

    def __init__(self, job_id: int, stream: IO[str] | None, events_file: str | os.PathLike[str] | None):
        self.job_id = job_id
        self.stream = stream
        self._seq = 0
        self._lock = threading.Lock()
        self._closed = False
        self._file: IO[str] | None = None
        if events_file is not None:
            Path(events_file).parent.mkdir(parents=True, exist_ok=True)
            self._file = open(events_file, "a", encoding="utf-8")  # noqa: SIM115 (closed in close())

    def emit(self, type_: str, *, final: bool = False, **fields: Any) -> dict[str, Any]:
        """Write one message; `final` (done, error) makes it the last one this writer writes."""
        if type_ not in MESSAGE_TYPES:
            raise ValueError(f"unknown message type {type_!r}")
        with self._lock:
            self._seq += 1
            msg = {"type": type_, "job": self.job_id, "seq": self._seq, "t": round(time.time(), 3), **fields}
            if self._closed:          # after the last word (done/error) nothing more is said
                return msg
            line = encode(msg) + "\n"
            if self._file is not None:
                self._file.write(line)
                self._file.flush()
            if self.stream is not None:
                try:
                    self.stream.write(line)
                    self.stream.flush()
                except (BrokenPipeError, ValueError):  # the reader went away: the file still has it
                    self.stream = None
            if final:
                self._closed = True
        return msg

    def close(self) -> None:
        with self._lock:
            self._closed = True
            if self._file is not None:
                self._file.close()
                self._file = None


class EventTail:
    """Reads a growing events file incrementally: `read()` returns the messages added since the
    last call (never a half-written last line). `max_bytes` bounds one call's work, so a UI can
    catch up on a long history a slice at a time."""

    def __init__(self, path: str | os.PathLike[str], max_bytes: int | None = 256 * 1024):
        self.path = Path(path)
        self.max_bytes = max_bytes
        self.offset = 0
        self._partial = b""
        self._ino: int | None = None

    def read(self) -> list[dict[str, Any]]:
        try:
            st = self.path.stat()
        except FileNotFoundError:
            return []
        if self._ino is not None and (st.st_ino != self._ino or st.st_size < self.offset):
            self.offset, self._partial = 0, b""          # replaced or truncated: start over
        self._ino = st.st_ino
        if st.st_size <= self.offset:
            return []
        with open(self.path, "rb") as fh:
            fh.seek(self.offset)
            chunk = fh.read(-1 if self.max_bytes is None else self.max_bytes)
        self.offset += len(chunk)
        data = self._partial + chunk
        lines = data.split(b"\n")
        self._partial = lines.pop()
        return [m for m in map(decode, lines) if m is not None]

    @property
    def at_end(self) -> bool:
        try:
            return self.path.stat().st_size <= self.offset
        except FileNotFoundError:
            return True


def read_events(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """All messages of an events file (empty if there is none)."""
    tail = EventTail(path, max_bytes=None)
    return tail.read()


def last_events(path: str | os.PathLike[str], types: Iterable[str] = ("progress",),
                window: int = 16 * 1024) -> dict[str, dict[str, Any]]:
    """The last message of each of `types` found in the final `window` bytes (cheap on big files)."""
    wanted = set(types)
    try:
        with open(path, "rb") as fh:
            fh.seek(0, os.SEEK_END)
            size = fh.tell()
            fh.seek(max(0, size - window))
            data = fh.read()
    except FileNotFoundError:
        return {}
    out: dict[str, dict[str, Any]] = {}
    for line in data.split(b"\n")[1 if size > window else 0:]:
        msg = decode(line)
        if msg is not None and msg["type"] in wanted:
            out[msg["type"]] = msg
    return out


def format_event(msg: dict[str, Any]) -> str:
    """One human line for a message (``jobs logs``, ``jobs run``)."""
    t = time.strftime("%H:%M:%S", time.localtime(msg.get("t", time.time())))
    kind = msg.get("type")
    head = f"{t} job {msg.get('job')}"
    if kind == "started":
        resume = msg.get("resume_step")
        return (f"{head} started (attempt {msg.get('attempt')}, pid {msg.get('pid')}, {msg.get('device')})"
                + (f", resuming from step {resume}" if resume else ""))
    if kind == "progress":
        eta = msg.get("eta_s")
        return (f"{head} {msg.get('done')}/{msg.get('total')} {msg.get('message') or ''}".rstrip()
                + (f" (ETA {format_duration(eta)})" if eta is not None else ""))
    if kind == "metric":
        values = ", ".join(f"{k} {v:.4g}" if isinstance(v, (int, float)) else f"{k} {v}"
                           for k, v in (msg.get("values") or {}).items())
        return f"{head} step {msg.get('step')}: {values}"
    if kind == "log":
        level = msg.get("level", "info")
        return f"{head} {'' if level == 'info' else level + ': '}{msg.get('message')}"
    if kind == "artifact":
        step = msg.get("step")
        return f"{head} wrote {msg.get('name')}: {msg.get('path')}" + (f" (step {step})" if step is not None else "")
    if kind == "done":
        return f"{head} {msg.get('state')}" + (f": {msg['message']}" if msg.get("message") else "")
    if kind == "error":
        return f"{head} failed: {msg.get('error')}"
    return f"{head} {encode(msg)}"


def format_duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    s = max(0, int(round(seconds)))
    h, rem = divmod(s, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


class EtaEstimator:
    """Seconds left in a phase from the rate since the phase began (a new phase or total resets)."""

    def __init__(self) -> None:
        self._key: tuple[str, int] | None = None
        self._t0 = 0.0
        self._done0 = 0

    def update(self, done: int, total: int, phase: str, now: float | None = None) -> float | None:
        now = time.monotonic() if now is None else now
        key = (phase, total)
        if key != self._key or done < self._done0:
            self._key, self._t0, self._done0 = key, now, done
            return None
        if done <= self._done0 or total <= 0:
            return None
        rate = (done - self._done0) / max(1e-6, now - self._t0)
        return round(max(0, total - done) / rate, 1)


__all__ = ["EVENTS_NAME", "EtaEstimator", "EventTail", "EventWriter", "MESSAGE_TYPES", "STDERR_NAME",
           "decode", "encode", "format_duration", "format_event", "last_events", "read_events"]
