"""The repository layer: idempotent imports, labels with audit, reviews, filters, jobs."""

from __future__ import annotations

import dataclasses
import hashlib
import pickle
import threading
from datetime import timezone

import pytest

from cinestudio.errors import UserInputError
from cinestudio.store import ClipFilter, ClipSpec, NotFoundError, PrelabelSpec


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


# -- sources and clips -----------------------------------------------------------------------


def test_add_source_is_idempotent_by_content_not_name(store):
    first, created = store.sources.add(path="/v/a.mp4", content_sha256=sha("x"), size_bytes=5)
    again, created_again = store.sources.add(path="/v/renamed.mp4", content_sha256=sha("x"),
                                             size_bytes=5)
    assert created and not created_again
    assert again == first and again.path == "/v/a.mp4"
    assert store.sources.find_by_hash(sha("x")) == first
    assert store.sources.find_by_hash(sha("y")) is None
    assert store.sources.count() == 1
    with pytest.raises(UserInputError):
        store.sources.add(path="b", content_sha256="not-a-hash", size_bytes=1)


def test_fingerprints_for_near_duplicates(store):
    src, _ = store.sources.add(path="a", content_sha256=sha("a"), size_bytes=1,
                               fingerprint_kind="dhash16-v1", fingerprint="ff00")
    other, _ = store.sources.add(path="b", content_sha256=sha("b"), size_bytes=1)
    store.sources.set_fingerprint(other.id, "dhash16-v1", "ff01")
    assert store.sources.fingerprints("dhash16-v1") == [(src.id, "ff00"), (other.id, "ff01")]
    assert [s.id for s in store.sources.find_by_fingerprint("dhash16-v1", "ff01")] == [other.id]


def test_add_clips_is_idempotent_per_range(store, clip_ids):
    src_id = store.clips.get(clip_ids[0]).source_id
    again = store.clips.add_many(src_id, [ClipSpec(100, 200), ClipSpec(300, 350, "thumbs/x.jpg")])
    assert again[0].id == clip_ids[1]
    assert again[1].thumbnail_path == "thumbs/x.jpg" and again[1].stage == "collected"
    assert store.clips.count() == 4
    assert len(store.audit.find(entity_type="clip", action="create")) == 4
    with pytest.raises(UserInputError):
        store.clips.add_many(src_id, [(50, 50)])
    with pytest.raises(NotFoundError):
        store.clips.add_many(999, [(0, 1)])


def test_records_are_frozen_picklable_and_utc(store, clip_ids):
    clip = store.clips.get(clip_ids[0])
    assert clip.created_at.tzinfo is not None
    assert clip.created_at.utcoffset() == timezone.utc.utcoffset(None)
    with pytest.raises(dataclasses.FrozenInstanceError):
        clip.stage = "verified"  # type: ignore[misc]
    assert pickle.loads(pickle.dumps(clip)) == clip
    assert clip.to_dict()["created_at"].endswith("+00:00")


# -- labels and the audit log ----------------------------------------------------------------


def test_set_label_writes_audit_with_before_and_after_and_moves_stage(store, clip_ids):
    cid = clip_ids[0]
    lab = store.labels.set(cid, "ana", framing="close_up", angle="eye_level",
                           movements=["pan_left", "zoom_in"], caption="a face")
    assert lab.movements == ("pan_left", "zoom_in")
    assert store.clips.get(cid).stage == "annotated"
    store.labels.set(cid, "ana", framing="close_up", angle="low", movements=["zoom_in", "pan_left"])
    store.labels.set(cid, "ana", framing="close_up", angle="low", movements=["zoom_in", "pan_left"])

    entries = store.audit.find(entity_type="label", entity_id=lab.id)
    assert [e.action for e in entries] == ["create", "update"]  # the no-op wrote nothing
    create, update = entries
    assert create.before is None and create.after["movements"] == ["pan_left", "zoom_in"]
    assert update.before["angle"] == "eye_level" and update.after["angle"] == "low"
    assert update.before["movements"] == ["pan_left", "zoom_in"]
    assert update.after["movements"] == ["zoom_in", "pan_left"]
    assert update.actor == "ana" and update.at >= create.at
    (stage,) = store.audit.find(entity_type="clip", entity_id=cid, action="stage")
    assert (stage.before, stage.after) == ({"stage": "collected"}, {"stage": "annotated"})
    assert store.labels.get(cid, "ana").movements == ("zoom_in", "pan_left")


