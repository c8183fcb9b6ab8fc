"""The CPU student (issue 20 §3): the shipped ConvNeXt fine-tuned from its own weights with the early stages frozen,
distilled from the teacher ensemble (2.2.0 + face-api + mini-Xception) together with the labels.

    python -m training.student --config training/configs/student/cpu.yaml            # prepare, then train
    python -m training.student --config training/configs/student/cpu.yaml --resume   # continue where it stopped

Two resumable steps, both under ``<out_dir>``:

1. **prepare** (``cache/``): the training pool is FER2013 train without the validation split (deduplicated), CK+
   without the held-out subject fold, and unlabelled face crops the worker's detector cuts from ``data/videos``
   (labelled by the teachers only). Each image is seen in ``views`` versions: view 0 the image as it is, the others
   *serving-matched*: the worker's detector → eye-aligned crop on the image upscaled into a frame with a random roll,
   then blur, JPEG, low light or a downscale (each drawn per image). For every view the frozen part of the student
   (stem and stages 0–2 of 2.2.0, in eval mode) is run once and its output stored (float16), and each teacher's logits
   on the same view at the teacher's own input size. Chunks are written one by one; a restart skips finished ones.
2. **train** (``checkpoints/``): only stage 3 and the head learn, on the cached features (one random view of each
   image per epoch). Loss on labelled images ``(1 - alpha) · CE(label) + alpha · T² · KL(p_teachers,T ‖ p_student,T)``,
   on unlabelled ones the KD term alone. The teachers' weights are chosen on FER2013 validation plus the CK+ training
   folds (grid, step 0.1). Every epoch writes ``checkpoints/last.pt`` (a :class:`training.checkpoint.Checkpoint`:
   weights, optimiser, schedule, RNG, history) and ``best.pt`` on a better validation macro-F1; ``model.pt`` at the
   end is the whole network (frozen part included), loadable by the worker and ``training.suite --extra``.
"""

from __future__ import annotations

import argparse
import json
import math
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch
import torch.nn.functional as F
from pydantic import Field
from torch import nn

from bloomwell_ml.arch import ConvNeXtFace
from bloomwell_ml.crop import crop_square
from bloomwell_ml.faces import create_detector
from bloomwell_ml.io import load_model, save_model
from bloomwell_ml.labels import EMOTIONS
from bloomwell_ml.preprocess import normalize, to_model_image
from bloomwell_ml.spec import ModelSpec
from training.checkpoint import Checkpoint, load_checkpoint
from training.config import Section, resolve_data_root, resolve_path
from training.data.dataset import stratified_split
from training.data.readers import Sample, read_folder, read_gray
from training.data.sources import deduplicate, subject_folds
from training.engine import class_weight_vector
from training.metrics import classification_report
from training.optim import lr_factor
from training.suite import MEMBERS, weight_grid

UNLABELLED = -1


class StudentConfig(Section):
    """The student run (unknown keys refused, as every training config)."""

    name: str = "student-cpu"
    out_dir: str = "runs/{name}"
    seed: int = 0
    data_root: str | None = None
    init_from: str = "models/convnext-face48/model.pt"
    frozen_through: int = 2  # stem and stages 0..frozen_through are frozen and cached
    version: str = "3.0.0-cpu"
    # data
    val_fraction: float = 0.1
    split_seed: int = 42  # 2.x's validation split: images 2.2.0 never trained on
    dedup: bool = True
    ckplus_fold: int = 0
    ckplus_folds: int = 5
    videos: str | None = "videos"  # under the data root; None = no unlabelled crops
    video_fps: float = 2.0
    min_face_px: int = 40
    max_train_images: int | None = None
    views: int = 2
    chunk: int = 512
    teachers: list[str] = Field(default_factory=lambda: list(MEMBERS))
    teacher_weights: dict[str, float] | None = None  # None = grid-chosen on FER2013 val + CK+ training folds
    # training
    epochs: int = 12
    samples_per_epoch: int | None = None  # None = the pool's size; fewer = shorter epochs (sampled with replacement)
    batch_size: int = 128
    lr: float = 3e-4
    weight_decay: float = 0.05
    warmup_epochs: float = 0.5
    min_lr_ratio: float = 0.02
    alpha: float = 0.7
    temperature: float = 2.0
    label_smoothing: float = 0.05
    class_weights: str | None = "sqrt_inverse"
    ckplus_weight: float = 3.0  # sampling weight of a CK+ image relative to a FER2013 one
    num_threads: int = 2
    max_minutes: float | None = None


