"""Matplotlib figures: learning curves, confusion matrix, per-class F1 bars."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402


def plot_learning_curves(history: list[dict[str, Any]], path: str | Path) -> None:
    """Loss and accuracy/macro-F1 per epoch."""
    ep = [r["epoch"] for r in history]
    fig, (a, b) = plt.subplots(1, 2, figsize=(10, 4))
    a.plot(ep, [r["train_loss"] for r in history], label="train loss")
    a.plot(ep, [r["val_loss"] for r in history], label="val NLL")
    b.plot(ep, [r["train_acc"] for r in history], label="train acc (mixup)")
    b.plot(ep, [r["val_acc"] for r in history], label="val acc")
    b.plot(ep, [r["val_macro_f1"] for r in history], label="val macro-F1")
    for ax in (a, b):
        ax.set_xlabel("epoch")
        ax.legend()
        ax.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def plot_confusion(cm: Sequence[Sequence[int]], labels: Sequence[str], path: str | Path, title: str = "") -> None:
    """Row-normalised confusion matrix with counts."""
    counts = np.asarray(cm)
    norm = counts / np.maximum(1, counts.sum(1, keepdims=True))
    fig, ax = plt.subplots(figsize=(6.5, 5.5))
    im = ax.imshow(norm, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(len(labels)), labels, rotation=45, ha="right")
    ax.set_yticks(range(len(labels)), labels)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    for i in range(len(labels)):
        for j in range(len(labels)):
            ax.text(j, i, f"{counts[i, j]}", ha="center", va="center", fontsize=7,
                    color="white" if norm[i, j] > 0.5 else "black")
    fig.colorbar(im, ax=ax, fraction=0.046)
    ax.set_title(title)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def plot_per_class_f1(per_class: dict[str, dict[str, float]], path: str | Path, title: str = "") -> None:
    """Bar chart of per-class F1."""
    names = list(per_class)
    fig, ax = plt.subplots(figsize=(6.5, 3.5))
    ax.bar(names, [per_class[n]["f1"] for n in names], color="tab:blue")
    ax.set_ylim(0, 1)
    ax.set_ylabel("F1")
    ax.set_title(title)
    ax.grid(axis="y", alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def plot_reliability(curves: dict[str, list[dict[str, Any]]], path: str | Path, title: str = "") -> None:
    """Reliability diagram: accuracy against mean confidence per bin for each labelled curve (bins from
    :func:`training.calibration.reliability_bins`), the diagonal, and the share of predictions per bin below."""
    fig, (a, b) = plt.subplots(2, 1, figsize=(5.5, 6.5), gridspec_kw={"height_ratios": [3, 1]}, sharex=True)
    a.plot([0, 1], [0, 1], "k--", lw=1, label="perfect calibration")
    width = None
    for i, (label, bins) in enumerate(curves.items()):
        used = [x for x in bins if x["count"]]
        a.plot([x["confidence"] for x in used], [x["accuracy"] for x in used], "o-", label=label)
        total = sum(x["count"] for x in bins) or 1
        width = (bins[0]["hi"] - bins[0]["lo"]) / (len(curves) + 1)
        b.bar([x["lo"] + (i + 0.5) * width for x in bins], [x["count"] / total for x in bins], width=width,
              label=label)
    a.set_ylabel("accuracy")
    a.set_xlim(0, 1)
    a.set_ylim(0, 1)
    a.legend(fontsize=8, loc="upper left")
    a.grid(alpha=0.3)
    a.set_title(title, fontsize=9)
    b.set_xlabel("confidence (top-class probability)")
    b.set_ylabel("share")
    b.grid(alpha=0.3)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
