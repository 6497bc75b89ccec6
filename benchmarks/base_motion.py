"""Does a base follow prompted camera motion? The optical-flow estimator's verdict on samples per
prompted movement — the evaluation `cinestudio diff train-base` logs while training, run on any
AnimateDiff folder with more seeds.

For every movement the estimator reads on the simulator's own clips (static, pans, tilts, zooms;
``--movement`` to choose), render ``--seeds`` samples prompted with the movement's first taxonomy
prompt and count the samples whose verdict names it. Prints a table (verdict counts per prompted
movement), the follow rate and the samples' mean drift (the steady move per frame pair, % of the
frame, and the speed, which counts jitter too: `train_base.drift_percent`; the simulator's pans and
tilts drift 7-9 %/frame at ``--crop 0.5``, its static clips 0.6) per movement; ``--json OUT`` saves everything. A base trained with
``--noise-share`` starts its samples from that frame-correlated noise (its ``cinestudio_base.json``
says so; ``--noise-share`` overrides); ``--warp V`` slides that shared noise V latent px per frame
along the prompted move (warped noise: the motion then comes from the start noise, not the text;
``--prompt "a scene"`` keeps the warp per movement and drops the movement text, to measure that).
``--probe-data SIM`` adds the diagnosis: the UNet's loss per noise level on training clips with its
motion modules bypassed, frames shuffled, the opposite or the neutral prompt (`probe`).

    python benchmarks/base_motion.py --base RUN/pipeline [--seeds 8] [--steps 25] [--guidance 3]
        [--frames 8] [--size 32] [--noise-share S] [--warp V] [--threads 1] [--device cpu] [--json out.json]
"""

from __future__ import annotations

import argparse
import collections
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def _mean(values: list[float]) -> float | None:
    """Mean of the finite values (None when no sample could be tracked)."""
    import math

    ok = [v for v in values if math.isfinite(v)]
    return round(sum(ok) / len(ok), 2) if ok else None


BANDS = ((0, 200), (200, 500), (500, 800), (800, 1000))


def probe(pipe, data: str, movements: list[str], *, clips: int = 48, frames: int = 8, size: int = 32,
          crop: float = 1.0, noise_share: float = 0.0, seed: int = 0) -> dict[str, dict[str, float]]:
    """Does the UNet use time and text? Its loss (the scheduler's target: ε or v) on ``clips`` training
    clips of ``movements`` per noise-level band, with the same noise for every condition: as trained;
    motion modules bypassed; frames shuffled in time; the prompt of the opposite move; the neutral
    prompt. Equal losses mean the model does not use what the condition removes."""
    import numpy as np
    import torch
    from diffusers import DDPMScheduler

    from cinestudio.cameraclip.augment import REVERSE_SWAP   # each move's opposite direction
    from cinestudio.cameradiff import data as dmod
    from cinestudio.cameradiff.train_base import NEUTRAL_PROMPT, mixed_noise
    from cinestudio.taxonomy import load_taxonomy

    tax = load_taxonomy("cinematic2k")
    _, examples = dmod.load_examples(data, tax, None, False)
    examples = [e for e in examples if (e.labels.get("movement") or [None])[0] in movements]
    rng = np.random.default_rng(seed)
    pick = [examples[i] for i in rng.choice(len(examples), min(clips, len(examples)), replace=False)]
    lat = dmod.LatentCache(pipe.vae, dmod.ExampleFrames(None, frames, size, crop), "cpu")
    unet = pipe.unet
    sched = DDPMScheduler.from_config(pipe.scheduler.config)
    v_pred = sched.config.prediction_type == "v_prediction"
    cache: dict[str, torch.Tensor] = {}

    def embed(text: str) -> torch.Tensor:
        if text not in cache:
            cache[text] = pipe.encode_prompt(text, "cpu", 1, False)[0]
        return cache[text]

    out: dict[str, dict[str, float]] = {}
    for cond in ("as trained", "motion modules bypassed", "frames shuffled", "opposite prompt", "neutral prompt"):
        hooks = [m.register_forward_hook(lambda mod, args, res: args[0]) for m in unet.modules()
                 if type(m).__name__ == "AnimateDiffTransformer3D"] if cond == "motion modules bypassed" else []
        out[cond] = {}
        try:
            for lo, hi in BANDS:
                gen = torch.Generator().manual_seed(seed * 1009 + lo)
                losses = []
                with torch.no_grad():
                    for i in range(0, len(pick), 8):
                        batch = pick[i:i + 8]
                        x0 = lat.batch(batch)
                        perm = torch.randperm(x0.shape[2], generator=gen)
                        if cond == "frames shuffled":
                            x0 = x0[:, :, perm]
                        noise = mixed_noise(tuple(x0.shape), gen, noise_share)
                        t = torch.randint(lo, hi, (len(batch),), generator=gen)
                        moves = [e.labels["movement"][0] for e in batch]
                        if cond == "opposite prompt":
                            moves = [REVERSE_SWAP.get(m, m) for m in moves]
                        texts = [NEUTRAL_PROMPT if cond == "neutral prompt" else tax.get("movement", m).prompts[0]
                                 for m in moves]
                        emb = torch.cat([embed(x) for x in texts]).repeat_interleave(x0.shape[2], 0)
                        pred = unet(sched.add_noise(x0, noise, t), t, encoder_hidden_states=emb).sample
                        target = sched.get_velocity(x0, noise, t) if v_pred else noise
                        losses.append(float(((pred - target) ** 2).mean()))
                out[cond][f"{lo}-{hi}"] = round(float(np.mean(losses)), 4)
        finally:
            for h in hooks:
                h.remove()
    return out