def load_student_config(path: str | Path | None, overrides: list[str] | None = None) -> StudentConfig:
    """A :class:`StudentConfig` from YAML + ``key=value`` overrides."""
    import yaml

    raw = yaml.safe_load(Path(path).read_text()) if path else {}
    for item in overrides or []:
        key, _, value = item.partition("=")
        raw[key.strip()] = yaml.safe_load(value)
    cfg = StudentConfig.model_validate(raw)
    cfg.out_dir = cfg.out_dir.replace("{name}", cfg.name)
    return cfg


# --- the pool and its views ---------------------------------------------------------------------------------------


def video_crops(folder: Path, fps: float, min_face_px: int) -> list[np.ndarray]:
    """Gray eye-aligned face crops (the worker's geometry) from every video in ``folder`` at about ``fps``."""
    detector = create_detector("yunet", max_faces=5)
    crops = []
    for path in sorted(folder.iterdir()):
        if path.suffix.lower() not in (".mp4", ".avi", ".webm", ".mov"):
            continue
        cap = cv2.VideoCapture(str(path))
        step = max(1, int(round((cap.get(cv2.CAP_PROP_FPS) or 25.0) / fps)))
        i = 0
        while True:
            ok, frame = cap.read()
            if not ok:
                break
            if i % step == 0:
                for box in detector.detect([frame])[0]:
                    if box.short_side >= min_face_px:
                        crops.append(cv2.cvtColor(crop_square(frame, box, 0.0, align=True, max_side=192),
                                                  cv2.COLOR_BGR2GRAY))
            i += 1
        cap.release()
    return crops


def training_pool(cfg: StudentConfig, data_root: Path) -> tuple[list[Sample], list[Sample], list[Sample],
                                                                  list[Sample]]:
    """(FER2013 train, CK+ training folds, FER2013 validation, CK+ held-out fold)."""
    fer = read_folder(data_root / "fer2013", "train")
    train, val = stratified_split(fer, cfg.val_fraction, cfg.split_seed)
    if cfg.dedup:
        train = deduplicate(train, [*val, *read_folder(data_root / "fer2013", "test")], data_root / "fer2013",
                            data_root)
    if cfg.max_train_images:
        idx = np.random.default_rng(cfg.seed).permutation(len(train))[: cfg.max_train_images]
        train = [train[i] for i in sorted(idx)]
    ck = read_folder(data_root / "ckplus48", "all")
    folds = subject_folds(ck, cfg.ckplus_folds)
    ck_train = [s for s, k in zip(ck, folds, strict=True) if k != cfg.ckplus_fold]
    ck_test = [s for s, k in zip(ck, folds, strict=True) if k == cfg.ckplus_fold]
    return train, ck_train, val, ck_test


def serving_view(gray: np.ndarray, rng: np.random.Generator, detector: Any) -> np.ndarray:
    """A serving-matched version of a gray face: upscaled 4× into a frame, rolled up to ±10°, cut by the worker's
    detector and eye alignment (a random jittered square where nothing is found), then one photometric degradation
    (blur, JPEG, low light, downscale or none)."""
    side = 4 * gray.shape[0]
    big = cv2.resize(gray, (side, side), interpolation=cv2.INTER_CUBIC)
    pad = side // 2
    frame = cv2.copyMakeBorder(big, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
    centre = (frame.shape[1] / 2, frame.shape[0] / 2)
    rot = cv2.getRotationMatrix2D(centre, float(rng.uniform(-10, 10)), float(rng.uniform(0.9, 1.1)))
    rot[:, 2] += rng.uniform(-0.06, 0.06, 2) * side
    frame = cv2.warpAffine(frame, rot, (frame.shape[1], frame.shape[0]), borderMode=cv2.BORDER_REPLICATE)
    bgr = cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)
    faces = detector.detect([bgr])[0]
    if faces:
        crop = cv2.cvtColor(crop_square(bgr, faces[0], 0.0, align=True, max_side=192), cv2.COLOR_BGR2GRAY)
    else:
        half = int(side * rng.uniform(0.45, 0.55))
        c = frame.shape[0] // 2
        crop = frame[c - half : c + half, c - half : c + half]
    kind = rng.choice(["blur", "jpeg", "dark", "down", "none"])
    if kind == "blur":
        crop = cv2.GaussianBlur(crop, (0, 0), float(rng.uniform(0.8, 2.5)))
    elif kind == "jpeg":
        ok, enc = cv2.imencode(".jpg", crop, [cv2.IMWRITE_JPEG_QUALITY, int(rng.integers(15, 60))])
        decoded = cv2.imdecode(enc, cv2.IMREAD_GRAYSCALE) if ok else None
        crop = crop if decoded is None else decoded
    elif kind == "dark":
        x = (crop.astype(np.float32) / 255.0) ** float(rng.uniform(1.3, 2.2)) * float(rng.uniform(0.45, 0.8))
        crop = np.clip(255 * x + rng.normal(0, 4, crop.shape), 0, 255).astype(np.uint8)
    elif kind == "down":
        small = int(rng.integers(14, 28))
        crop = cv2.resize(cv2.resize(crop, (small, small), interpolation=cv2.INTER_AREA), crop.shape[::-1],
                          interpolation=cv2.INTER_LINEAR)
    return crop


