"""probe: honest frame counts and clear errors for bad input."""

from __future__ import annotations

import av
import pytest

from cinestudio.errors import MediaError, UserInputError
from cinestudio.media.probe import VideoInfo, probe


def decoded_count(path) -> int:
    """Frames that decode, counted the slow, obvious way (independent of cinestudio.media):
    packets cut off (flagged corrupt) or failing to decode are not frames."""
    n = 0
    with av.open(str(path)) as c:
        s = c.streams.video[0]
        for packet in c.demux(s):
            if packet.is_corrupt:
                continue
            try:
                n += len(s.decode(packet))
            except av.error.FFmpegError:
                pass
    return n


def test_probe_h264_trusts_a_verified_header(videos):
    info = probe(videos["h264_gop7"])
    assert isinstance(info, VideoInfo)
    assert (info.frames, info.width, info.height, info.codec) == (40, 64, 48, "h264")
    assert info.fps == pytest.approx(10)
    assert info.duration == pytest.approx(4.0)
    assert info.header_frames == 40
    assert info.counted == "header"
    d = info.to_dict()
    for key in ("frames", "fps", "width", "height", "duration", "codec"):
        assert key in d


@pytest.mark.parametrize("name", ["h264_gop7", "h264_gop5_nob", "h264_onegop", "mjpeg_avi", "mp4v_avi",
                                  "mpeg4_gop6_mkv"])
def test_probe_counts_what_decodes(videos, name):
    assert probe(videos[name]).frames == decoded_count(videos[name])


def test_lying_avi_reports_decoded_frames(bad_files):
    info = probe(bad_files["lying_avi"])
    assert info.header_frames == 40
    assert info.frames == 28 == decoded_count(bad_files["lying_avi"])
    assert info.counted == "packets"


def test_truncated_avi_reports_decoded_frames(bad_files):
    info = probe(bad_files["truncated_avi"])
    assert info.header_frames == 30
    assert 0 < info.frames < 30
    assert info.frames == decoded_count(bad_files["truncated_avi"])


def test_mp4_with_cut_off_media_data_reports_frames_that_decode(bad_files):
    info = probe(bad_files["truncated_tail"])
    assert info.header_frames == 20
    assert 0 < info.frames < 20
    assert info.frames == decoded_count(bad_files["truncated_tail"])
    assert info.counted == "packets"


def test_non_ascii_path(bad_files):
    assert probe(bad_files["non_ascii"]).frames == 12
    assert probe(str(bad_files["non_ascii"])).path == str(bad_files["non_ascii"])


@pytest.mark.parametrize("name, reason", [
    ("missing", "no such file"),
    ("folder", "folder"),
    ("empty", "empty file"),
    ("text_mp4", "text file"),
    ("image", "still image"),
    ("image_as_mp4", "still image"),
    ("no_moov", "truncated MP4"),
])
def test_bad_inputs_raise_media_error(bad_files, name, reason):
    with pytest.raises(MediaError) as err:
        probe(bad_files[name])
    assert isinstance(err.value, UserInputError)
    assert err.value.subject == str(bad_files[name])
    assert reason in err.value.reason
    assert "\n" not in err.value.reason


def test_audio_only_file_has_no_video_stream(tmp_path):
    path = tmp_path / "tone.wav"
    import numpy as np

    with av.open(str(path), "w") as c:
        s = c.add_stream("pcm_s16le", rate=8000)
        frame = av.AudioFrame.from_ndarray(np.zeros((1, 800), np.int16), format="s16", layout="mono")
        frame.sample_rate = 8000
        for p in s.encode(frame):
            c.mux(p)
        for p in s.encode(None):
            c.mux(p)
    with pytest.raises(MediaError, match="no video stream"):
        probe(path)


def test_probe_without_counting_takes_the_header_at_its_word(videos, bad_files):
    """count=False is for callers that decode everything anyway (import): the claim, unchecked,
    and said to be unchecked; the picture's facts are the same as with counting."""
    lying = probe(bad_files["lying_avi"], count=False)
    assert (lying.frames, lying.header_frames, lying.counted) == (40, 40, "claimed")
    good, counted = probe(videos["h264_gop7"], count=False), probe(videos["h264_gop7"])
    assert (good.frames, good.counted) == (40, "claimed")
    assert (good.width, good.height, good.codec, good.fps) == \
        (counted.width, counted.height, counted.codec, counted.fps)


@pytest.mark.parametrize("name", ["empty", "text_mp4", "no_moov", "image_as_mp4", "image"])
def test_probe_without_counting_still_rejects_unreadable_files(bad_files, name):
    with pytest.raises(UserInputError):
        probe(bad_files[name], count=False)