def main(argv: list[str] | None = None) -> int:
    from cinestudio.cameradiff.train_base import READABLE_MOVEMENTS

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--base", required=True)
    ap.add_argument("--movement", nargs="*", default=list(READABLE_MOVEMENTS))
    ap.add_argument("--seeds", type=int, default=8)
    ap.add_argument("--seed0", type=int, default=1000, help="first seed (training evaluations use 100+)")
    ap.add_argument("--steps", type=int, default=25)
    ap.add_argument("--guidance", type=float, default=3.0)
    ap.add_argument("--frames", type=int, default=8)
    ap.add_argument("--size", type=int, default=32)
    ap.add_argument("--noise-share", type=float, default=None,
                    help="share of the start noise common to all frames (default: the base's training value, else 0)")
    ap.add_argument("--warp", type=float, default=None,
                    help="latent px per frame the shared start noise slides along the prompted move "
                         "(default: the base's --noise-warp, else 0; needs a noise share)")
    ap.add_argument("--prompt", default=None,
                    help="prompt every sample with this text instead of its movement's prompt (a control: with "
                         "--warp, how much of the move comes from the text)")
    ap.add_argument("--probe-data", default=None,
                    help="also probe the UNet's loss on these training clips (simulator folder or manifest) with "
                         "motion modules bypassed, frames shuffled, opposite and neutral prompts (`probe`)")
    ap.add_argument("--probe-clips", type=int, default=48)
    ap.add_argument("--crop", type=float, default=None, help="crop of the probe clips (default: the base's)")
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--threads", type=int, default=None)
    ap.add_argument("--gifs", default=None, help="folder for the first seed's samples")
    ap.add_argument("--json", default=None)
    args = ap.parse_args(argv)

    import torch

    from cinestudio.cameradiff.backend import BackendOptions, load_pipeline
    import numpy as np

    from cinestudio.cameradiff.render import motion_verdict
    from cinestudio.cameradiff.train_base import drift_percent, render_sample, warp_for
    from cinestudio.taxonomy import load_taxonomy

    if args.threads:
        torch.set_num_threads(args.threads)
    tax = load_taxonomy("cinematic2k")
    pipe = load_pipeline(args.base, BackendOptions(device=args.device))
    meta = Path(args.base) / "cinestudio_base.json"
    trained = json.loads(meta.read_text())["config"] if meta.is_file() else {}
    share = trained.get("noise_share", 0.0) if args.noise_share is None else args.noise_share
    warp_speed = trained.get("noise_warp", 0.0) if args.warp is None else args.warp
    t0 = time.perf_counter()
    rows = {}
    for m in args.movement:
        prompt = tax.get("movement", m).prompts[0] if args.prompt is None else args.prompt
        verdicts, drifts, speeds = [], [], []
        for j in range(args.seeds):
            video = render_sample(pipe, prompt, steps=args.steps, frames=args.frames, size=args.size,
                                  seed=args.seed0 + j, guidance=args.guidance, noise_share=share,
                                  warp=warp_for(m, warp_speed))
            if args.gifs and j == 0:
                from cinestudio.media.encode import write_gif

                Path(args.gifs).mkdir(parents=True, exist_ok=True)
                write_gif(Path(args.gifs) / f"{m}.gif", list(video), fps=8)
            verdicts.append(motion_verdict(video)["verdict"])
            net, speed = drift_percent(video)
            drifts.append(net)
            speeds.append(speed)
        rows[m] = {"prompt": prompt, "verdicts": verdicts, "follow": sum(v == m for v in verdicts) / len(verdicts),
                   "drift": _mean(drifts), "speed": _mean(speeds)}
        counts = collections.Counter(verdicts).most_common()
        print(f"{m:10s} {rows[m]['follow']:.2f}  drift {rows[m]['drift']} (speed {rows[m]['speed']}) %/frame  "
              + ", ".join(f"{k} {n}" for k, n in counts), flush=True)
    moving = [m for m in rows if m != "static"]
    probed = None
    if args.probe_data:
        crop = trained.get("crop", 1.0) if args.crop is None else args.crop
        probed = probe(pipe, args.probe_data, args.movement, clips=args.probe_clips, frames=args.frames,
                       size=args.size, crop=crop, noise_share=share)
        print("probe: loss per noise-level band  " + "  ".join(f"{lo}-{hi}" for lo, hi in BANDS))
        for cond, row in probed.items():
            print(f"  {cond:24s} " + "  ".join(f"{v:.4f}" for v in row.values()), flush=True)
    summary = {"base": args.base, "seeds": args.seeds, "steps": args.steps, "guidance": args.guidance,
               "frames": args.frames, "size": args.size, "noise_share": share, "warp": warp_speed, "movements": rows, "probe": probed,
               "follow_rate": sum(r["follow"] for r in rows.values()) / max(1, len(rows)),
               "follow_rate_moving": sum(rows[m]["follow"] for m in moving) / max(1, len(moving)),
               "elapsed_s": round(time.perf_counter() - t0, 1)}
    print(f"follow rate {summary['follow_rate']:.2f} (moving: {summary['follow_rate_moving']:.2f}); "
          f"{summary['elapsed_s']:.0f} s")
    if args.json:
        Path(args.json).write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
