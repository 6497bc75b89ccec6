"""Stage 1, collect: import videos into a workspace as shots (clips) with pre-labels.

    report = import_paths(store, ["footage/"], progress=bar, should_stop=stop)
    report.to_dict()   # {"imported": [{"path", "clips": [ids], ...}], "duplicates": [...],
                       #  "errors": [{"path", "error"}], "already_imported": [...]}
    report.exit_code   # 0 all in, 1 some files failed

Per file: sha256 of the bytes (a file whose content is in already is skipped before any
decoding); probe; one decoding pass (`analysis.analyse_video`: shots, motion, thumbnails and a
frame fingerprint); pre-labels (`prelabel`); then ONE database transaction that re-checks for
duplicates (same bytes, or same frames: a renamed or re-encoded copy), writes the thumbnails
(atomically), and adds the source, its clips and their pre-labels together. So:

- a process killed at any point leaves either the whole file in or nothing of it; the next run
  skips what is in and imports the rest;
- two processes importing into one workspace share the work: each claims a file before
  analysing it (`claims`) and leaves files claimed by the other for the end; they serialise only
  on the short transaction (SQLite ``BEGIN IMMEDIATE``), and since the duplicate checks run inside
  it, a file goes in once whatever happens to the claims;
- a file that cannot be read is reported with its reason and the others still go in.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cinestudio.dataset import fingerprint as fp
from cinestudio.dataset.claims import Claims
from cinestudio.dataset.analysis import DEFAULT_MIN_FRAMES, VideoAnalysis, analyse_video
from cinestudio.dataset.prelabel import Prelabeller, default_prelabellers
from cinestudio.dataset.scheme import scheme_ref, workspace_taxonomy
from cinestudio.errors import UserInputError
from cinestudio.fsutil import atomic_path
from cinestudio.media.probe import probe
from cinestudio.progress import Cancelled, ProgressFn, StopFn, check_stop
from cinestudio.store import ClipSpec, PrelabelSpec, SourceRecord, WorkspaceStore
from cinestudio.store.settings import MIN_CLIP_FRAMES

log = logging.getLogger(__name__)

VIDEO_SUFFIXES = frozenset({
    ".mp4", ".m4v", ".mov", ".qt", ".avi", ".mkv", ".webm", ".mpg", ".mpeg", ".m2v", ".ts",
    ".mts", ".m2ts", ".wmv", ".flv", ".3gp", ".ogv", ".dv", ".mxf", ".gif",
})
ACTOR = "import"
WAIT_POLL_S = 0.1


@dataclass
class ImportReport:
    """What an import did, file by file (JSON-ready through `to_dict`)."""

    imported: list[dict[str, Any]] = field(default_factory=list)
    duplicates: list[dict[str, Any]] = field(default_factory=list)
    already_imported: list[dict[str, Any]] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)
    files: int = 0
    cancelled: bool = False

    @property
    def exit_code(self) -> int:
        """0 when every file went in (or was in already), 1 when some failed."""
        return 1 if self.errors else 0

    @property
    def clip_ids(self) -> list[int]:
        return [cid for entry in self.imported for cid in entry["clips"]]

    def to_dict(self) -> dict[str, Any]:
        return {"imported": self.imported, "duplicates": self.duplicates,
                "errors": self.errors, "already_imported": self.already_imported,
                "files": self.files, "cancelled": self.cancelled}


class ImportCancelled(Cancelled):
    """`should_stop()` ended an import; `report` holds what was done (every file in is whole)."""

    def __init__(self, report: ImportReport):
        super().__init__("import stopped on request")
        self.report = report


# ----------------------------------------------------------------------------------------------
# Which files

def collect_files(paths: Iterable[str | os.PathLike[str]]) -> list[Path]:
    """The video files named by `paths`: files as given, folders searched recursively for
    video suffixes (hidden files and folders skipped), each file once, in a stable order.

    A path that does not exist is a usage error (UserInputError), raised before any import.
    """
    out: list[Path] = []
    seen: set[Path] = set()
    for raw in paths:
        p = Path(raw).expanduser()
        if not p.exists():
            raise UserInputError(os.fspath(raw), "no such file or folder")
        if p.is_dir():
            found = []
            for root, dirs, files in os.walk(p):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for name in files:
                    f = Path(root) / name
                    if not name.startswith(".") and f.suffix.lower() in VIDEO_SUFFIXES:
                        found.append(f)
            candidates = sorted(found)
        else:
            candidates = [p]
        for f in candidates:
            key = f.resolve()
            if key not in seen:
                seen.add(key)
                out.append(f)
    return out


def min_frames_of(store: WorkspaceStore, min_frames: int | None = None) -> int:
    """The minimum clip length: the argument, else the workspace setting, else the default."""
    value = min_frames if min_frames is not None else store.settings.get(MIN_CLIP_FRAMES)
    if value is None:
        return DEFAULT_MIN_FRAMES
    try:
        value = int(value)
    except (TypeError, ValueError):
        raise UserInputError(MIN_CLIP_FRAMES, f"not a whole number of frames: {value!r}") from None
    if value < 1:
        raise UserInputError("--min-frames", f"must be at least 1, got {value}")
    return value


def thumbnail_relpath(sha: str, start: int, end: int) -> str:
    """Where a clip's thumbnail lives, relative to the workspace root (deterministic, so a
    re-run after a crash overwrites what a killed run left instead of adding files)."""
    return f"media/thumbs/{sha[:2]}/{sha[:16]}_{start}-{end}.jpg"


def thumbnail_file(store: WorkspaceStore, thumbnail_path: str | None) -> Path | None:
    """The absolute path of a clip's stored thumbnail (None when it has none)."""
    if not thumbnail_path:
        return None
    p = Path(thumbnail_path)
    return p if p.is_absolute() else store.paths.root / p


