"""The three axes of cinematic language and their classes, loaded from scheme files.

A scheme is data (``resources/taxonomy/NAME.json`` or any JSON file of the same shape): per axis
a list of classes, each with a stable ``key``, a human ``label``, a one-line ``definition`` and
at least two text ``prompts`` for CameraCLIP. A scheme may ``extend`` another and add classes.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from cinestudio.errors import UnknownClassError, UserInputError
from cinestudio.resources import resources_dir

AXES: tuple[str, ...] = ("framing", "angle", "movement")
DEFAULT_SCHEME = "cinematic2k"
MIN_PROMPTS = 2


@dataclass(frozen=True)
class CinematicClass:
    axis: str
    key: str
    label: str
    definition: str
    prompts: tuple[str, ...]

    def to_dict(self) -> dict:
        return {"key": self.key, "label": self.label, "definition": self.definition,
                "prompts": list(self.prompts)}


@dataclass(frozen=True)
class Taxonomy:
    scheme: str
    axes: dict[str, tuple[CinematicClass, ...]]
    description: str = ""
    source: str = field(default="", compare=False)

    def classes(self, axis: str) -> tuple[CinematicClass, ...]:
        if axis not in self.axes:
            raise UserInputError(axis, f"unknown axis (expected one of {', '.join(AXES)})")
        return self.axes[axis]

    def keys(self, axis: str) -> list[str]:
        return [c.key for c in self.classes(axis)]

    def all_keys(self) -> list[str]:
        return [c.key for axis in AXES for c in self.axes[axis]]

    def get(self, axis: str, key: str) -> CinematicClass:
        for c in self.classes(axis):
            if c.key == key:
                return c
        raise UnknownClassError(key, f"unknown {axis} class in scheme {self.scheme!r} "
                                     f"(known: {', '.join(self.keys(axis))})")

    def axis_of(self, key: str) -> str:
        """The axis a class key belongs to (keys are unique across axes)."""
        for axis in AXES:
            if key in self.keys(axis):
                return axis
        raise UnknownClassError(key, f"unknown class key in scheme {self.scheme!r}")

    def check(self, axis: str, key: str) -> str:
        """Return `key` if the scheme defines it on `axis`, else raise UnknownClassError."""
        self.get(axis, key)
        return key

    def __len__(self) -> int:
        return sum(len(v) for v in self.axes.values())

    def to_dict(self) -> dict:
        return {"scheme": self.scheme,
                "axes": {axis: [c.to_dict() for c in self.axes[axis]] for axis in AXES}}


def available_schemes() -> list[str]:
    return sorted(p.stem for p in (resources_dir() / "taxonomy").glob("*.json"))


def _scheme_path(name_or_file: str | Path) -> Path:
    candidate = Path(name_or_file)
    if candidate.suffix == ".json" or candidate.exists():
        if not candidate.is_file():
            raise UserInputError(candidate, "no such taxonomy file")
        return candidate
    path = resources_dir() / "taxonomy" / f"{name_or_file}.json"
    if not path.is_file():
        raise UserInputError(str(name_or_file), "unknown taxonomy scheme (known: "
                             f"{', '.join(available_schemes())}; or give a .json file)")
    return path


def _parse(data: object, origin: Path) -> Taxonomy:
    if not isinstance(data, dict) or not isinstance(data.get("axes"), dict):
        raise UserInputError(origin, 'not a taxonomy scheme: expected {"scheme", "axes": {...}}')
    parent: Taxonomy | None = None
    if data.get("extends"):
        parent = load_taxonomy(str(data["extends"]))
    axes: dict[str, list[CinematicClass]] = {a: list(parent.axes[a]) if parent else [] for a in AXES}
    unknown_axes = set(data["axes"]) - set(AXES)
    if unknown_axes:
        raise UserInputError(origin, f"unknown axes {sorted(unknown_axes)} (expected {list(AXES)})")
    seen = {c.key for a in AXES for c in axes[a]}
    for axis in AXES:
        for entry in data["axes"].get(axis, []):
            try:
                key = str(entry["key"])
                cls = CinematicClass(axis=axis, key=key, label=str(entry.get("label", key)),
                                     definition=str(entry.get("definition", "")),
                                     prompts=tuple(str(p) for p in entry.get("prompts", [])))
            except (TypeError, KeyError) as exc:
                raise UserInputError(origin, f"malformed class entry on axis {axis}: {exc}") from None
            if not key.isidentifier() or key != key.lower():
                raise UserInputError(origin, f"class key {key!r} must be lower_snake_case")
            if key in seen:
                raise UserInputError(origin, f"duplicate class key {key!r}")
            if len(cls.prompts) < MIN_PROMPTS:
                raise UserInputError(origin, f"class {key!r} needs at least {MIN_PROMPTS} prompts")
            seen.add(key)
            axes[axis].append(cls)
    for axis in AXES:
        if not axes[axis]:
            raise UserInputError(origin, f"axis {axis!r} has no classes")
    return Taxonomy(scheme=str(data.get("scheme") or origin.stem),
                    axes={a: tuple(v) for a, v in axes.items()},
                    description=str(data.get("description", "")), source=str(origin))


@lru_cache(maxsize=32)
def _load_cached(path: Path, mtime_ns: int) -> Taxonomy:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UserInputError(path, f"not valid JSON: {exc}") from None
    return _parse(data, path)


def load_taxonomy(name_or_file: str | Path = DEFAULT_SCHEME) -> Taxonomy:
    """Load a scheme by name (``cinematic2k``, ``extended``) or from a JSON file."""
    path = _scheme_path(name_or_file).resolve()
    return _load_cached(path, path.stat().st_mtime_ns)
