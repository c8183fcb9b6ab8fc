"""Ship a model bundle (``models/<name>/bundle.json``): members, weights, and the bundle's calibration.

    python -m training.bundle --name expression-ensemble --version 3.0.0 \
        --member convnext-face48=1 --member faceapi-expression=1 --member fer-mini-xception=1

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


def main(argv: list[str] | None = None) -> None:
    """CLI entry point."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--name", default="expression-ensemble")
    ap.add_argument("--version", required=True)
    ap.add_argument("--member", action="append", required=True, metavar="NAME=WEIGHT")
    ap.add_argument("--note", default="", help="why these weights (stored in the manifest as 'choice')")
    ap.add_argument("--data-root")
    ap.add_argument("--cache-dir", default="runs/robustness-cache")
    ap.add_argument("--threads", type=int, default=2)
    args = ap.parse_args(argv)
    opts = rb.SuiteOptions(data_root=resolve_data_root(args.data_root), cache_dir=Path(args.cache_dir),
                           sets=("fer2013_val",), batch_size=32)
    path = ship(args.name, args.version, parse_members(args.member), opts, args.threads,
                {"choice": args.note} if args.note else None)
    print(json.dumps(json.loads(path.read_text()), indent=1))


if __name__ == "__main__":
    main()