class Teachers:
    """The teacher models: logits ``(N, M, 7)`` per view. External teachers run in ONNX Runtime on each crop at their
    own input size; the shipped model (the student's own start) is read off the cached features through its
    untouched later stages, so its early stages run once per view, not twice."""

    def __init__(self, names: list[str], own: str, own_tail: nn.Module, threads: int) -> None:
        from bloomwell_ml.onnx_runtime import OnnxModule, onnx_bytes

        self.names, self.own, self.own_tail = names, own, own_tail.eval()
        self.models: dict[str, tuple[ModelSpec, Any]] = {}
        for name in names:
            if name != own:
                loaded = load_model(MEMBERS[name])
                self.models[name] = (loaded.spec, OnnxModule(onnx_bytes(loaded.module, loaded.spec), threads))

    @torch.inference_mode()
    def logits(self, crops: list[np.ndarray], features: torch.Tensor) -> np.ndarray:
        """Per crop, each teacher's logits (EMOTIONS order)."""
        out = []
        for name in self.names:
            if name == self.own:
                out.append(self.own_tail(features).float().numpy())
                continue
            spec, module = self.models[name]
            x = np.stack([to_model_image(c, spec.image_size, spec.grayscale, spec.in_chans) for c in crops])
            out.append(module(normalize(torch.from_numpy(x).permute(0, 3, 1, 2), spec)).float().numpy())
        return np.stack(out, axis=1)


def _convnext_face(model: nn.Module) -> ConvNeXtFace:
    """``model`` as the ConvNeXtFace the student splits into a frozen and a trainable part."""
    if not isinstance(model, ConvNeXtFace):
        raise TypeError(f"the student splits a ConvNeXtFace, not a {type(model).__name__}")
    return model


def frozen_part(model: nn.Module, through: int) -> nn.Module:
    """The stem and stages 0..``through`` of a ConvNeXtFace as one module (eval mode)."""
    net = _convnext_face(model)
    return nn.Sequential(net.stem, *net.stages[: through + 1]).eval()


class TrainablePart(nn.Module):
    """The stages after the frozen ones, the pool and the head: what the student learns."""

    def __init__(self, model: nn.Module, through: int) -> None:
        super().__init__()
        net = _convnext_face(model)
        self.stages = nn.Sequential(*net.stages[through + 1 :])
        self.pool, self.head = net.pool, net.head

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        logits: torch.Tensor = self.head(self.pool(self.stages(features)))
        return logits


def _prepare_chunk(images: list[np.ndarray], view: int, rng: np.random.Generator, detector: Any, frozen: Any,
                   spec: ModelSpec, teachers: Teachers) -> tuple[np.ndarray, np.ndarray]:
    crops = images if view == 0 else [serving_view(im, rng, detector) for im in images]
    x = np.stack([to_model_image(c, spec.image_size, spec.grayscale, spec.in_chans) for c in crops])
    with torch.inference_mode():
        feats = torch.cat([frozen(normalize(torch.from_numpy(x[i : i + 32]).permute(0, 3, 1, 2), spec))
                           for i in range(0, len(x), 32)])
    return feats.half().numpy(), teachers.logits(crops, feats).astype(np.float32)


