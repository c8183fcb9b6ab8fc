"""Tune the worker's HMM smoothing on the expression-episode videos (:mod:`training.episodes`) for a model.

    python -m training.tune_smoothing [--model models/expression-ensemble/bundle.json] [--seeds 1 0]

Each model runs through the worker's own pipeline once per video set; the raw per-frame probabilities are then
re-smoothed with every HMM setting of the grid (``tau_s`` × ``evidence_s``) and scored per episode: negative episodes
seen, spurious episodes in neutral stretches. The first seed's videos choose (most negative episodes seen with no
spurious episode; ties: fewest spurious, then the most neutral frames right, then the setting nearest the current
default), the other seeds' videos — the suite's are seed 0 — check the choice on videos it was not chosen on.
Nothing is changed here: the printed choice goes into ``WorkerSettings`` by hand, if it is measured better.
"""

from __future__ import annotations

import argparse
import itertools
import json
from pathlib import Path
from typing import Any

from bloomwell_ml.paths import convnext_model_path, default_model_path
from services.inference_worker.smoothing import SmoothingOptions
from training.config import resolve_data_root
from training.episodes import EpisodeOptions, run_episode_suite

TAUS = (0.5, 1.0, 1.5, 2.0, 3.0, 4.0)
EVIDENCE = (0.0, 0.2, 0.4)
DEFAULT = SmoothingOptions()


def grid() -> dict[str, SmoothingOptions]:
    """Every HMM setting tried, by name ``hmm_tau<τ>_ev<e>``."""
    return {f"hmm_tau{t:g}_ev{e:g}": SmoothingOptions(method="hmm", tau_s=t, evidence_s=e)
            for t, e in itertools.product(TAUS, EVIDENCE)}


def choose(alternatives: dict[str, dict[str, Any]], settings: dict[str, SmoothingOptions]) -> str:
    """The setting that sees the most negative episodes with no spurious one (see the module's rule)."""
    def key(name: str) -> tuple[float, ...]:
        a, s = alternatives[name], settings[name]
        distance = abs(s.tau_s - DEFAULT.tau_s) + abs(s.evidence_s - DEFAULT.evidence_s)
        return (a["spurious"] == 0, a["negative_seen_count"], -a["spurious"],
                _neutral_accuracy(a), -distance)

    return max((k for k in alternatives if k in settings), key=key)


def _neutral_accuracy(summary: dict[str, Any]) -> float:
    return float(summary.get("neutral_frame_accuracy", 0.0))


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """CLI entry point: a table per model and seed; the choice on the first seed, checked on the others."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", action="append", default=[], metavar="NAME=PATH",
                    help="default: 2.2.0 and the shipped bundle")
    ap.add_argument("--seeds", type=int, nargs="+", default=[1, 0])
    ap.add_argument("--videos-per-family", type=int, default=4)
    ap.add_argument("--data-root")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--out", default="artifacts/eval/smoothing.json")
    args = ap.parse_args(argv)
    from services.inference_worker.classifier import EmotionClassifier

    models = dict(m.split("=", 1) for m in args.model) or {"2.2.0": str(convnext_model_path()),
                                                             "bundle": str(default_model_path())}
    data_root = resolve_data_root(args.data_root)
    settings = grid()
    settings["worker default"] = DEFAULT
    report: dict[str, Any] = {"grid": {k: {"tau_s": v.tau_s, "evidence_s": v.evidence_s} for k, v in settings.items()},
                              "runs": {}}
    for seed in args.seeds:
        candidates = {name: EmotionClassifier.load(Path(path), device="cpu", backend="onnxruntime",
                                                   threads=args.threads, tta="none") for name, path in models.items()}
        ep = run_episode_suite(candidates, data_root, EpisodeOptions(videos_per_family=args.videos_per_family,
                                                                     seed=seed), alternatives=settings)
        for name, res in ep["candidates"].items():
            alts = res["alternatives"]
            for k, v in alts.items():  # neutral-frame accuracy over the videos, for the tie-break
                vids = res["videos"]
                v["neutral_frame_accuracy"] = sum(x["alternatives"][k]["neutral_frame_accuracy"] for x in vids) / \
                    max(1, len(vids))
            report["runs"][f"{name} seed {seed}"] = {k: {f: v[f] for f in ("negative_seen_count", "negative_episodes",
                                                                          "spurious", "neutral_frame_accuracy")}
                                                     for k, v in alts.items()}
    for name in models:
        first = report["runs"][f"{name} seed {args.seeds[0]}"]
        best = choose(first, grid())
        report.setdefault("choice", {})[name] = best
        print(f"\n{name}: chosen on seed {args.seeds[0]}: {best}")
        for seed in args.seeds:
            run = report["runs"][f"{name} seed {seed}"]
            for k in ("worker default", best):
                r = run[k]
                print(f"  seed {seed} {k:<22} negative seen {r['negative_seen_count']}/{r['negative_episodes']}, "
                      f"spurious {r['spurious']}, neutral frames right {100 * r['neutral_frame_accuracy']:.1f} %")
        print(f"  grid on seed {args.seeds[0]} (negative seen / spurious):")
        print("   " + "  ".join(f"{k.removeprefix('hmm_')} {v['negative_seen_count']}/{v['spurious']}"
                                for k, v in first.items()))
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=1))
    return report


if __name__ == "__main__":
    main()
