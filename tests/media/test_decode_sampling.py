"""Frame-accurate decoding and seeking uniform sampling: same frames as decoding everything."""

from __future__ import annotations

import av
import cv2
import numpy as np
import pytest

from cinestudio.errors import MediaError, UserInputError
from cinestudio.media import _av, _reader
from cinestudio.media.decode import iter_frames, read_frames
from cinestudio.media.sampling import read_frames_at, sample_frames, sample_indices, uniform_indices
from tests.helpers.videos import frame_number

READABLE = ["h264_gop7", "h264_gop5_nob", "h264_onegop", "mjpeg_avi", "mp4v_avi", "mpeg4_gop6_mkv"]


def all_frames_pyav(path) -> np.ndarray:
    """Every frame decoded by PyAV directly, packet by packet, leaving out packets that fail or
    are flagged corrupt (cut off) — the reference, independent of cinestudio.media."""
    frames = []
    with av.open(str(path)) as c:
        s = c.streams.video[0]
        for packet in c.demux(s):
            if packet.is_corrupt:
                continue
            try:
                frames += [f.to_ndarray(format="rgb24") for f in s.decode(packet)]
            except av.error.FFmpegError:
                pass
    return np.stack(frames)


@pytest.fixture(autouse=True)
def fresh_index_cache():
    _reader.clear_cache()
    yield
    _reader.clear_cache()


# ------------------------------------------------------------------------------ uniform_indices

def test_uniform_indices_are_segment_centres():
    assert uniform_indices(0, 80, 8) == [5, 15, 25, 35, 45, 55, 65, 75]
    assert uniform_indices(10, 20, 2) == [12, 17]
    assert uniform_indices(0, 1, 3) == [0, 0, 0]
    assert uniform_indices(0, 3, 8) == [0, 0, 0, 1, 1, 2, 2, 2]


@pytest.mark.parametrize("start, end, n", [(0, 7, 3), (5, 100, 8), (0, 250, 8), (3, 4, 1), (0, 10, 10)])
def test_uniform_indices_properties(start, end, n):
    idx = uniform_indices(start, end, n)
    assert len(idx) == n
    assert idx == sorted(idx)
    assert all(start <= i < end for i in idx)
    if n <= end - start:
        assert len(set(idx)) == n
    assert uniform_indices(start, end, n) == idx


def test_uniform_indices_rejects_nonsense():
    with pytest.raises(ValueError):
        uniform_indices(0, 10, 0)
    with pytest.raises(ValueError):
        uniform_indices(5, 5, 2)


# ------------------------------------------------------------------------------------- decode

@pytest.mark.parametrize("name", READABLE)
def test_read_frames_matches_pyav(videos, name):
    ref = all_frames_pyav(videos[name])
    got = read_frames(videos[name])
    assert got.dtype == np.uint8 and got.shape == ref.shape
    assert np.array_equal(got, ref)
    assert [frame_number(f) for f in got] == list(range(len(got)))