def prepare(cfg: StudentConfig, log: Any = print) -> Path:
    """Build (or finish building) ``<out_dir>/cache``; returns its folder."""
    torch.set_num_threads(cfg.num_threads)
    data_root = resolve_data_root(cfg.data_root)
    cache = resolve_path(cfg.out_dir) / "cache"
    cache.mkdir(parents=True, exist_ok=True)
    fer_train, ck_train, val, ck_test = training_pool(cfg, data_root)
    train = fer_train + ck_train
    gray = [read_gray(s.path) for s in train]
    labels = [s.label for s in train]
    extra = video_crops(data_root / cfg.videos, cfg.video_fps, cfg.min_face_px) if cfg.videos else []
    gray += extra
    labels += [UNLABELLED] * len(extra)
    ck_mask = np.zeros(len(gray), dtype=bool)
    ck_mask[len(fer_train) : len(train)] = True
    np.save(cache / "ck_train_mask.npy", ck_mask)
    sets = {"train": (gray, np.array(labels), cfg.views),
            "val": ([read_gray(s.path) for s in val], np.array([s.label for s in val]), 1),
            "cktest": ([read_gray(s.path) for s in ck_test],
                       np.array([s.label for s in ck_test]), 1)}
    from bloomwell_ml.onnx_runtime import OnnxModule, onnx_bytes

    base = load_model(resolve_path(cfg.init_from))
    spec = base.spec
    frozen = OnnxModule(onnx_bytes(frozen_part(base.module, cfg.frozen_through), spec), cfg.num_threads)
    teachers = Teachers(cfg.teachers, "convnext-face48", TrainablePart(base.module, cfg.frozen_through),
                        cfg.num_threads)
    detector = create_detector("yunet", max_faces=1)
    for name, (images, y, views) in sets.items():
        np.save(cache / f"{name}_labels.npy", y)
        for view in range(views):
            for start in range(0, len(images), cfg.chunk):
                stem = cache / f"{name}_v{view}_{start:06d}"
                if (stem.parent / f"{stem.name}.done").exists():
                    continue
                t0 = time.time()
                rng = np.random.default_rng([cfg.seed, view, start])
                feats, logits = _prepare_chunk(images[start : start + cfg.chunk], view, rng, detector, frozen, spec,
                                               teachers)
                np.save(f"{stem}_feat.npy", feats)
                np.save(f"{stem}_teach.npy", logits)
                (stem.parent / f"{stem.name}.done").write_text(f"{time.time() - t0:.2f}")
                log(f"prepare {name} view {view} {start + len(feats)}/{len(images)}: "
                    f"{len(feats) / (time.time() - t0):.1f} images/s")
    (cache / "meta.json").write_text(json.dumps({"train": len(gray), "labelled": int(sum(y >= 0 for y in labels)),
                                                 "unlabelled": len(extra), "ckplus_train": len(ck_train),
                                                 "val": len(val),
                                                 "cktest": len(ck_test), "views": cfg.views,
                                                 "teachers": cfg.teachers}, indent=1))
    return cache