# ----------------------------------------------------------------------------------------------
# The use-case

def import_paths(store: WorkspaceStore, paths: Sequence[str | os.PathLike[str]], *,
                 min_frames: int | None = None, prelabellers: Sequence[Prelabeller] | None = None,
                 progress: ProgressFn | None = None, should_stop: StopFn | None = None,
                 report: ImportReport | None = None) -> ImportReport:
    """Import video files and folders (recursively) into the workspace; see the module doc.

    `prelabellers` defaults to `default_prelabellers(store, taxonomy)` (motion, plus CameraCLIP
    when the workspace names a run). `progress(done, total, message)` counts files and says what
    happens to the current one. `should_stop()` is polled between files and every few frames;
    it raises `ImportCancelled` (a `Cancelled`) carrying the report of what went in.
    Raises UserInputError for usage errors (a missing path, a bad setting) before importing.
    """
    files = collect_files(paths)
    taxonomy = workspace_taxonomy(store)
    scheme = scheme_ref(store)
    minimum = min_frames_of(store, min_frames)
    labellers = list(prelabellers) if prelabellers is not None else default_prelabellers(store, taxonomy)
    report = report if report is not None else ImportReport()
    report.files += len(files)
    total = len(files)
    claims = Claims(store.paths.media_dir / ".claims")
    deferred: list[tuple[int, Path]] = []

    def one(k: int, path: Path, wait: bool) -> None:
        name = path.name

        def file_progress(done: int, of: int, message: str = "") -> None:
            if progress is not None:
                pct = int(100 * done / of) if of else 0
                progress(k, total, f"{name} ({message} {pct}%)")

        if progress is not None:
            progress(k, total, name)
        try:
            if not import_file(store, path, report, min_frames=minimum, prelabellers=labellers,
                               scheme=scheme, progress=file_progress, should_stop=should_stop,
                               claims=claims, wait=wait):
                deferred.append((k, path))
        except Cancelled:
            report.cancelled = True
            raise ImportCancelled(report) from None
        except UserInputError as exc:   # MediaError included: named with its reason
            report.errors.append({"path": os.fspath(path), "error": exc.reason})
        except Exception as exc:  # noqa: BLE001 - one odd file must not end a long import
            log.exception("import of %s failed", path)
            report.errors.append({"path": os.fspath(path),
                                  "error": f"internal error: {type(exc).__name__}: {exc}"})

    for k, path in enumerate(files):
        if should_stop is not None and should_stop():
            report.cancelled = True
            raise ImportCancelled(report)
        one(k, path, wait=False)
    # Files another importer was busy with: by now usually in (then reported as such).
    for k, path in list(deferred):
        one(k, path, wait=True)
    if progress is not None:
        progress(total, total, "done")
    return report


