"""PyAV plumbing shared by probe, decode, sampling and thumbnails (private).

Frame indices everywhere in `cinestudio.media` mean: the i-th frame, in presentation order, of
the frames that actually decode. Two ways to reach frame i:

- sequentially: decode from the start and count (always right, slow for late frames);
- by seeking: a demux-only scan (`scan`) lists every packet's presentation timestamp; sorted,
  these are the frames in order, so frame i is the one whose pts is ``index.pts[i]``. We seek
  to the last keyframe at or before it, decode forward and take the frame with exactly that
  pts. Any surprise (no timestamps, a target that never comes out) falls back to sequential
  decoding, so both ways return the same frames.
"""

from __future__ import annotations

import bisect
import contextlib
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
import threading
from pathlib import Path

import av
import numpy as np
from av.video.reformatter import VideoReformatter

from cinestudio.errors import MediaError

# Containers where "packets" can be empty placeholders or headers are often wrong: always count.
COUNT_ALWAYS_FORMATS = {"avi"}
# Decoders that honour skip_frame=NONREF correctly (the skipped frames are never referenced).
NONREF_SKIP_CODECS = {"h264", "hevc", "mpeg4", "mpeg2video", "mpeg1video"}
# Demuxers of still images: a picture is not a video.
IMAGE_FORMAT_SUFFIX = "_pipe"
IMAGE_FORMATS = {"image2", "image2pipe", "apng"}

Size = int | tuple[int, int] | None


# ------------------------------------------------------------------------------- opening files

def check_path(path: str | os.PathLike[str]) -> Path:
    """The path as a Path, or MediaError for what is obviously not a video file."""
    p = Path(path)
    try:
        st = p.stat()
    except FileNotFoundError:
        raise MediaError(p, "no such file") from None
    except PermissionError:
        raise MediaError(p, "permission denied") from None
    except OSError as exc:
        raise MediaError(p, f"cannot read ({exc.strerror or exc})") from None
    if p.is_dir():
        raise MediaError(p, "is a folder, not a video file")
    if st.st_size == 0:
        raise MediaError(p, "empty file (0 bytes)")
    return p


def _mp4_boxes(path: Path, limit: int = 64) -> tuple[list[bytes], bool] | None:
    """Top-level box types of an ISO-BMFF file and whether the last box is cut off (None if
    the file does not start like one)."""
    size_total = path.stat().st_size
    types: list[bytes] = []
    with open(path, "rb") as fh:
        head = fh.read(12)
        if len(head) < 8 or head[4:8] not in (b"ftyp", b"moov", b"mdat", b"free", b"wide", b"skip"):
            return None
        offset = 0
        while offset < size_total and len(types) < limit:
            fh.seek(offset)
            hdr = fh.read(16)
            if len(hdr) < 8:
                return types, True
            size = int.from_bytes(hdr[:4], "big")
            kind = hdr[4:8]
            if size == 1:
                if len(hdr) < 16:
                    return types, True
                size = int.from_bytes(hdr[8:16], "big")
            elif size == 0:
                size = size_total - offset
            if size < 8:
                return types, True
            types.append(kind)
            offset += size
        return types, offset > size_total


def _looks_like_text(path: Path) -> bool:
    with open(path, "rb") as fh:
        head = fh.read(1024)
    if not head or b"\0" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:  # a multibyte character cut at the end is fine
        if exc.start < len(head) - 4:
            return False
    return True


def _open_error_reason(path: Path, exc: Exception) -> str:
    boxes = _mp4_boxes(path)
    if boxes is not None:
        types, cut = boxes
        if b"moov" not in types:
            return ("truncated MP4: its index ('moov' box) is missing — the file was cut off "
                    "or never finished writing")
        if cut:
            return "truncated or corrupt MP4"
    if _looks_like_text(path):
        return "a text file, not a video"
    detail = getattr(exc, "strerror", None) or str(exc)
    return f"not a video file that can be read ({detail})"


