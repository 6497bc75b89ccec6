"""Worker side of the ``render`` job: one storyboard shot through CameraDiff (+ CLIPLoRA).

Which LoRAs: the shot's own weights ({name: weight}, a name being a class key or a LoRA file) or,
without them, one LoRA per class of the shot (framing, angle, each movement but static) at
weight 1. A class key is looked up in the board's ``diffusion.loras`` (a folder of
``<key>.safetensors``, or {key: file}) and then among the workspace's finished LoRA runs
(``cinestudio lora list``); keys without a LoRA are skipped and said so in the details. Movements
in sequence get consecutive frame ranges. CLIPLoRA needs a CameraCLIP run (``diffusion.cameraclip``);
without one, and for methods that need LoRAs when none was found, the job falls back to ``merge``
and records why.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cinestudio.errors import UserInputError
from cinestudio.jobs.context import JobContext
from cinestudio.storyboard.cache import RenderCache
from cinestudio.storyboard.render_job import board_of

DEFAULT_FRAMES = 16
DEFAULT_PROMPT = "a person in a park"


def _workspace_loras(workspace: Path) -> dict[str, Path]:
    from cinestudio.cameradiff.runs import list_loras

    found: dict[str, Path] = {}
    for entry in list_loras(workspace / "runs", root=workspace):
        if entry.get("lora") and entry.get("type"):
            found[str(entry["type"])] = workspace / entry["lora"]   # later runs replace earlier ones
    return found


def lora_table(board, workspace: Path) -> dict[str, Path]:
    """{class key: LoRA file} from the board's settings, then the workspace's LoRA runs."""
    ds = board.diffusion_settings()
    table: dict[str, Path] = {}
    spec = ds.get("loras")
    if isinstance(spec, dict):
        for key, path in spec.items():
            table[str(key)] = board.resolve_path(str(path))
    elif isinstance(spec, str) and spec:
        folder = board.resolve_path(spec)
        if folder is None or not folder.is_dir():
            raise UserInputError(spec, "diffusion.loras: no such folder")
        for f in sorted(folder.glob("*.safetensors")):
            table[f.stem] = f
    workspace_runs = _workspace_loras(workspace)
    return {**workspace_runs, **table}


def choose_loras(board, frames: int, workspace: Path) -> tuple[list[str], dict[str, float], list[str]]:
    """(``FILE:WEIGHT@START-END`` arguments, {name: weight}, notes) for the board's one shot."""
    shot = board.shots[0]
    table = lora_table(board, workspace)
    moves = [m for m in shot.movements if m != "static"]
    wanted = dict(shot.loras) if shot.loras else {k: 1.0 for k in [shot.framing, shot.angle, *moves]}
    args, used, notes = [], {}, []
    for name, weight in wanted.items():
        path = table.get(name)
        if path is None and (Path(name).suffix == ".safetensors" or "/" in name):
            path = board.resolve_path(name)
        if path is None or not Path(path).exists():
            notes.append(f"no LoRA for {name}")
            continue
        rng = ""
        if name in moves and len(moves) > 1:
            i = moves.index(name)
            a, b = round(i * frames / len(moves)), round((i + 1) * frames / len(moves))
            rng = f"@{a}-{b}"
        args.append(f"{path}:{float(weight):g}{rng}")
        used[name] = float(weight)
    return args, used, notes


def run(ctx: JobContext) -> dict[str, Any]:
    from cinestudio.cameradiff.render import RenderConfig, render

    board = board_of(ctx.config)
    shot = board.shots[0]
    ds = board.diffusion_settings()
    frames = int(ds.get("frames") or min(shot.frames(board.fps), DEFAULT_FRAMES))
    loras, used, notes = choose_loras(board, frames, ctx.workspace)
    method = ds.get("method") or "cliplora"
    clip = board.resolve_path(ds["cameraclip"]) if ds.get("cameraclip") else None
    if method == "cliplora" and clip is None:
        notes.append("cliplora needs a CameraCLIP run (diffusion.cameraclip): used merge")
        method = "merge"
    if method in ("switch", "composite", "cliplora") and not loras:
        notes.append(f"{method} needs LoRAs and none was found: used merge")
        method = "merge"
    for note in notes:
        ctx.log(note, "warning")
    base = _base(board, ds["base"])
    size = ds.get("width") or ds.get("height")
    out = ctx.run_dir / "shot.mp4"
    cfg = RenderConfig(base=str(base), prompt=shot.prompt or shot.title or DEFAULT_PROMPT, out=str(out), loras=loras,
                       method=method, clip=str(clip) if clip else None, steps=int(ds.get("steps") or 20),
                       frames=frames, size=int(size) if size else None, seed=int(shot.seed),
                       guidance=float(ds.get("guidance") or 7.5),
                       negative_prompt=ds.get("negative_prompt") or None, fps=float(board.fps),
                       device=ctx.device or "auto", gif=False)
    ctx.progress(0, cfg.steps, "loading the pipeline")
    sidecar, result = render(cfg, progress=lambda d, t, m="": ctx.progress(d, t, m or "denoising"),
                             should_stop=ctx.should_stop, return_frames=True)
    cache_root = Path(ctx.config["cache"])
    if not cache_root.is_absolute():
        cache_root = ctx.workspace / cache_root
    scores = [s.get("cameraclip") for s in sidecar.get("segments", []) if s.get("cameraclip")]
    details = {
        "backend": "diffusion", "seed": int(shot.seed), "method": method,
        "requested_method": ds.get("method"), "loras": used, "lora_files": [x["file"] for x in sidecar["loras"]],
        "lora_schedule": sidecar["schedule"]["multipliers_per_step"], "segments": sidecar.get("segments"),
        "cameraclip_scores": scores or None, "notes": notes, "job_id": ctx.job_id, "steps": cfg.steps,
        "prompt": cfg.prompt, "base": cfg.base, "render_seconds": sidecar["timings"].get("total_s"),
        "sidecar": ctx.rel(out.with_suffix(".json")),
    }
    entry = RenderCache(cache_root).put(ctx.config["content_hash"], result, board.fps, details)
    ctx.artifact("clip", str(entry.clip))
    return {"content_hash": entry.content_hash, "clip": str(entry.clip), "frames": entry.frames,
            "method": method, "loras": used, "notes": notes}


def _base(board, ref: str) -> str:
    """A local pipeline folder (relative paths from the board's folder), else a hub id as given."""
    from cinestudio.cameradiff.backend import HUB_ID

    local = board.resolve_path(str(ref))
    if local is not None and local.exists():
        return str(local)
    return str(ref) if HUB_ID.match(str(ref)) else str(local)
