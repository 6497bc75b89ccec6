import os
import stat

import pytest

from cinestudio.fsutil import atomic_path, newest_first, prune_oldest, write_json_atomic


def test_atomic_path_replaces_only_on_success(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("disk full")
    assert target.read_text() == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["out.txt"]  # no temp file left behind
    with atomic_path(target) as tmp:
        assert tmp.suffix == ".txt" and tmp.parent == tmp_path
        tmp.write_text("new")
    assert target.read_text() == "new"


def test_atomic_outputs_get_the_usual_permissions_not_private_ones(tmp_path):
    old = os.umask(0o022)
    try:
        write_json_atomic(tmp_path / "séquence.json", {"a": 1})
    finally:
        os.umask(old)
    mode = stat.S_IMODE((tmp_path / "séquence.json").stat().st_mode)
    assert mode == 0o644


def test_pruning_keeps_the_newest_matching_files_and_leaves_writes_in_flight_and_others_alone(tmp_path):
    for age, name in enumerate(["d.mp4", "c.mp4", "b.mp4", "a.mp4", ".a.tmp1.mp4", "notes.txt"]):
        (tmp_path / name).write_text(name)
        os.utime(tmp_path / name, (1e9 - age, 1e9 - age))
    assert [p.name for p in newest_first(tmp_path, "*.mp4")] == ["d.mp4", "c.mp4", "b.mp4", "a.mp4"]
    assert [p.name for p in prune_oldest(tmp_path, "*.mp4", keep=2)] == ["b.mp4", "a.mp4"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [".a.tmp1.mp4", "c.mp4", "d.mp4", "notes.txt"]
    assert prune_oldest(tmp_path / "missing", "*.mp4", keep=0) == []