@contextlib.contextmanager
def open_video(path: str | os.PathLike[str]) -> Iterator[tuple[av.container.InputContainer, av.VideoStream]]:
    """Open `path` for reading its first video stream, or raise MediaError with a clear reason."""
    p = check_path(path)
    try:
        container = av.open(str(p), mode="r")
    except av.error.FFmpegError as exc:
        raise MediaError(p, _open_error_reason(p, exc)) from None
    except (OSError, UnicodeError) as exc:
        raise MediaError(p, f"cannot open ({exc})") from None
    try:
        fmt = container.format.name
        if not container.streams.video:
            kinds = sorted({s.type for s in container.streams})
            raise MediaError(p, "has no video stream" + (f" (only {', '.join(kinds)})" if kinds else ""))
        stream = container.streams.video[0]
        if fmt in IMAGE_FORMATS or fmt.endswith(IMAGE_FORMAT_SUFFIX):
            codec = stream.codec_context.name
            raise MediaError(p, f"a still image ({codec}), not a video")
        yield container, stream
    finally:
        container.close()


# ---------------------------------------------------------------------------------- decoding

def frame_rate(stream: av.VideoStream) -> float:
    for rate in (stream.average_rate, stream.guessed_rate, stream.base_rate):
        if rate:
            return float(rate)
    return 0.0


def decode_packets(stream: av.VideoStream, packets: Iterable[av.Packet]) -> Iterator[av.VideoFrame]:
    """Decode `packets` robustly: empty packets are skipped (not treated as end of stream), so
    are packets flagged corrupt (cut off); a packet that fails to decode is dropped, and the
    decoder is drained at the end."""
    ctx = stream.codec_context
    for packet in packets:
        if packet.size == 0 or packet.is_corrupt:
            # a packet cut short (truncated file): decoders may fill the missing part of the
            # picture with whatever their buffers held, so it is not a frame that decodes
            continue
        try:
            frames = ctx.decode(packet)
        except av.error.FFmpegError:
            continue
        yield from frames
    try:
        yield from ctx.decode(None)
    except av.error.FFmpegError:
        return


def demux(container: av.container.InputContainer, stream: av.VideoStream) -> Iterator[av.Packet]:
    """The stream's packets; a read error ends the stream (truncated files) instead of raising."""
    it = container.demux(stream)
    while True:
        try:
            packet = next(it)
        except StopIteration:
            return
        except av.error.FFmpegError:
            return
        yield packet


def decode_all(container: av.container.InputContainer, stream: av.VideoStream) -> Iterator[av.VideoFrame]:
    """Every frame that decodes, in presentation order, from the current position."""
    return decode_packets(stream, demux(container, stream))


def resolve_size(size: Size, width: int, height: int) -> tuple[int, int] | None:
    """(width, height) to convert to, or None to keep the frame's own size.

    `size` is None (keep), an int (the longer side becomes that many pixels, aspect kept) or a
    (width, height) pair.
    """
    if size is None:
        return None
    if isinstance(size, int | np.integer):
        if size <= 0:
            raise ValueError(f"size must be positive, got {size}")
        scale = size / max(width, height)
        out = (max(1, round(width * scale)), max(1, round(height * scale)))
    else:
        w, h = (int(v) for v in size)
        if w <= 0 or h <= 0:
            raise ValueError(f"size must be positive, got {size}")
        out = (w, h)
    return None if out == (width, height) else out


_local = threading.local()


def _reformatter() -> VideoReformatter:
    # one per thread: a frame's own reformatter would set up a new scaler for every frame
    r = getattr(_local, "reformatter", None)
    if r is None:
        r = _local.reformatter = VideoReformatter()
    return r


