"""Ship a model bundle (``models/<name>/bundle.json``): members, weights, and the bundle's calibration.

    python -m training.bundle --name expression-ensemble --version 3.0.0 \
        --member convnext-face48=1 --member faceapi-expression=1 --member fer-mini-xception=1
    python -m training.bundle --card artifacts/eval/suite.json --smoothing artifacts/eval/smoothing.json  # its card

Each member is a model folder known to the suite (``training.suite.MEMBERS``); its weight is given here (the choice
and the figures behind it are in the bundle's model card) and its own single-view temperature is read from its model
file. The bundle's temperatures, one per TTA kind, are fitted on FER2013 validation *after* mixing (the NLL of the
mixture, :func:`training.suite.fit_temperatures`), from the members' cached view logits (``--cache-dir``, shared with
the suite). The manifest records each member's files with their SHA-256, which the worker checks at every load.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import Any

from bloomwell_ml.bundle import BUNDLE_FILE, read_bundle, write_bundle
from bloomwell_ml.labels import EMOTIONS
from bloomwell_ml.paths import models_dir
from bloomwell_ml.spec import ModelSpec
from training import robustness as rb
from training import suite
from training.config import resolve_data_root


def bundle_spec(name: str, version: str, member_specs: list[ModelSpec], temperatures: dict[str, float]
                ) -> ModelSpec:
    """The bundle's spec: its one model image is the largest member input, in colour if any member reads colour."""
    colour = any(not s.grayscale for s in member_specs)
    return ModelSpec(arch="bundle", image_size=max(s.image_size for s in member_specs), in_chans=3 if colour else 1,
                     grayscale=not colour, labels=EMOTIONS, name=name, version=version,
                     temperature=temperatures["none"], temperatures=dict(temperatures))


def parse_members(items: list[str]) -> dict[str, float]:
    """``NAME=WEIGHT`` items → {name: weight}."""
    out = {}
    for item in items:
        name, _, weight = item.partition("=")
        if name not in suite.MEMBERS:
            raise SystemExit(f"unknown member {name!r} (one of {list(suite.MEMBERS)})")
        out[name] = float(weight or 1.0)
    return out


def ship(name: str, version: str, weights: dict[str, float], opts: rb.SuiteOptions, threads: int,
         extra: dict[str, Any] | None = None) -> Path:
    """Fit the bundle's temperatures and write its manifest; returns the manifest's path."""
    from bloomwell_ml.io import load_model

    members = {m: suite.member_logits(m, suite.MEMBERS[m], opts, threads) for m in weights}
    temps = {m: suite.member_temperature(suite.MEMBERS[m]) for m in weights}
    temperatures = suite.fit_temperatures(suite.combine(members, weights, temps))
    specs = [load_model(suite.MEMBERS[m]).spec for m in weights]
    path = models_dir() / name / BUNDLE_FILE
    entries = [{"name": m, "folder": os.path.relpath(suite.MEMBERS[m].parent, path.parent), "weight": w,
                "temperature": temps[m]} for m, w in weights.items()]
    write_bundle(path, bundle_spec(name, version, specs, temperatures), entries, extra)
    read_bundle(path)  # what the worker reads
    return path


CARD_SETS = ("fer2013_val", "fer2013_test", "fer2013_c", "ckplus", "serving_fer2013_test", "serving_ckplus")


def calibration_table(candidate: dict[str, Any]) -> dict[str, dict[str, dict[str, float]]]:
    """Per set and TTA kind: ECE and NLL before (the plain mixture, T = 1) and after the bundle's temperature."""
    out: dict[str, dict[str, dict[str, float]]] = {}
    for key in CARD_SETS:
        entry = candidate["sets"].get(key)
        if entry is None:
            continue
        entry = entry["pooled"] if key == "fer2013_c" else entry
        out[key] = {tta: {"ece_before": e["uncalibrated"]["ece"], "ece_after": e["calibrated"]["ece"],
                          "nll_before": e["uncalibrated"]["nll"], "nll_after": e["calibrated"]["nll"],
                          "accuracy": e["calibrated"]["accuracy"], "temperature": e["calibrated"]["temperature"]}
                    for tta, e in entry.items()}
    return out


def write_card_json(manifest: Path, suite_report: Path, baseline: str = "convnext-face48",
                    smoothing: Path | None = None) -> Path:
    """``model_card.json`` beside the manifest: its SHA-256, the members, and the suite's figures of the bundle and of
    ``baseline`` (2.2.0) from the same run (headline rows; calibration before/after on every set), plus the episode
    figures of ``training.tune_smoothing`` (``smoothing``: its JSON report) where given."""
    from bloomwell_ml.onnx_runtime import file_sha256

    bundle = read_bundle(manifest)
    report = json.loads(suite_report.read_text())
    name = f"{bundle.spec.name} {bundle.spec.version}"
    rows = {r["candidate"]: r for r in report["headline"]}
    card = {"name": bundle.spec.name, "version": bundle.spec.version, "manifest": manifest.name,
            "manifest_sha256": file_sha256(manifest), "temperatures": bundle.spec.temperatures,
            "members": [{"name": m.name, "weight": m.weight, "temperature": m.temperature,
                         "onnx_sha256": m.onnx_sha256, "pt_sha256": m.pt_sha256} for m in bundle.members],
            "suite": {"options": {k: report["options"].get(k) for k in ("corrupt_limit", "serving_limit", "views")},
                      "bundle": rows.get(name), "baseline": rows.get(baseline),
                      "calibration": calibration_table(report["candidates"][name]),
                      "baseline_calibration": calibration_table(report["candidates"][baseline])}}
    if smoothing is not None:
        runs = json.loads(smoothing.read_text())["runs"]
        card["episodes"] = {run: alts["worker default"] for run, alts in runs.items()}
    out = manifest.parent / "model_card.json"
    out.write_text(json.dumps(card, indent=1) + "\n")
    return out


def main(argv: list[str] | None = None) -> None:
    """CLI entry point."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--name", default="expression-ensemble")
    ap.add_argument("--version")
    ap.add_argument("--member", action="append", metavar="NAME=WEIGHT")
    ap.add_argument("--card", metavar="SUITE_JSON",
                    help="only write the bundle's model_card.json from a suite report (training.suite --out)")
    ap.add_argument("--smoothing", metavar="JSON", help="with --card: training.tune_smoothing's report (episodes)")
    ap.add_argument("--note", default="", help="why these weights (stored in the manifest as 'choice')")
    ap.add_argument("--data-root")
    ap.add_argument("--cache-dir", default="runs/robustness-cache")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args(argv)
    if args.card:
        print(write_card_json(models_dir() / args.name / BUNDLE_FILE, Path(args.card),
                              smoothing=Path(args.smoothing) if args.smoothing else None))
        return
    if not args.version or not args.member:
        ap.error("--version and --member are needed to ship a bundle")
    opts = rb.SuiteOptions(data_root=resolve_data_root(args.data_root), cache_dir=Path(args.cache_dir),
                           sets=("fer2013_val",), batch_size=32)
    path = ship(args.name, args.version, parse_members(args.member), opts, args.threads,
                {"choice": args.note} if args.note else None)
    print(json.dumps(json.loads(path.read_text()), indent=1))


if __name__ == "__main__":
    main()
