"""Composition methods compared: per-type CameraCLIP score, optical-flow verdict per segment, and wall
time per render relative to a single-LoRA render (the named baseline).

Pairs of types (``--pair``): ``A>B`` puts A on the first half of the frames and B on the second
(movement + movement in sequence, a multi-shot schedule); ``A+B`` puts both on every frame (e.g.
framing + movement at once). Every method (merge, switch, composite, cliplora) renders every pair on
the same seeds, with the same pipeline loaded once; the baseline renders the pair's first LoRA
alone (merge, whole clip) on the same seeds. Reported per method and pair (means over seeds):

- ``wall×`` / ``cpu×``: render wall time (and this process's CPU time) / the single-LoRA render's,
  measured back to back on each seed, median over seeds. Targets: CLIPLoRA with k=5 ≤ 1.3×; LoRA
  Composite ≈ N× (N UNet passes a step). On a shared machine read ``cpu×`` (with ``--threads 1``):
  wall time there also counts other processes' turns;
- ``clip[type]``: CameraCLIP's probability of the type among its axis on the type's segment;
- ``flow``: the share of segments whose optical-flow verdict (`media.motion`) names the segment's
  movement type(s) (framing/angle types are CameraCLIP's to judge);
- ``calls``: CLIPLoRA's scoring calls (and skipped ones).

Inputs. ``--base``: a diffusers AnimateDiff folder (the base ``cinestudio diff train-base`` trained,
``make-tiny``'s, or a real SD-1.5 + ``--motion-adapter``). ``--loras DIR``: LoRA files or ``lora
train`` runs under DIR, found by the type in their metadata; with ``--data`` (simulator clips)
missing ones are trained first (``--lora-steps``, into ``--work``). ``--clip``: a CameraCLIP run;
with ``--data`` and no ``--clip`` one is trained for ``--clip-minutes``; with neither, a randomly
initialised CameraCLIP stands in (timings stay meaningful, scores do not — the output says so).

    python benchmarks/composition.py --base RUN/pipeline --loras LORAS --clip CLIP_RUN \\
        [--seeds 0 1 2] [--steps 25] [--frames 16] [--size 32] [--device auto] [--json out.json]

The same command runs unchanged on a GPU with a real base (``--device cuda``; add ``--size 512``).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

DEFAULT_PAIRS = ("pan_left>zoom_in", "close_up+pan_right")
METHODS = ("merge", "switch", "composite", "cliplora")


def parse_pair(text: str) -> tuple[str, list[str]]:
    if ">" in text:
        return "sequence", text.split(">")
    return "together", text.split("+")


def find_loras(folder: Path | None) -> dict[str, Path]:
    from cinestudio.cameradiff.lora import read_metadata

    found: dict[str, Path] = {}
    if folder is None or not folder.is_dir():
        return found
    for path in sorted(folder.rglob("*.safetensors")):
        if "checkpoints" in path.parts:
            continue
        try:
            key = read_metadata(path).get("key")
        except Exception:
            continue
        if key:
            found.setdefault(key, path)
    return found


def ensure_loras(keys: list[str], args) -> dict[str, Path]:
    from cinestudio.cameradiff.train_lora import LoraTrainConfig, train_lora

    found = find_loras(args.loras)
    missing = [k for k in keys if k not in found]
    if missing and not args.data:
        raise SystemExit(f"no LoRA for {', '.join(missing)} under {args.loras}; give --data to train them")
    for key in missing:
        out = args.work / "loras" / f"lora-{key}"
        print(f"training the {key} LoRA ({args.lora_steps} steps) into {out}", file=sys.stderr)
        summary = train_lora(LoraTrainConfig(
            type=key, data=str(args.data), base=str(args.base), out=str(out), steps=args.lora_steps,
            lr=args.lora_lr, rank=8, frames=args.frames, resolution=args.size, batch_size=2, preview_every=0,
            device=args.device, motion_adapter=args.motion_adapter), resume=(out / "config.json").is_file())
        found[key] = Path(summary["lora"])
    return found


def ensure_scorer(args):
    from cinestudio.cameradiff.cliplora import CameraClipScorer

    if args.clip:
        return CameraClipScorer.load(args.clip, args.device), str(args.clip)
    if args.data:
        from cinestudio.cameraclip.train import TrainConfig, train

        out = args.work / "cameraclip"
        print(f"training CameraCLIP for {args.clip_minutes} min into {out}", file=sys.stderr)
        train(TrainConfig(data=str(args.data), out=str(out), epochs=1000, batch_size=32, max_minutes=args.clip_minutes, scale_expert_clips=0, track_expert_clips=0,
                          device=args.device), resume=(out / "config.json").is_file())
        return CameraClipScorer.load(out, args.device), str(out)
    import torch

    from cinestudio.cameraclip.infer import LoadedRun
    from cinestudio.cameraclip.model import CameraCLIP
    from cinestudio.cameraclip.registry import ModelSpec
    from cinestudio.taxonomy import load_taxonomy

    torch.manual_seed(0)
    model = CameraCLIP(ModelSpec(), device="cpu" if args.device == "auto" else args.device).eval()
    return CameraClipScorer(LoadedRun(model=model, taxonomy=load_taxonomy(), config={})), None


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--base", type=Path, required=True)
    ap.add_argument("--motion-adapter", default=None)
    ap.add_argument("--loras", type=Path, default=None)
    ap.add_argument("--clip", type=Path, default=None)
    ap.add_argument("--data", type=Path, default=None, help="simulator clips, to train missing LoRAs / CameraCLIP")
    ap.add_argument("--work", type=Path, default=Path("bench-composition"))
    ap.add_argument("--pair", action="append", default=None)
    ap.add_argument("--methods", nargs="+", default=list(METHODS))
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--steps", type=int, default=25)
    ap.add_argument("--frames", type=int, default=16)
    ap.add_argument("--size", type=int, default=None)
    ap.add_argument("--guidance", type=float, default=7.5)
    ap.add_argument("--prompt", default="a scene")
    ap.add_argument("--k", type=int, default=5)
    ap.add_argument("--tau", type=int, default=2)
    ap.add_argument("--noise-share", type=float, default=0.0,
                    help="start noise common to all frames (0: independent, the default)")
    ap.add_argument("--noise-warp", type=float, default=0.0,
                    help="its slide with the pan/tilt LoRAs, latent px/frame (every method gets the same start)")
    ap.add_argument("--lora-steps", type=int, default=300)
    ap.add_argument("--lora-lr", type=float, default=1e-3)
    ap.add_argument("--clip-minutes", type=float, default=6.0)
    ap.add_argument("--device", default="auto")
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--repeats", type=int, default=1, help="renders per measurement (the fastest counts)")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args(argv)

    import numpy as np
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    from cinestudio.cameradiff import lora as L
    from cinestudio.cameradiff.backend import describe_pipeline, load_pipeline
    from cinestudio.cameradiff.cliplora import GuideOptions
    from cinestudio.cameradiff.compose import ComposeOptions, compose
    from cinestudio.cameradiff.render import score_segments
    from cinestudio.taxonomy import load_taxonomy

    tax = load_taxonomy()
    pairs = [parse_pair(p) for p in (args.pair or DEFAULT_PAIRS)]
    keys = sorted({k for _, ks in pairs for k in ks})
    loras = ensure_loras(keys, args)
    scorer, clip_run = ensure_scorer(args)
    pipe = load_pipeline(args.base, device=args.device, motion_adapter=args.motion_adapter)
    refs = L.load_loras(pipe, [L.parse_lora_arg(str(loras[k])) for k in keys])
    by_key = {r.key: r for r in refs}
    F = args.frames

    def refs_for(kind: str, ks: list[str]):
        from dataclasses import replace

        if kind == "together":
            return [replace(by_key[k], start=None, end=None, weight=1.0) for k in ks]
        bounds = np.linspace(0, F, len(ks) + 1).round().astype(int)
        return [replace(by_key[k], start=int(a), end=int(b), weight=1.0) for k, a, b in zip(ks, bounds[:-1], bounds[1:])]

    def timed(rs, method: str, seed: int):
        """(output, wall seconds, CPU seconds of this process) — CPU time is what the render costs on a
        shared machine, where wall time also counts other processes' turns."""
        opts = ComposeOptions(method=method, steps=args.steps, num_frames=F, height=args.size, width=args.size,
                              seed=seed, guidance_scale=args.guidance, tau=args.tau, guide=GuideOptions(k=args.k),
                              noise_share=args.noise_share, noise_warp=args.noise_warp)
        best = None
        for _ in range(args.repeats):
            c0, t0 = time.process_time(), time.perf_counter()
            out = compose(pipe, args.prompt, rs, opts, scorer=scorer if method == "cliplora" else None)
            wall, cpu = time.perf_counter() - t0, time.process_time() - c0
            if best is None or wall < best[1]:
                best = (out, wall, cpu)
        return best

    timed(refs_for("together", keys[:1]), "merge", 10_000)  # warm-up
    rows = []
    for kind, ks in pairs:
        per_method: dict[str, list[dict]] = {m: [] for m in args.methods}
        for seed in args.seeds:
            # the baseline and every method back to back on this seed: load changes hit them alike
            _, single_wall, single_cpu = timed(refs_for("together", ks[:1]), "merge", seed)
            for method in args.methods:
                out, wall, cpu = timed(refs_for(kind, ks), method, seed)
                segs = score_segments(out.frames, out.report["segments"], scorer)
                clip_scores: dict[str, float] = {}
                flow_hits = []
                for seg in segs:
                    for k in [k for k in seg["types"] if k]:
                        clip_scores[k] = seg["cameraclip"][k]["probability"]
                    moves = [k for k in seg["types"] if k and tax.axis_of(k) == "movement"]
                    if moves:
                        flow_hits.append(all(m in seg["motion"]["dominant"] for m in moves))
                c = out.report.get("cliplora") or {}
                per_method[method].append({
                    "seed": seed, "wall_s": wall, "cpu_s": cpu, "single_wall_s": single_wall, "single_cpu_s": single_cpu,
                    "wall_ratio": wall / single_wall, "cpu_ratio": cpu / max(single_cpu, 1e-9), "clip": clip_scores,
                    "flow": [s["motion"]["verdict"] for s in segs], "flow_hits": flow_hits,
                    "calls": c.get("calls"), "skipped": c.get("skipped"), "unet_calls": out.report["unet_calls"]})
        for method, per_seed in per_method.items():
            hits = [h for r in per_seed for h in r["flow_hits"]]
            rows.append({
                "pair": (">" if kind == "sequence" else "+").join(ks), "kind": kind, "method": method,
                "time_ratio": statistics.median(r["wall_ratio"] for r in per_seed),
                "cpu_ratio": statistics.median(r["cpu_ratio"] for r in per_seed),
                "seconds": statistics.median(r["wall_s"] for r in per_seed),
                "single_lora_seconds": statistics.median(r["single_wall_s"] for r in per_seed),
                "clip": {k: float(np.mean([r["clip"][k] for r in per_seed])) for k in ks},
                "flow_match": (sum(hits) / len(hits)) if hits else None,
                "calls": float(np.mean([r["calls"] for r in per_seed])) if method == "cliplora" else None,
                "skipped": float(np.mean([r["skipped"] for r in per_seed])) if method == "cliplora" else None,
                "seeds": per_seed})

    print(f"base {args.base} ({describe_pipeline(pipe)['parameters_m']}M UNet params), device "
          f"{pipe._cinestudio_source['device']}, {args.steps} steps, {F} frames, seeds {args.seeds}, k={args.k}, tau={args.tau}")
    if clip_run is None:
        print("CameraCLIP: randomly initialised stand-in (no --clip, no --data): scores are NOT meaningful")
    print(f"{'pair':<22} {'method':<10} {'wall×':>6} {'cpu×':>6} {'calls':>6}  {'flow':>5}  CameraCLIP per type")
    for r in rows:
        calls = "" if r["calls"] is None else f"{r['calls']:.1f}"
        flow = "-" if r["flow_match"] is None else f"{r['flow_match']:.2f}"
        clip = ", ".join(f"{k} {v:.2f}" for k, v in r["clip"].items())
        print(f"{r['pair']:<22} {r['method']:<10} {r['time_ratio']:>6.2f} {r['cpu_ratio']:>6.2f} {calls:>6}  {flow:>5}  {clip}")
    if args.json:
        args.json.write_text(json.dumps({"args": {k: str(v) for k, v in vars(args).items()}, "clip_run": clip_run,
                                         "rows": rows}, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