def to_rgb(frame: av.VideoFrame, size: Size = None) -> np.ndarray:
    """The frame as an (H, W, 3) uint8 RGB array, resized (area-averaging) if `size` asks."""
    target = resolve_size(size, frame.width, frame.height)
    if target is None:
        out = _reformatter().reformat(frame, format="rgb24")
    else:
        out = _reformatter().reformat(frame, format="rgb24", width=target[0], height=target[1],
                                      interpolation="AREA")
    return out.to_ndarray()


# ------------------------------------------------------------------------------ packet index

@dataclass
class PacketIndex:
    """What a pass over the packets learns about a stream.

    `pts` lists, in presentation order, the timestamps of the frames that decode (when every
    packet has a timestamp); `frames` is their number (also when timestamps are missing).
    """

    pts: list[int] = field(default_factory=list)
    keyframes: list[tuple[int, int]] = field(default_factory=list)  # (pts, dts), pts order
    frames: int = 0
    packets: int = 0               # non-empty, not corrupt packets seen
    missing_pts: bool = False      # some packet had no timestamp
    duplicate_pts: bool = False
    corrupt: int = 0               # packets flagged corrupt (cut off): not frames
    tail_lost: int = 0             # packets at the end that did not decode
    read_error: bool = False       # demuxing stopped on an error (cut-off file)

    @property
    def seekable(self) -> bool:
        return (not self.missing_pts and not self.duplicate_pts and bool(self.pts)
                and len(self.pts) == self.frames
                and bool(self.keyframes) and self.keyframes[0][0] <= self.pts[0])

    def keyframe_for(self, pts: int) -> tuple[int, int] | None:
        """The last keyframe whose pts is at or before `pts`."""
        i = bisect.bisect_right(self.keyframes, (pts, float("inf"))) - 1
        return self.keyframes[i] if i >= 0 else None


# With no keyframe flagged for this many packets, tail verification decodes everything.
_MAX_RETAINED = 2000


def scan(container: av.container.InputContainer, stream: av.VideoStream,
         verify_tail: bool = True) -> PacketIndex:
    """Demux the whole stream (no decoding) and index its packets' timestamps.

    With `verify_tail`, the packets from the second-to-last keyframe on are decoded too, and
    those that do not come out of the decoder (a cut-off end) are left out of the index, so
    `frames` is the number of frames that decode. Without it, `frames` counts packets.
    """
    index = PacketIndex()
    pts_list: list[int] = []
    keyframes: list[tuple[int, int]] = []
    retained: list[av.Packet] = []
    last_kf_at: int | None = None
    it = container.demux(stream)
    while True:
        try:
            packet = next(it)
        except StopIteration:
            break
        except av.error.FFmpegError:
            index.read_error = True
            break
        if packet.size == 0:
            continue
        if packet.is_corrupt:
            index.corrupt += 1
            continue
        index.packets += 1
        if packet.pts is None:
            index.missing_pts = True
        else:
            pts_list.append(packet.pts)
            if packet.is_keyframe:
                # (pts, dts): seeking uses the pts — with B-frames, seeking an MP4 to a
                # keyframe's dts lands on the keyframe before it
                keyframes.append((packet.pts, packet.dts if packet.dts is not None else packet.pts))
        if verify_tail:
            if packet.is_keyframe:
                if last_kf_at is not None:
                    retained = retained[last_kf_at:]
                last_kf_at = len(retained)
            retained.append(packet)
            if last_kf_at is None and len(retained) > _MAX_RETAINED:
                break  # no keyframes flagged: decode everything below
    if verify_tail and last_kf_at is None and len(retained) > _MAX_RETAINED:
        def everything() -> Iterator[av.Packet]:
            yield from retained
            yield from demux(container, stream)

        index.frames = sum(1 for _ in decode_packets(stream, everything()))
        index.missing_pts = True  # the pts list is incomplete: not seekable
        index.pts = []
        return index
    pts_list.sort()
    keyframes.sort()
    index.keyframes = keyframes
    index.duplicate_pts = len(set(pts_list)) != len(pts_list)
    if not verify_tail or not retained:
        index.pts = pts_list
        index.frames = index.packets
        return index
    decoded = [f.pts for f in decode_packets(stream, iter(retained))]
    if index.missing_pts or any(p is None for p in decoded):
        index.frames = index.packets - len(retained) + len(decoded)
        index.pts = pts_list
        return index
    # packets of the retained tail that did not decode; frames shown before the first retained
    # keyframe (leading pictures of an open GOP) may need earlier packets: not judged here
    got = set(decoded)
    base = retained[0].pts
    lost = {pk.pts for pk in retained if pk.pts >= base and pk.pts not in got}
    index.tail_lost = len(lost)
    index.pts = [p for p in pts_list if p not in lost] if lost else pts_list
    index.frames = index.packets - len(lost)
    return index


