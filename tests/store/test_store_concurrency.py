"""Several processes share one workspace: all their writes succeed and none is lost."""

from __future__ import annotations

import hashlib
import multiprocessing as mp
import traceback

from cinestudio.store import open_workspace

PROCESSES = 3
ITEMS = 50
SHARED_HASH = hashlib.sha256(b"the same file imported by everyone").hexdigest()


def _worker(root: str, worker: int, start, results) -> None:
    try:
        start.wait(60)  # all open the (fresh) workspace at once: migrations must not race
        created_shared = 0
        with open_workspace(root) as store:
            for i in range(ITEMS):
                digest = hashlib.sha256(f"{worker}-{i}".encode()).hexdigest()
                with store.transaction() as tx:
                    src, _ = tx.sources.add(path=f"w{worker}/{i}.mp4", content_sha256=digest,
                                            size_bytes=i)
                    (clip,) = tx.clips.add_many(src.id, [(0, 10 + i)], actor=f"w{worker}")
                    tx.labels.set(clip.id, f"w{worker}", framing="wide", angle="low",
                                  movements=["pan_left", "zoom_in"])
                # Read-then-write from every process on the same row: no lock errors, one winner.
                _, created = store.sources.add(path=f"w{worker}/copy.mp4",
                                               content_sha256=SHARED_HASH, size_bytes=1)
                created_shared += created
                # Read-modify-write of one hot value: no update may be lost.
                with store.transaction() as tx:
                    tx.settings.set("counter", tx.settings.get("counter", 0) + 1,
                                    actor=f"w{worker}")
        results.put((worker, "ok", created_shared))
    except BaseException:
        results.put((worker, "error", traceback.format_exc()))


def test_processes_writing_concurrently_all_succeed_and_lose_nothing(tmp_path):
    root = tmp_path / "shared workspace é"  # does not exist yet: the migrations race too
    ctx = mp.get_context("spawn")
    start, results = ctx.Event(), ctx.Queue()
    procs = [ctx.Process(target=_worker, args=(str(root), w, start, results))
             for w in range(PROCESSES)]
    for p in procs:
        p.start()
    start.set()
    outcomes = [results.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(60)
    failures = [o for o in outcomes if o[1] != "ok"]
    assert not failures, failures[0][2]
    assert sum(o[2] for o in outcomes) == 1, "exactly one process created the shared source"

    with open_workspace(root) as store:
        assert store.sources.count() == PROCESSES * ITEMS + 1
        assert store.clips.count() == PROCESSES * ITEMS
        assert store.labels.count() == PROCESSES * ITEMS
        assert store.clips.count_by_stage()["annotated"] == PROCESSES * ITEMS
        for w in range(PROCESSES):
            labels = store.clips.find(annotator=f"w{w}")
            assert len(labels) == ITEMS
            assert all(c.labels[0].movements == ("pan_left", "zoom_in") for c in labels)
        assert store.settings.get("counter") == PROCESSES * ITEMS
        # one audit row per source, clip, label, stage change and counter update, none lost
        assert store.audit.count() == 5 * PROCESSES * ITEMS + 1
