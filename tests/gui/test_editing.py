"""Label editing rules and the class keymap, headless (no widgets)."""

from __future__ import annotations

from cinestudio.gui.annotate.backend import LabelState, suggestions_of
from cinestudio.gui.annotate.editing import drop_last_movement, pick, take_suggestion, with_caption
from cinestudio.gui.annotate.keymap import ACTIONS, class_shortcuts
from cinestudio.taxonomy import load_taxonomy


def test_single_axes_toggle_and_movements_keep_their_order():
    s = pick(LabelState(), "framing", "close_up")
    assert s.framing == "close_up"
    assert pick(s, "framing", "close_up").framing is None
    assert pick(s, "framing", "long_shot").framing == "long_shot"
    s = pick(pick(s, "movement", "pan_left"), "movement", "zoom_in")
    assert s.movements == ("pan_left", "zoom_in")
    assert pick(s, "movement", "pan_left").movements == ("zoom_in",)
    assert pick(s, "movement", "static").movements == ("static",)
    assert pick(pick(s, "movement", "static"), "movement", "tilt_up").movements == ("tilt_up",)
    assert drop_last_movement(s).movements == ("pan_left",)
    assert with_caption(s, "  a man walks  ").caption == "a man walks"
    assert with_caption(s, "   ").caption is None


def test_taking_a_suggestion_keeps_the_axes_it_does_not_cover():
    mine = LabelState(framing="close_up", movements=("static",), caption="x")
    taken = take_suggestion(mine, LabelState(movements=("pan_left", "zoom_in")))
    assert taken == LabelState("close_up", None, ("pan_left", "zoom_in"), "x")


def test_every_class_of_both_schemes_has_its_own_key_and_none_clashes_with_actions():
    reserved = {seq for seqs in ACTIONS.values() for seq in seqs}
    for scheme in ("cinematic2k", "extended"):
        keys = class_shortcuts(load_taxonomy(scheme))
        assert len(keys) == len(load_taxonomy(scheme))
        assert len(set(keys.values())) == len(keys)
        assert not set(keys.values()) & reserved
    keys = class_shortcuts(load_taxonomy())
    assert keys[("framing", "medium_shot")] == "3" and keys[("movement", "zoom_in")] == "X"


def test_a_movement_sequence_suggestion_is_offered_in_order():
    from datetime import datetime, timezone

    from cinestudio.store import ClipRecord, PrelabelRecord

    now = datetime.now(timezone.utc)

    def pre(i, key, conf, rank, seq):
        return PrelabelRecord(i, 1, "movement", key, conf, "motion", None, rank,
                              {"sequence": seq}, now)

    clip = ClipRecord(1, 1, 0, 10, None, "collected", now, now,
                      prelabels=(pre(1, "zoom_in", 0.7, 1, True), pre(2, "pan_left", 0.8, 0, True)))
    s = suggestions_of(clip)["movement"]
    assert s.keys == ("pan_left", "zoom_in") and s.confidence == 0.8
    single = ClipRecord(1, 1, 0, 10, None, "collected", now, now,
                        prelabels=(pre(1, "tilt_up", 0.6, 0, False),))
    assert suggestions_of(single)["movement"].keys == ("tilt_up",)


def test_origins_that_disagree_are_kept_beside_the_suggestion():
    from datetime import datetime, timezone

    from cinestudio.store import ClipRecord, PrelabelRecord

    now = datetime.now(timezone.utc)

    def pre(i, axis, key, conf, origin):
        return PrelabelRecord(i, 1, axis, key, conf, origin, None, 0, {}, now)

    clip = ClipRecord(1, 1, 0, 10, None, "collected", now, now,
                      prelabels=(pre(1, "movement", "static", 0.7, "motion"),
                                 pre(2, "movement", "tracking", 0.9, "cameraclip"),
                                 pre(3, "framing", "close_up", 0.8, "cameraclip")))
    s = suggestions_of(clip)
    # the most confident origin is offered; the other one's differing verdict comes with it
    assert s["movement"].keys == ("tracking",) and s["movement"].origin == "cameraclip"
    assert s["movement"].dissent == (("motion", ("static",), 0.7),)
    assert s["framing"].dissent == ()
    agree = ClipRecord(1, 1, 0, 10, None, "collected", now, now,
                       prelabels=(pre(1, "movement", "pan_left", 0.7, "motion"),
                                  pre(2, "movement", "pan_left", 0.9, "cameraclip")))
    assert suggestions_of(agree)["movement"].dissent == ()
    # as the "Disagree" filter: first choices count; a longer sequence from the same first move does not
    seq = ClipRecord(1, 1, 0, 10, None, "collected", now, now,
                     prelabels=(PrelabelRecord(1, 1, "movement", "pan_left", 0.7, "motion", None, 0, {"sequence": True}, now),
                                PrelabelRecord(4, 1, "movement", "zoom_in", 0.7, "motion", None, 1, {"sequence": True}, now),
                                pre(2, "movement", "pan_left", 0.9, "cameraclip")))
    assert suggestions_of(seq)["movement"].keys == ("pan_left",) and suggestions_of(seq)["movement"].dissent == ()