def test_several_annotators_keep_their_own_labels(store, clip_ids):
    cid = clip_ids[0]
    store.labels.set(cid, "ana", framing="wide", angle="low", movements="static")
    store.labels.set(cid, "bo", framing="medium", angle="low", movements=["dolly_in"])
    clip = store.clips.get(cid)
    assert {lab.annotator: lab.framing for lab in clip.labels} == {"ana": "wide", "bo": "medium"}
    assert clip.label_by("bo").movements == ("dolly_in",)
    assert store.labels.annotators() == ["ana", "bo"]


def test_deleting_the_last_label_returns_the_clip_to_collected(store, clip_ids):
    cid = clip_ids[0]
    store.labels.set(cid, "ana", framing="wide")
    assert store.labels.delete(cid, "ana")
    assert not store.labels.delete(cid, "ana")
    assert store.clips.get(cid).stage == "collected"
    actions = [e.action for e in store.audit.find(entity_type="label")]
    assert actions == ["create", "delete"]


def test_prelabels_are_kept_apart_from_labels_and_replaced_per_origin(store, clip_ids):
    cid = clip_ids[0]
    store.prelabels.replace(cid, "motion", [PrelabelSpec("movement", "pan_left", 0.9),
                                            PrelabelSpec("movement", "zoom_in", 0.4, rank=1)])
    store.prelabels.replace(cid, "cameraclip", [PrelabelSpec("framing", "wide", 0.7)],
                            model_id="run-7")
    store.prelabels.replace(cid, "motion", [PrelabelSpec("movement", "tilt_up", 0.8,
                                                         details={"magnitude": 1.5})])
    clip = store.clips.get(cid)
    assert clip.labels == () and clip.stage == "collected"
    assert {(p.origin, p.key) for p in clip.prelabels} == {("motion", "tilt_up"),
                                                           ("cameraclip", "wide")}
    assert store.prelabels.for_clip(cid, "cameraclip")[0].model_id == "run-7"
    with pytest.raises(UserInputError):
        store.prelabels.replace(cid, "motion", [PrelabelSpec("movement", "x", 1.5)])


def test_prelabels_replace_many_in_one_transaction(store, clip_ids):
    a, b, c = clip_ids
    store.prelabels.replace(a, "cameraclip", [PrelabelSpec("angle", "low", 0.2)])
    written = store.prelabels.replace_many(
        "cameraclip", {a: [PrelabelSpec("angle", "high", 0.6)],
                       b: [PrelabelSpec("angle", "low", 0.9), PrelabelSpec("framing", "wide", 0.8)]},
        model_id="run-3")
    assert written == 3
    assert [p.key for p in store.prelabels.for_clip(a)] == ["high"]
    with pytest.raises(NotFoundError):
        store.prelabels.replace_many("cameraclip", {c: [], 999: []})
    assert store.prelabels.count() == 3


# -- reviews ---------------------------------------------------------------------------------


def test_reviews_verify_or_reject_with_audit(store, clip_ids):
    a, b, c = clip_ids
    lab = store.labels.set(a, "ana", framing="wide", angle="low", movements=["pan_left"])
    review = store.reviews.add(a, "rita", "fix", framing="wide", angle="high",
                               movements=["pan_left", "zoom_in"], label_id=lab.id)
    assert store.clips.get(a).stage == "verified"
    assert store.clips.get(a).review == review and review.movements == ("pan_left", "zoom_in")
    store.reviews.add(b, "rita", "reject", reason="not a single shot")
    assert store.clips.get(b).stage == "rejected"

    (entry,) = store.audit.find(entity_type="review", entity_id=review.id)
    assert entry.before == {"stage": "annotated"} and entry.after["angle"] == "high"
    assert entry.actor == "rita"

    with pytest.raises(UserInputError, match="reason"):
        store.reviews.add(c, "rita", "reject")
    with pytest.raises(UserInputError, match="full verified label"):
        store.reviews.add(c, "rita", "accept", framing="wide", angle="low")
    with pytest.raises(UserInputError):
        store.reviews.add(c, "rita", "maybe")
    with pytest.raises(UserInputError, match="not a label of clip"):
        store.reviews.add(c, "rita", "accept", framing="wide", angle="low", movements="static",
                          label_id=lab.id)
    assert store.clips.get(c).stage == "collected"


def test_a_second_review_records_the_previous_outcome_as_before(store, clip_ids):
    cid = clip_ids[0]
    store.reviews.add(cid, "rita", "accept", framing="wide", angle="low", movements="static")
    second = store.reviews.add(cid, "sam", "reject", reason="two shots")
    (entry,) = store.audit.find(entity_type="review", entity_id=second.id)
    assert entry.before["decision"] == "accept" and entry.before["stage"] == "verified"
    assert store.reviews.latest(cid) == second and len(store.reviews.for_clip(cid)) == 2


# -- transactions ----------------------------------------------------------------------------


