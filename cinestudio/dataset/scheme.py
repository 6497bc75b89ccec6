"""The taxonomy a workspace labels with, and checking label keys against it."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from cinestudio.errors import UserInputError
from cinestudio.store import WorkspaceStore
from cinestudio.store.settings import TAXONOMY_SCHEME
from cinestudio.taxonomy import DEFAULT_SCHEME, Taxonomy, load_taxonomy


def scheme_ref(store: WorkspaceStore) -> str:
    """The workspace's scheme: a scheme name, or a JSON file (relative paths are taken from the
    workspace folder and returned absolute)."""
    value = store.settings.get(TAXONOMY_SCHEME) or DEFAULT_SCHEME
    value = str(value)
    if value.endswith(".json"):
        path = Path(value).expanduser()
        if not path.is_absolute():
            path = store.paths.root / path
        return str(path)
    return value


def workspace_taxonomy(store: WorkspaceStore) -> Taxonomy:
    """The `Taxonomy` of the workspace's scheme (setting ``taxonomy.scheme``, default cinematic2k)."""
    return load_taxonomy(scheme_ref(store))


def check_key(taxonomy: Taxonomy, axis: str, key: str | None) -> str | None:
    """`key` if the scheme defines it on `axis` (None stays None); else UnknownClassError."""
    if key is None:
        return None
    key = str(key).strip()
    if not key:
        return None
    return taxonomy.check(axis, key)


def check_movements(taxonomy: Taxonomy, movements: Sequence[str] | str | None) -> list[str]:
    """Movement keys in order, each checked; a repeated key is refused."""
    if movements is None:
        return []
    if isinstance(movements, str):
        movements = [movements]
    out: list[str] = []
    for mv in movements:
        key = check_key(taxonomy, "movement", mv)
        if key is None:
            continue
        if key in out:
            raise UserInputError(key, "movement given twice (list each movement once, in order)")
        out.append(key)
    return out
