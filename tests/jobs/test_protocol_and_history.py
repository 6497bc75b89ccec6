"""The JSON-lines protocol (encode/decode, tails of a growing file, ETA) and JobHistory's curves."""

from __future__ import annotations

import json

from cinestudio.jobs.history import JobHistory
from cinestudio.jobs.protocol import EtaEstimator, EventTail, EventWriter, decode, format_event, last_events


def test_protocol_lines_round_trip_and_foreign_lines_become_logs(tmp_path):
    writer = EventWriter(7, None, tmp_path / "events.jsonl")
    sent = [writer.emit("started", attempt=1, resume_step=None), writer.emit("progress", done=1, total=4, message="m",
                                                                             phase="train", eta_s=3.0)]
    writer.close()
    lines = (tmp_path / "events.jsonl").read_text().splitlines()
    assert [decode(x) for x in lines] == sent
    assert [m["seq"] for m in sent] == [1, 2] and all(m["job"] == 7 for m in sent)
    assert decode("warning: something printed by a library") == {
        "type": "log", "level": "info", "message": "warning: something printed by a library"}
    assert decode('{"type": "nonsense"}')["type"] == "log" and decode("   ") is None
    assert "1/4 m (ETA 0:03)" in format_event(sent[1])


def test_event_tail_returns_only_complete_new_lines_and_restarts_on_truncation(tmp_path):
    path = tmp_path / "events.jsonl"
    tail = EventTail(path, max_bytes=64)
    assert tail.read() == []
    with open(path, "w") as fh:
        fh.write(json.dumps({"type": "log", "message": "a"}) + "\n" + '{"type": "log", "mess')
    assert [m["message"] for m in tail.read()] == ["a"]
    with open(path, "a") as fh:
        fh.write('age": "b"}\n')
    got = []
    while not tail.at_end:                                   # bounded slices: several reads
        got += tail.read()
    assert [m["message"] for m in got] == ["b"]
    path.write_text(json.dumps({"type": "log", "message": "c"}) + "\n")   # replaced by a shorter file
    assert [m["message"] for m in tail.read()] == ["c"]
    assert last_events(path, ("log",))["log"]["message"] == "c"


def test_eta_uses_the_rate_since_the_phase_began():
    eta = EtaEstimator()
    assert eta.update(0, 100, "prepare", now=0.0) is None
    assert eta.update(50, 100, "prepare", now=5.0) == 5.0
    assert eta.update(10, 40, "train", now=6.0) is None        # a new phase starts over
    assert eta.update(20, 40, "train", now=16.0) == 20.0


def test_history_folds_metrics_and_a_resumed_attempt_drops_points_after_its_checkpoint():
    h = JobHistory(1)

    def metric(step):
        return {"type": "metric", "step": step, "values": {"loss": 10.0 - step, "val_r1.movement": step / 10}}

    h.add([{"type": "started", "attempt": 1, "resume_step": None}] + [metric(s) for s in (1, 2, 3, 4)])
    h.add([{"type": "done", "state": "cancelled", "message": "cancelled"}])
    assert h.series["loss"][0] == [1, 2, 3, 4] and h.done["state"] == "cancelled"
    h.add([{"type": "started", "attempt": 2, "resume_step": 2}, metric(3)])
    assert h.series["loss"] == ([1, 2, 3], [9.0, 8.0, 7.0]) and h.done is None and h.attempt == 2
    assert any("cancelled" in line for line in h.log)
    assert h.names("val_r1.") == ["val_r1.movement"]