def import_file(store: WorkspaceStore, path: str | os.PathLike[str], report: ImportReport, *,
                min_frames: int = DEFAULT_MIN_FRAMES, prelabellers: Sequence[Prelabeller] = (),
                scheme: str | None = None, progress: ProgressFn | None = None,
                should_stop: StopFn | None = None, claims: Claims | None = None,
                wait: bool = True) -> bool:
    """Import one file, adding its outcome to `report` (errors raise; see `import_paths`).

    With `claims`, a file another live importer is working on is left alone: with `wait`
    False the call returns False at once (come back later), with `wait` True it waits for the
    other importer to finish (or die) first. Returns True when the file was dealt with.
    """
    path = Path(path)
    shown = os.fspath(path)
    if path.is_dir():
        raise UserInputError(shown, "is a folder, not a video file")
    resolved = path.resolve()
    size = resolved.stat().st_size
    sha = fp.sha256_file(resolved, should_stop)
    claim = None
    while True:
        known = store.sources.find_by_hash(sha)
        if known is not None:
            _report_known(report, shown, resolved, known, "sha256")
            return True
        if claims is None:
            break
        claim = claims.claim(sha)
        if claim is not None:
            known = store.sources.find_by_hash(sha)   # it may have gone in meanwhile
            if known is not None:
                claim.release()
                _report_known(report, shown, resolved, known, "sha256")
                return True
            break
        if not wait:
            return False
        check_stop(should_stop)
        if progress is not None:
            progress(0, 1, "another importer is on it")
        time.sleep(WAIT_POLL_S)
    try:
        check_stop(should_stop)

        def tick(done: int, of: int, message: str = "") -> None:
            if claim is not None:
                claim.touch()
            if progress is not None:
                progress(done, of, message)

        # The analysis decodes every frame and counts them: the probe need not (see `probe`).
        info = probe(resolved, count=False)
        analysis = analyse_video(resolved, min_frames=min_frames, scheme=scheme, info=info,
                                 progress=tick, should_stop=should_stop)
        per_origin: dict[tuple[str, str | None], list[list[PrelabelSpec]]] = {}
        for labeller in prelabellers:
            check_stop(should_stop)
            per_origin[(labeller.origin, labeller.model_id)] = [
                list(labeller.prelabel(analysis, shot)) for shot in analysis.shots]
            if claim is not None:
                claim.touch()
        check_stop(should_stop)
        _commit(store, resolved, shown, sha, size, analysis, per_origin, report)
    finally:
        if claim is not None:
            claim.release()
    return True


def _report_known(report: ImportReport, shown: str, resolved: Path, known: SourceRecord,
                  match: str, distance: float | None = None) -> None:
    if match == "sha256" and Path(known.path) == resolved:
        report.already_imported.append({"path": shown, "source_id": known.id})
        return
    entry: dict[str, Any] = {"path": shown, "duplicate_of": known.path, "source_id": known.id,
                             "match": "identical bytes" if match == "sha256" else "same frames"}
    if distance is not None:
        entry["distance"] = round(distance, 3)
    report.duplicates.append(entry)


def _commit(store: WorkspaceStore, resolved: Path, shown: str, sha: str, size: int,
            analysis: VideoAnalysis,
            per_origin: dict[tuple[str, str | None], list[list[PrelabelSpec]]],
            report: ImportReport) -> None:
    info = analysis.info
    specs = [ClipSpec(s.start, s.end, thumbnail_relpath(sha, s.start, s.end) if s.thumbnail_jpeg
                      else None) for s in analysis.shots]
    probe_dict = {**info.to_dict(), "decoded_frames": analysis.frames, "cuts": analysis.cuts,
                  "skipped_shots": analysis.skipped, "motion_period": analysis.motion_period}
    with store.transaction() as tx:
        # Checked again under the write lock: another process may have imported it meanwhile.
        known = tx.sources.find_by_hash(sha)
        if known is not None:
            _report_known(report, shown, resolved, known, "sha256")
            return
        if analysis.fingerprint:
            same = fp.find_same(analysis.fingerprint, tx.sources.fingerprints(fp.FINGERPRINT_KIND))
            if same is not None:
                _report_known(report, shown, resolved, tx.sources.get(same[0]), "frames", same[1])
                return
        for shot, spec in zip(analysis.shots, specs):
            if spec.thumbnail_path and shot.thumbnail_jpeg:
                target = store.paths.root / spec.thumbnail_path
                with atomic_path(target) as tmp:
                    tmp.write_bytes(shot.thumbnail_jpeg)
        src, created = tx.sources.add(
            path=resolved, display_name=resolved.name, content_sha256=sha, size_bytes=size,
            frames=analysis.frames, fps=analysis.fps, width=info.width, height=info.height,
            codec=info.codec, duration_s=analysis.frames / analysis.fps if analysis.fps else None,
            fingerprint_kind=fp.FINGERPRINT_KIND if analysis.fingerprint else None,
            fingerprint=analysis.fingerprint, probe=probe_dict, actor=ACTOR)
        if not created:
            _report_known(report, shown, resolved, src, "sha256")
            return
        clips = tx.clips.add_many(src.id, specs, actor=ACTOR) if specs else []
        for (origin, model_id), lists in per_origin.items():
            per_clip = {clip.id: specs_ for clip, specs_ in zip(clips, lists) if specs_}
            if per_clip:
                tx.prelabels.replace_many(origin, per_clip, model_id=model_id)
    report.imported.append({
        "path": shown, "source_id": src.id, "clips": [c.id for c in clips],
        "frames": analysis.frames, "shots": len(analysis.shots) + len(analysis.skipped),
        "skipped": [{"path": shown, **s} for s in analysis.skipped]})