def test_a_failed_transaction_leaves_nothing(store):
    with pytest.raises(RuntimeError):
        with store.transaction() as tx:
            src, _ = tx.sources.add(path="a.mp4", content_sha256=sha("t"), size_bytes=1)
            (clip,) = tx.clips.add_many(src.id, [(0, 10)])
            tx.labels.set(clip.id, "ana", framing="wide")
            tx.prelabels.replace(clip.id, "motion", [PrelabelSpec("movement", "static", 1.0)])
            raise RuntimeError("killed mid-import")
    assert store.sources.count() == 0 and store.clips.count() == 0
    assert store.labels.count() == 0 and store.prelabels.count() == 0
    assert store.audit.count() == 0


def test_a_failing_step_inside_a_method_rolls_the_whole_call_back(store, clip_ids):
    before = store.audit.count()
    with pytest.raises(UserInputError):
        store.labels.set(clip_ids[0], "  ")
    with pytest.raises(NotFoundError):
        store.labels.set(424242, "ana", framing="wide")
    assert store.audit.count() == before and store.labels.count() == 0


def test_a_committed_transaction_keeps_everything(store):
    with store.transaction() as tx:
        src, _ = tx.sources.add(path="a.mp4", content_sha256=sha("t"), size_bytes=1)
        clips = tx.clips.add_many(src.id, [(0, 10), (10, 20)])
        tx.labels.set(clips[0].id, "ana", framing="wide")
    assert store.clips.count() == 2 and store.clips.get(clips[0].id).stage == "annotated"


# -- listing and filters ---------------------------------------------------------------------


def test_find_clips_by_stage_label_annotator_and_confidence(store, clip_ids):
    a, b, c = clip_ids
    store.labels.set(a, "ana", framing="wide", angle="low", movements=["pan_left", "zoom_in"])
    store.labels.set(a, "bo", framing="wide", angle="low", movements=["zoom_in"])
    store.labels.set(b, "bo", framing="close_up", angle="high", movements=["static"])
    store.prelabels.replace(c, "motion", [PrelabelSpec("movement", "tilt_up", 0.3)])
    store.prelabels.replace(b, "motion", [PrelabelSpec("movement", "static", 0.95)])

    assert store.clips.ids(stage="annotated") == [a, b]
    assert store.clips.ids(stage=("collected", "verified")) == [c]
    assert store.clips.ids(annotator="ana") == [a]
    assert store.clips.ids(unlabelled_by="ana") == [b, c]
    assert store.clips.ids(label_key="zoom_in") == [a]
    assert store.clips.ids(label_key="close_up") == [b]
    assert store.clips.ids(min_annotators=2) == [a]
    assert store.clips.ids(max_confidence=0.5) == [c]
    assert store.clips.ids(prelabel_key="static", min_confidence=0.9) == [b]
    assert store.clips.ids(ClipFilter(stage="annotated", label_key="static")) == [b]
    assert store.clips.count(stage="annotated") == 2
    assert store.clips.count_by_stage() == {"collected": 1, "annotated": 2, "verified": 0,
                                            "rejected": 0}
    page = store.clips.find(limit=2, offset=1)
    assert [p.id for p in page] == [b, c] and page[0].labels[0].annotator == "bo"
    bare = store.clips.find(details=False)
    assert bare[0].labels == () and not bare[0].details_loaded
    assert [x.id for x in store.clips.get_many([c, a, 999])] == [c, a]
    with pytest.raises(UserInputError):
        store.clips.ids(stage="done")


def test_find_clips_whose_pre_labellers_disagree(store, clip_ids):
    """Two origins with different first choices on one axis: a clip worth a careful look. The same
    choice, one origin alone, or a difference in second choices is no disagreement."""
    a, b, c = clip_ids
    store.prelabels.replace(a, "motion", [PrelabelSpec("movement", "static", 0.8)])
    store.prelabels.replace(a, "cameraclip", [PrelabelSpec("movement", "tracking", 0.9),
                                              PrelabelSpec("framing", "wide", 0.9)])
    store.prelabels.replace(b, "motion", [PrelabelSpec("movement", "pan_left", 0.8),
                                          PrelabelSpec("movement", "zoom_in", 0.5, rank=1)])
    store.prelabels.replace(b, "cameraclip", [PrelabelSpec("movement", "pan_left", 0.7),
                                              PrelabelSpec("movement", "tracking", 0.2, rank=1)])
    store.prelabels.replace(c, "cameraclip", [PrelabelSpec("movement", "tilt_up", 0.3)])
    assert store.clips.ids(prelabels_disagree=True) == [a]
    assert store.clips.ids(prelabels_disagree=False) == [b, c]
    assert store.clips.ids(ClipFilter(prelabels_disagree=True, stage="annotated")) == []