class SeekFailed(Exception):
    """Seeking did not deliver the frames the index promised; decode sequentially instead."""


def seek_decode(container: av.container.InputContainer, stream: av.VideoStream, index: PacketIndex,
                targets: Iterable[int]) -> Iterator[tuple[int, av.VideoFrame]]:
    """Yield (frame index, frame) for each of `targets` (sorted, unique frame indices) by seeking.

    Targets are grouped by the keyframe they need; for each group: one seek to that keyframe,
    packets are fed up to the last wanted one (frames no other frame refers to are skipped, for
    codecs known to honour that), then the decoder is drained instead of being fed more.
    Raises SeekFailed — before yielding the frame concerned — when a target cannot be reached
    exactly (callers then fall back to sequential decoding).
    """
    ctx = stream.codec_context
    can_skip = ctx.name in NONREF_SKIP_CODECS
    groups: list[tuple[tuple[int, int], list[int]]] = []
    for t in targets:
        kf = index.keyframe_for(index.pts[t])
        if kf is None:
            raise SeekFailed(f"no keyframe before frame {t}")
        if groups and groups[-1][0] == kf:
            groups[-1][1].append(t)
        else:
            groups.append((kf, [t]))

    def packets(wanted: set[int]) -> Iterator[av.Packet]:
        remaining = set(wanted)
        for packet in demux(container, stream):
            if packet.size == 0:
                continue
            needed = packet.pts in remaining
            if can_skip:
                ctx.skip_frame = "DEFAULT" if needed or packet.is_keyframe else "NONREF"
            yield packet
            if needed:
                remaining.discard(packet.pts)
                if not remaining:
                    return  # everything wanted is in the decoder: drain it

    try:
        for kf, group in groups:
            container.seek(kf[0], backward=True, any_frame=False, stream=stream)
            ctx.flush_buffers()
            wanted = {index.pts[t]: t for t in group}
            pending = list(group)
            for frame in decode_packets(stream, packets(set(wanted))):
                if frame.pts is None:
                    raise SeekFailed("decoded frame without timestamp")
                if frame.pts > index.pts[pending[0]]:
                    raise SeekFailed(f"frame {pending[0]} was not decoded after seeking")
                if frame.pts == index.pts[pending[0]]:
                    yield pending.pop(0), frame
                    if not pending:
                        break
            if pending:
                raise SeekFailed(f"frame {pending[0]} never came out of the decoder")
            ctx.flush_buffers()
    finally:
        if can_skip:
            ctx.skip_frame = "DEFAULT"


def sequential_decode(container: av.container.InputContainer, stream: av.VideoStream,
                      targets: Iterable[int]) -> Iterator[tuple[int, av.VideoFrame]]:
    """Yield (frame index, frame) for `targets` (sorted, unique) by decoding from the start of a
    freshly opened container."""
    wanted = list(targets)
    if not wanted:
        return
    pos = 0
    for i, frame in enumerate(decode_all(container, stream)):
        if i == wanted[pos]:
            yield i, frame
            pos += 1
            if pos == len(wanted):
                return