@pytest.mark.parametrize("name", READABLE)
def test_ranges_are_frame_accurate(videos, name):
    ref = all_frames_pyav(videos[name])
    n = len(ref)
    for start, end in [(0, 3), (1, 2), (n // 2 - 1, n // 2 + 4), (n - 3, n), (7, None)]:
        got = read_frames(videos[name], start, end)
        assert np.array_equal(got, ref[start:end]), (start, end)
        assert [frame_number(f) for f in got] == list(range(start, n if end is None else end))


def test_iter_frames_is_lazy_and_resizes(videos):
    it = iter_frames(videos["h264_gop7"], 10, 14, size=32)
    first = next(it)
    assert first.shape == (24, 32, 3)
    rest = list(it)
    assert len(rest) == 3
    exact = read_frames(videos["h264_gop7"], 0, 2, size=(40, 20))
    assert exact.shape == (2, 20, 40, 3)


@pytest.mark.parametrize("start, end", [(-1, 3), (5, 5), (10, 3), (0, 41), (41, None)])
def test_bad_ranges_are_user_errors(videos, start, end):
    with pytest.raises(UserInputError, match="frame range"):
        read_frames(videos["h264_gop7"], start, end)


def test_decode_bad_file_raises_media_error(bad_files):
    for name in ("text_mp4", "no_moov", "empty", "missing", "folder"):
        with pytest.raises(MediaError):
            read_frames(bad_files[name])
        with pytest.raises(MediaError):
            sample_frames(bad_files[name])


# ----------------------------------------------------------------------------------- sampling

@pytest.mark.parametrize("name", READABLE)
@pytest.mark.parametrize("n", [1, 4, 8, 13])
def test_sample_frames_equal_decode_all_and_index(videos, name, n):
    ref = all_frames_pyav(videos[name])
    idx = uniform_indices(0, len(ref), n)
    got = sample_frames(videos[name], n)
    assert got.shape == (n,) + ref.shape[1:]
    assert np.array_equal(got, ref[idx])
    assert [frame_number(f) for f in got] == idx


@pytest.mark.parametrize("name", ["h264_gop7", "mjpeg_avi", "mpeg4_gop6_mkv"])
def test_sample_a_range_and_more_samples_than_frames(videos, name):
    ref = all_frames_pyav(videos[name])
    got = sample_frames(videos[name], n=6, start=4, end=9)
    assert [frame_number(f) for f in got] == uniform_indices(4, 9, 6)
    assert np.array_equal(got, ref[uniform_indices(4, 9, 6)])
    assert sample_indices(videos[name], 6, 4, 9) == uniform_indices(4, 9, 6)


def test_sampling_with_resize_matches_decode_with_resize(videos):
    path = videos["h264_gop7"]
    ref = read_frames(path, size=(32, 24))
    got = sample_frames(path, 5, size=(32, 24))
    assert np.array_equal(got, ref[uniform_indices(0, len(ref), 5)])


def test_read_frames_at_any_order_with_repeats(videos):
    path = videos["h264_gop5_nob"]
    ref = all_frames_pyav(path)
    idx = [30, 2, 2, 17, 0, 32]
    assert np.array_equal(read_frames_at(path, idx), ref[idx])
    with pytest.raises(UserInputError):
        read_frames_at(path, [33])


@pytest.mark.parametrize("name", ["h264_gop7", "h264_gop5_nob", "mjpeg_avi", "mp4v_avi", "mpeg4_gop6_mkv"])
def test_sampling_really_seeks(videos, name, monkeypatch):
    """On these streams the seeking path must deliver every frame (no silent fallback)."""
    def no_fallback(*args, **kwargs):
        raise AssertionError("fell back to sequential decoding")

    monkeypatch.setattr(_reader, "sequential_decode", no_fallback)
    ref = all_frames_pyav(videos[name])
    idx = uniform_indices(0, len(ref), 8)
    assert np.array_equal(sample_frames(videos[name], 8), ref[idx])


def test_sampling_seeks_to_keyframes_not_from_the_start(videos, monkeypatch):
    """With several GOPs, sampling late frames must not decode the early GOPs."""
    path = videos["h264_gop5_nob"]
    sent = []
    real = _av.decode_packets

    def counting(stream, packets):
        def tap():
            for p in packets:
                sent.append(p.pts)
                yield p
        return real(stream, tap())

    monkeypatch.setattr(_av, "decode_packets", counting)
    _reader.video_index(path)  # index first (its tail check decodes too)
    sent.clear()
    sample_frames(path, 2, start=25, end=33)
    assert len(sent) < 15  # from the keyframes before frames 27 and 31, not 0..31


def test_fallback_when_seeking_fails_gives_same_frames(videos, monkeypatch):
    def broken_seek(*args, **kwargs):
        raise _av.SeekFailed("simulated")
        yield  # pragma: no cover

    monkeypatch.setattr(_reader, "seek_decode", broken_seek)
    ref = all_frames_pyav(videos["h264_gop7"])
    idx = uniform_indices(0, len(ref), 8)
    assert np.array_equal(sample_frames(videos["h264_gop7"], 8), ref[idx])


@pytest.mark.parametrize("name", ["lying_avi", "truncated_avi", "truncated_tail", "non_ascii"])
def test_awkward_files_sample_like_decode_all(bad_files, name):
    path = bad_files[name]
    ref = all_frames_pyav(path)
    assert np.array_equal(read_frames(path), ref)
    idx = uniform_indices(0, len(ref), 8)
    got = sample_frames(path, 8)
    assert np.array_equal(got, ref[idx])
    assert [frame_number(f) for f in got] == idx


def _write_vfr_h264(path, durations):
    """An H.264 MP4 whose frames last `durations` ticks of 1/30 s each (variable frame rate)."""
    from fractions import Fraction

    from tests.helpers.videos import moving_frame

    with av.open(str(path), "w") as c:
        s = c.add_stream("libx264", rate=30)
        s.width, s.height, s.pix_fmt = 64, 48, "yuv420p"
        s.codec_context.time_base = Fraction(1, 30)
        s.codec_context.gop_size = 6
        s.options = {"preset": "veryfast", "crf": "18"}
        pts = 0
        for i, d in enumerate(durations):
            vf = av.VideoFrame.from_ndarray(moving_frame(i, (64, 48), len(durations)), format="rgb24")
            vf.pts, vf.time_base = pts, Fraction(1, 30)
            pts += d
            for p in s.encode(vf):
                c.mux(p)
        for p in s.encode(None):
            c.mux(p)
    return path


def test_variable_frame_rate_is_indexed_by_order_not_by_time(tmp_path):
    durations = [1, 3, 1, 1, 2, 5, 1, 1, 1, 4, 1, 2] * 3
    path = _write_vfr_h264(tmp_path / "vfr.mp4", durations)
    ref = all_frames_pyav(path)
    assert len(ref) == len(durations)
    from cinestudio.media.probe import probe

    assert probe(path).frames == len(durations)
    for n in (5, 8, 36):
        idx = uniform_indices(0, len(ref), n)
        got = sample_frames(path, n)
        assert [frame_number(f) for f in got] == idx
        assert np.array_equal(got, ref[idx])
    assert np.array_equal(read_frames(path, 13, 20), ref[13:20])


def test_h264_in_matroska(tmp_path):
    from tests.helpers.videos import moving_frames

    path = tmp_path / "clip.mkv"
    with av.open(str(path), "w") as c:
        s = c.add_stream("libx264", rate=10)
        s.width, s.height, s.pix_fmt = 64, 48, "yuv420p"
        s.codec_context.gop_size = 8
        for i, img in enumerate(moving_frames(30)):
            vf = av.VideoFrame.from_ndarray(img, format="rgb24")
            vf.pts = i
            for p in s.encode(vf):
                c.mux(p)
        for p in s.encode(None):
            c.mux(p)
    from cinestudio.media.probe import probe

    ref = all_frames_pyav(path)
    assert probe(path).frames == len(ref) == 30
    idx = uniform_indices(0, 30, 8)
    assert np.array_equal(sample_frames(path, 8), ref[idx])


@pytest.mark.parametrize("name", ["h264_gop7", "mjpeg_avi", "mpeg4_gop6_mkv"])
def test_analysis_frames_are_every_frame_small_and_in_order(videos, name):
    """The import's reader (decoding thread, batched hand-over, scaling on the caller) yields the
    same frames, in order, as a plain decode shrunk alike (near, not equal: deblocking is skipped
    and swscale's area filter is not OpenCV's)."""
    from cinestudio.media.decode import iter_analysis_frames

    small = list(iter_analysis_frames(videos[name], 32, "rgb24"))
    full = read_frames(videos[name])
    assert len(small) == len(full) and small[0].shape == (24, 32, 3)
    ref = [cv2.resize(f, (32, 24), interpolation=cv2.INTER_AREA).astype(int) for f in full]
    errs = [np.abs(s.astype(int) - r).mean() for s, r in zip(small, ref)]
    # frame k matches reference k clearly better than the next one: all there, in order
    nxt = [np.abs(s.astype(int) - r).mean() for s, r in zip(small, ref[1:])]
    assert all(e < 0.5 * n for e, n in zip(errs, nxt)), (errs, nxt)


def test_analysis_frames_stop_early_and_report_bad_files(videos, bad_files):
    import threading

    from cinestudio.media.decode import iter_analysis_frames

    it = iter_analysis_frames(videos["h264_gop7"], 32)
    next(it)
    it.close()   # stops the decoding thread
    for _ in range(100):
        if not any(t.name == "cinestudio-decode" for t in threading.enumerate()):
            break
        threading.Event().wait(0.02)
    assert not any(t.name == "cinestudio-decode" for t in threading.enumerate())
    with pytest.raises(MediaError):
        list(iter_analysis_frames(bad_files["no_moov"], 32))


def test_single_threaded_opencv_nests_and_restores():
    from cinestudio.media.cvthreads import single_threaded_opencv

    before = cv2.getNumThreads()
    with single_threaded_opencv():
        assert cv2.getNumThreads() == 1
        with single_threaded_opencv():
            assert cv2.getNumThreads() == 1
        assert cv2.getNumThreads() == 1   # the outer user still holds it
    assert cv2.getNumThreads() == before


def test_prefetched_shares_a_stage_between_threads_and_keeps_the_order():
    """Scaling goes to whichever thread has time: the first hand-overs find the queue empty
    (the caller scales them); a slow caller lets it fill (the decoding thread takes over)."""
    import threading
    import time

    from cinestudio.media._frames import prefetched

    caller = threading.current_thread().name
    where = []

    def stage(x):
        where.append(threading.current_thread().name)
        return 10 * x

    out = []
    for y in prefetched(iter(range(200)), depth=16, batch=4, shared=stage):
        out.append(y)
        time.sleep(0.001)   # a caller slower than its producer
    assert out == [10 * x for x in range(200)] and len(where) == 200
    assert caller in where and "cinestudio-decode" in where