def test_set_stage_is_audited(store, clip_ids):
    store.clips.set_stage(clip_ids[0], "rejected", actor="rita", reason="duplicate")
    (entry,) = store.audit.find(entity_type="clip", action="stage")
    assert entry.after == {"stage": "rejected", "reason": "duplicate"}


# -- settings --------------------------------------------------------------------------------


def test_settings_roundtrip_json_and_are_audited(store):
    assert store.settings.get("taxonomy.scheme", "cinematic2k") == "cinematic2k"
    store.settings.set("taxonomy.scheme", "extended", actor="ana")
    store.settings.set("cameraclip.active_run", {"run": "runs/7", "step": 1200})
    store.settings.set("cameraclip.active_run", {"run": "runs/7", "step": 1200})
    assert store.settings.get("cameraclip.active_run") == {"run": "runs/7", "step": 1200}
    assert store.settings.all() == {"cameraclip.active_run": {"run": "runs/7", "step": 1200},
                                    "taxonomy.scheme": "extended"}
    assert len(store.audit.find(entity_type="setting")) == 2
    assert store.settings.delete("taxonomy.scheme") and store.settings.get("taxonomy.scheme") is None


# -- jobs ------------------------------------------------------------------------------------


def test_job_lifecycle_cancel_resume_keeps_checkpoint(store):
    job = store.jobs.create("clip-train", {"epochs": 2, "lr": 3e-4}, device="cpu")
    assert job.state == "queued" and job.config == {"epochs": 2, "lr": 3e-4}
    running = store.jobs.claim_next(pid=4242, host="box")
    assert running.id == job.id and running.state == "running" and running.attempts == 1
    assert store.jobs.claim_next() is None
    store.jobs.update_progress(job.id, 5, 20, "epoch 1")
    store.jobs.set_checkpoint(job.id, 5)
    assert store.jobs.request_cancel(job.id).cancel_requested
    assert store.jobs.cancel_requested(job.id)
    done = store.jobs.finish(job.id, "cancelled", message="stopped at step 5")
    assert done.state == "cancelled" and done.finished_at is not None and done.is_finished
    resumed = store.jobs.resume(job.id)
    assert resumed.state == "queued" and resumed.checkpoint_step == 5
    assert not resumed.cancel_requested and resumed.progress_done == 5
    again = store.jobs.start(job.id, pid=99)
    assert again.attempts == 2 and again.pid == 99
    finished = store.jobs.finish(job.id, "succeeded", result={"r@1": 0.9})
    assert finished.result == {"r@1": 0.9}
    with pytest.raises(UserInputError, match="cannot go from succeeded"):
        store.jobs.resume(job.id)
    with pytest.raises(UserInputError, match="nothing to cancel"):
        store.jobs.request_cancel(job.id)


def test_dead_workers_leave_interrupted_jobs(store):
    alive = store.jobs.create("clip-train", {})
    dead = store.jobs.create("render", {})
    queued = store.jobs.create("render", {})
    store.jobs.start(alive.id, pid=1)
    store.jobs.start(dead.id, pid=2)
    out = store.jobs.mark_interrupted(lambda job: job.pid == 1)
    assert [j.id for j in out] == [dead.id] and out[0].state == "interrupted"
    assert store.jobs.get(alive.id).state == "running"
    assert store.jobs.get(queued.id).state == "queued"
    assert store.jobs.count_by_state()["interrupted"] == 1
    assert [j.id for j in store.jobs.find(states="interrupted")] == [dead.id]
    assert [j.id for j in store.jobs.find(kind="render", newest_first=True)] == [queued.id, dead.id]
    cancelled = store.jobs.request_cancel(queued.id)
    assert cancelled.state == "cancelled"
    with pytest.raises(UserInputError):
        store.jobs.finish(dead.id, "succeeded")  # interrupted jobs are resumed, not finished


def test_claim_next_filters_by_kind_and_device(store):
    store.jobs.create("render", {}, device="cuda")
    cpu = store.jobs.create("clip-train", {}, device="cpu")
    assert store.jobs.claim_next(devices=["cpu"]).id == cpu.id
    assert store.jobs.claim_next(kinds=["clip-train"]) is None


# -- threads (the GUI uses the store from worker threads) -------------------------------------


def test_threads_can_share_one_store(store, clip_ids):
    errors: list[BaseException] = []

    def annotate(name: str) -> None:
        try:
            for cid in clip_ids:
                store.labels.set(cid, name, framing="wide", angle="low", movements=["static"])
                store.clips.find(stage="annotated")
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=annotate, args=(f"t{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert errors == []
    assert store.labels.count() == 4 * len(clip_ids)
