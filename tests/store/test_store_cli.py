"""``cinestudio workspace init|info``."""

from __future__ import annotations

import json
import subprocess
import sys


def run_cli(*args):
    return subprocess.run([sys.executable, "-m", "cinestudio", *args], capture_output=True,
                          text=True, encoding="utf-8", timeout=120)


def test_workspace_init_then_info_json_on_a_non_ascii_path(tmp_path):
    root = tmp_path / "plan séquence 日本"
    created = run_cli("--workspace", str(root), "workspace", "init", "--json")
    assert created.returncode == 0, created.stderr
    assert json.loads(created.stdout)["created"] is True

    from cinestudio.store import open_workspace
    with open_workspace(root) as store:
        src, _ = store.sources.add(path="a.mp4", content_sha256="ab" * 32, size_bytes=3)
        clips = store.clips.add_many(src.id, [(0, 10), (10, 20)])
        store.labels.set(clips[0].id, "ana", framing="wide", angle="low", movements="static")
        store.jobs.create("clip-train", {})

    result = run_cli("--workspace", str(root), "workspace", "info", "--json")
    assert result.returncode == 0, result.stderr
    info = json.loads(result.stdout)
    assert info["workspace"] == str(root.resolve())
    assert info["database"] == str(root.resolve() / "cinestudio.db")
    assert info["schema_revision"] == info["schema_head"] is not None
    assert info["counts"]["sources"] == 1
    assert info["counts"]["clips"] == {"collected": 1, "annotated": 1, "verified": 0,
                                       "rejected": 0, "total": 2}
    assert info["counts"]["labels"] == 1 and info["counts"]["jobs"]["queued"] == 1

    text = run_cli("--workspace", str(root), "workspace", "info")
    assert text.returncode == 0 and "2: 1 collected, 1 annotated" in text.stdout
    again = run_cli("--workspace", str(root), "workspace", "init", "--json")
    assert json.loads(again.stdout)["created"] is False


def test_info_on_a_folder_that_is_no_workspace_is_one_error_line(tmp_path):
    result = run_cli("--workspace", str(tmp_path / "nothing here"), "workspace", "info", "--json")
    assert result.returncode == 2 and result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and "not a CineStudio workspace" in lines[0]
    assert not (tmp_path / "nothing here").exists(), "info must not create a workspace"


def test_a_corrupt_database_is_one_error_line(tmp_path):
    (tmp_path / "cinestudio.db").write_bytes(b"\x00garbage" * 100)
    result = run_cli("--workspace", str(tmp_path), "workspace", "info")
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        f"error: {tmp_path / 'cinestudio.db'}: not a usable database (file is not a database)"]