def load_cached(cache: Path, name: str, views: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Features (V, N, C, H, W) float16, teacher logits (V, N, M, 7) and labels (N,) of one cached set."""
    labels = torch.from_numpy(np.load(cache / f"{name}_labels.npy"))
    feats, teach = [], []
    for view in range(views):
        parts = sorted(cache.glob(f"{name}_v{view}_*_feat.npy"))
        feats.append(torch.cat([torch.from_numpy(np.load(p)) for p in parts]))
        teach.append(torch.cat([torch.from_numpy(np.load(str(p).replace("_feat", "_teach"))) for p in parts]))
    return torch.stack(feats), torch.stack(teach), labels


# --- training ---------------------------------------------------------------------------------------------------


def ensemble_probs(teacher_logits: torch.Tensor, weights: torch.Tensor, temperature: float) -> torch.Tensor:
    """Weighted mean of the teachers' softmax at ``temperature``: (..., M, 7) → (..., 7); the weights are
    normalised, so the soft targets sum to 1 whatever scale they are given in."""
    w = weights / weights.sum()
    return (torch.softmax(teacher_logits / temperature, -1) * w.view(-1, 1)).sum(-2)


def choose_teacher_weights(val_logits: torch.Tensor, val_labels: torch.Tensor, ck_logits: torch.Tensor,
                           ck_labels: torch.Tensor, names: list[str]) -> dict[str, float]:
    """Grid weights maximising mean(FER2013-val macro-F1, CK+ training-fold macro-F1) of the teacher ensemble."""
    best, best_w = -1.0, {}
    for w in weight_grid(names):
        wt = torch.tensor([w[n] for n in names])
        score = np.mean([classification_report(y.numpy(), ensemble_probs(z, wt, 1.0).argmax(1).numpy(),
                                               EMOTIONS)["macro_f1"]
                         for z, y in ((val_logits, val_labels), (ck_logits, ck_labels))])
        if score > best + 1e-12:
            best, best_w = float(score), w
    return best_w


def _evaluate(part: nn.Module, feats: torch.Tensor, labels: torch.Tensor, batch: int = 256) -> dict[str, Any]:
    part.eval()
    with torch.inference_mode():
        logits = torch.cat([part(feats[i : i + batch].float()) for i in range(0, len(feats), batch)])
    rep = classification_report(labels.numpy(), logits.argmax(1).numpy(), EMOTIONS)
    rep["nll"] = float(F.cross_entropy(logits, labels))
    return rep


def train(cfg: StudentConfig, resume: bool = False, log: Any = print) -> dict[str, Any]:
    """Train stage 3 + head on the cache (resumable); writes checkpoints, metrics and the whole ``model.pt``."""
    torch.set_num_threads(cfg.num_threads)
    out = resolve_path(cfg.out_dir)
    cache, ckpt_dir = out / "cache", out / "checkpoints"
    feats, teach, labels = load_cached(cache, "train", cfg.views)
    val_f, val_t, val_y = load_cached(cache, "val", 1)
    ck_f, ck_t, ck_y = load_cached(cache, "cktest", 1)
    labelled = labels >= 0
    names = cfg.teachers
    ck_part = torch.from_numpy(np.load(cache / "ck_train_mask.npy"))
    weights_path = out / "teacher_weights.json"
    if cfg.teacher_weights is not None:
        teacher_w = {n: float(cfg.teacher_weights[n]) for n in names}
        weights_path.write_text(json.dumps(teacher_w))
    elif weights_path.exists():
        teacher_w = json.loads(weights_path.read_text())
    else:
        teacher_w = choose_teacher_weights(val_t[0], val_y, teach[0][ck_part], labels[ck_part], names)
        weights_path.write_text(json.dumps(teacher_w))
    w = torch.tensor([teacher_w[n] for n in names])
    log(f"teacher weights: {teacher_w}")
    base = load_model(resolve_path(cfg.init_from))
    part = TrainablePart(base.module, cfg.frozen_through)
    decay = [p for n, p in part.named_parameters() if p.ndim > 1 and not n.endswith("gamma")]
    no_decay = [p for n, p in part.named_parameters() if not (p.ndim > 1 and not n.endswith("gamma"))]
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": cfg.weight_decay},
                                   {"params": no_decay, "weight_decay": 0.0}], lr=cfg.lr)
    per_epoch = cfg.samples_per_epoch or len(labels)
    steps = math.ceil(per_epoch / cfg.batch_size)
    sched_cfg = {"name": "cosine", "warmup_epochs": cfg.warmup_epochs, "min_lr_ratio": cfg.min_lr_ratio,
                 "epochs": cfg.epochs}
    scheduler = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: lr_factor(s, steps, sched_cfg))
    class_w = class_weight_vector(labels[labelled], len(EMOTIONS), cfg.class_weights)
    sample_w = torch.where(ck_part, cfg.ckplus_weight, 1.0).double()
    ck = Checkpoint(spec=base.spec.to_dict(), config=cfg.model_dump(mode="json"), model=part.state_dict(),
                    optimizer=optimizer.state_dict(), scheduler=scheduler.state_dict(), scaler={})
    if resume and (ckpt_dir / "last.pt").exists():
        ck = Checkpoint.load(ckpt_dir / "last.pt")
        part.load_state_dict(ck.model)
        optimizer.load_state_dict(ck.optimizer)
        scheduler.load_state_dict(ck.scheduler)
        log(f"resumed at epoch {ck.epoch + 1}")
    gen = torch.Generator()
    t_start = time.time()
    for epoch in range(ck.epoch + 1, cfg.epochs):
        gen.manual_seed(cfg.seed * 7919 + epoch)
        torch.manual_seed(cfg.seed * 1000 + epoch)
        part.train()
        order = torch.multinomial(sample_w, per_epoch, replacement=True, generator=gen)
        view = torch.randint(0, cfg.views, (per_epoch,), generator=gen)
        t0, loss_sum, seen = time.time(), 0.0, 0
        for i in range(0, len(order), cfg.batch_size):
            idx, v = order[i : i + cfg.batch_size], view[i : i + cfg.batch_size]
            x, y = feats[v, idx].float(), labels[idx]
            soft = ensemble_probs(teach[v, idx], w, cfg.temperature)
            logits = part(x)
            kd = F.kl_div(torch.log_softmax(logits / cfg.temperature, 1), soft, reduction="none").sum(1)
            kd = kd * cfg.temperature**2
            has = y >= 0
            ce = F.cross_entropy(logits[has], y[has], weight=class_w, label_smoothing=cfg.label_smoothing,
                                 reduction="sum") / max(1, int(has.sum())) if has.any() else logits.sum() * 0
            alpha = torch.where(has, cfg.alpha, 1.0)
            loss = (1 - cfg.alpha) * ce * has.float().mean() + (alpha * kd).mean()
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            scheduler.step()
            loss_sum += float(loss.detach()) * len(idx)
            seen += len(idx)
        train_s = time.time() - t0
        rep, ck_rep = _evaluate(part, val_f[0], val_y), _evaluate(part, ck_f[0], ck_y)
        row = {"epoch": epoch, "train_loss": loss_sum / seen, "train_images_per_s": seen / train_s,
               "train_seconds": train_s, "val_acc": rep["accuracy"], "val_macro_f1": rep["macro_f1"],
               "val_nll": rep["nll"], "ckplus_heldout_acc": ck_rep["accuracy"],
               "ckplus_heldout_angry_recall": ck_rep["per_class"]["angry"]["recall"],
               "lr": optimizer.param_groups[0]["lr"], "elapsed_min": (time.time() - t_start) / 60}
        ck.history.append(row)
        improved = row["val_macro_f1"] > ck.best_metric
        if improved:
            ck.best_metric, ck.best_epoch = row["val_macro_f1"], epoch
        ck.model, ck.optimizer, ck.scheduler, ck.epoch = part.state_dict(), optimizer.state_dict(), \
            scheduler.state_dict(), epoch
        ck.save(ckpt_dir / "last.pt")
        if improved:
            ck.save(ckpt_dir / "best.pt")
        (out / "metrics.jsonl").open("a").write(json.dumps(row) + "\n")
        log(" ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in row.items()))
        if cfg.max_minutes and (time.time() - t_start) / 60 >= cfg.max_minutes:
            break
    best = load_checkpoint(ckpt_dir / "best.pt")
    part.load_state_dict(best["model"])
    spec = ModelSpec.from_dict({**base.spec.to_dict(), "name": "convnext-face48", "version": cfg.version})
    path = save_model(out / "model.pt", base.module, spec)  # `part` shares its modules with base.module
    summary = {"best_epoch": ck.best_epoch, "best_val_macro_f1": ck.best_metric, "epochs_run": len(ck.history),
               "teacher_weights": teacher_w, "model": str(path)}
    (out / "summary.json").write_text(json.dumps(summary, indent=1))
    log(json.dumps(summary))
    return summary


def main(argv: list[str] | None = None) -> None:
    """CLI entry point."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", default="training/configs/student/cpu.yaml")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE")
    ap.add_argument("--stage", choices=["prepare", "train", "all"], default="all")
    ap.add_argument("--resume", action="store_true", help="continue training from checkpoints/last.pt")
    args = ap.parse_args(argv)
    cfg = load_student_config(args.config, args.set)
    log = lambda m: print(m, flush=True)  # noqa: E731
    if args.stage in ("prepare", "all"):
        prepare(cfg, log)
    if args.stage in ("train", "all"):
        train(cfg, args.resume, log)


if __name__ == "__main__":
    main()

