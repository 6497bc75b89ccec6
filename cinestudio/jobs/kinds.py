"""Job kinds: what a job of each kind validates, runs, and which device class it needs.

A kind is a `JobKind` spec registered by name:

- ``validate(config, where) -> config``: checks a submitted configuration and returns it
  normalised (defaults filled, paths made workspace-relative). It runs in the submitting process —
  the CLI, or a GUI worker thread — so it must stay light: no torch, no model code.
- ``entry``: ``"package.module:function"``, the use-case adapter the worker imports by name and
  calls as ``function(ctx: JobContext) -> dict`` (the job's result). Naming it as a string keeps
  this module, and so the GUI that imports it, free of the heavy packages behind it.
- ``device_class``: ``"gpu"`` for kinds that use a GPU when the job's device is ``cuda`` (or
  ``auto`` and one is present; the queue runs one GPU job at a time), ``"cpu"`` for kinds that
  never do (they take one of the runner's CPU slots).

``clip-train`` ships here; ``lora-train``, ``render`` and ``diff-train-base`` plug in the same way:
a light module with the spec and its validation, and an adapter module around the use-case, the
first listed in ``_BUILTINS`` (or, for plug-ins and tests, in ``CINESTUDIO_JOB_KINDS``)::

    register(JobKind(name="render", title="Storyboard render", device_class="gpu",
                     entry="cinestudio.jobs.render_run:run", validate=validate_render))
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cinestudio.errors import UserInputError

DEVICE_CLASSES = ("cpu", "gpu")
DEVICES = ("auto", "cpu", "cuda")


@dataclass(frozen=True)
class ValidationContext:
    """Where a job is being submitted: the workspace root, and its store when one is open."""

    workspace: Path
    store: Any = None   # a cinestudio.store.WorkspaceStore (typed loosely: kinds need not use it)


Validator = Callable[[dict[str, Any], ValidationContext], dict[str, Any]]


@dataclass(frozen=True)
class JobKind:
    name: str
    title: str
    device_class: str
    entry: str
    validate: Validator
    describe: Callable[[dict[str, Any]], str] = field(default=lambda config: "")
    resumable: bool = True

    def __post_init__(self) -> None:
        if self.device_class not in DEVICE_CLASSES:
            raise ValueError(f"device_class must be one of {DEVICE_CLASSES}")
        if ":" not in self.entry:
            raise ValueError("entry must be 'package.module:function'")

    def load_entry(self) -> Callable[..., dict[str, Any]]:
        """The use-case adapter (imported now, in the worker)."""
        module, _, name = self.entry.partition(":")
        return getattr(importlib.import_module(module), name)


_KINDS: dict[str, JobKind] = {}
_BUILTINS = ("cinestudio.jobs.clip_train", "cinestudio.storyboard.render_job", "cinestudio.jobs.lora_train")
_loaded = False
_broken: dict[str, str] = {}     # builtin module -> why it could not be imported
PLUGINS_ENV = "CINESTUDIO_JOB_KINDS"   # more modules that register kinds, comma-separated


def _ensure_builtins() -> None:
    """Import the modules that register the built-in kinds; one broken module only loses its own."""
    global _loaded
    if not _loaded:
        _loaded = True
        extra = [m.strip() for m in os.environ.get(PLUGINS_ENV, "").split(",") if m.strip()]
        for module in (*_BUILTINS, *extra):
            try:
                importlib.import_module(module)
            except Exception as exc:  # reported by get_kind for the kinds it would have registered
                _broken[module] = f"{type(exc).__name__}: {exc}"


def register(kind: JobKind) -> JobKind:
    """Add (or replace) a kind."""
    _KINDS[kind.name] = kind
    return kind


def unregister(name: str) -> None:
    _KINDS.pop(name, None)


def get_kind(name: str) -> JobKind:
    _ensure_builtins()
    try:
        return _KINDS[name]
    except KeyError:
        broken = "".join(f"; {m} failed to load ({why})" for m, why in _broken.items())
        raise UserInputError(name, f"unknown job kind (known: {', '.join(sorted(_KINDS)) or 'none'}){broken}") from None


def kind_title(name: str) -> str:
    """A kind's title for people (its name when it is not registered)."""
    try:
        return get_kind(name).title
    except UserInputError:
        return name


def kind_names() -> list[str]:
    _ensure_builtins()
    return sorted(_KINDS)


def check_device(device: str) -> str:
    device = (device or "auto").strip().lower()
    if device in DEVICES or (device.startswith("cuda:") and device[5:].isdigit()):
        return device
    raise UserInputError(device, "device must be cpu, cuda (or cuda:N) or auto")


__all__ = ["DEVICES", "DEVICE_CLASSES", "JobKind", "ValidationContext", "check_device", "get_kind",
           "kind_names", "kind_title", "register", "unregister"]
