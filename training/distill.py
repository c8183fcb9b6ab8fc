"""Knowledge distillation: a trained teacher's soft predictions on the very batch the student sees.

The teacher runs on the student's augmented (and Mixup-blended) input, so its targets are consistent with what
the student is asked to fit ("function matching"). The loss mixes the usual hard-label cross-entropy with the
Hinton KD term: ``(1 - alpha) * CE + alpha * T² * KL(p_teacher(T) || p_student(T))``.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from bloomwell_ml.inference import predict_probs
from bloomwell_ml.io import load_model
from bloomwell_ml.spec import ModelSpec
from bloomwell_ml.tta import TestTimeAugmentation, tta_kind
from training.config import DistillConfig, resolve_path

# Spec fields that must agree for the teacher to read the student's (normalised) input and share its labels.
_INPUT_FIELDS = ("image_size", "in_chans", "grayscale", "mean", "std", "labels")


@dataclass
class Distiller:
    """A frozen teacher plus the KD loss settings."""

    teacher: nn.Module
    alpha: float
    temperature: float
    tta: TestTimeAugmentation = "none"

    def __post_init__(self) -> None:
        self.teacher.eval()  # BatchNorm statistics and dropout as at inference, for the whole run

    @torch.no_grad()
    def soft_targets(self, x: torch.Tensor, autocast: contextlib.AbstractContextManager[object] | None = None
                     ) -> torch.Tensor:
        """Teacher probabilities at temperature T for normalised input x (N,C,H,W), averaged over TTA views
        (one forward pass of V·N images, as in the worker)."""
        probs: torch.Tensor = predict_probs(self.teacher, x, self.tta, autocast, self.temperature,
                                            x.is_contiguous(memory_format=torch.channels_last))
        return probs

    def kd_loss(self, student_logits: torch.Tensor, soft: torch.Tensor) -> torch.Tensor:
        """T² · KL(teacher ‖ student), batch mean (the T² keeps gradient scale independent of T)."""
        t = self.temperature
        log_p = torch.log_softmax(student_logits.float() / t, dim=1)
        return F.kl_div(log_p, soft, reduction="batchmean") * (t * t)

    def combine(self, ce: torch.Tensor, student_logits: torch.Tensor, soft: torch.Tensor) -> torch.Tensor:
        """(1 - alpha) · CE + alpha · KD."""
        return (1.0 - self.alpha) * ce + self.alpha * self.kd_loss(student_logits, soft)


def check_compatible(teacher: ModelSpec, student: ModelSpec) -> None:
    """Raise ValueError unless the teacher reads the same input and predicts the same labels as the student."""
    diff = [f for f in _INPUT_FIELDS if getattr(teacher, f) != getattr(student, f)]  # spec sequences are tuples
    if diff:
        raise ValueError(f"distill.teacher does not match the student's input/labels: {sorted(diff)}")


def create_distiller(cfg: DistillConfig | dict[str, Any], spec: ModelSpec, device: torch.device,
                     channels_last: bool = False) -> Distiller | None:
    """The `distill` section as a Distiller on `device`, or None when no teacher is configured."""
    if not cfg.get("teacher"):
        return None
    alpha, temperature = float(cfg["alpha"]), float(cfg["temperature"])
    if not 0.0 <= alpha <= 1.0 or temperature <= 0:
        raise ValueError(f"distill.alpha must be in [0, 1] and temperature > 0 (got {alpha}, {temperature})")
    tta = tta_kind(cfg.get("tta") or "none")
    loaded = load_model(resolve_path(cfg["teacher"]), device)
    check_compatible(loaded.spec, spec)
    teacher = loaded.module
    if channels_last and not isinstance(teacher, torch.jit.ScriptModule):
        teacher = teacher.to(memory_format=torch.channels_last)
    teacher.requires_grad_(False)
    print(f"distilling from {cfg['teacher']} ({loaded.spec.name} {loaded.spec.version}), alpha {alpha}, "
          f"T {temperature}, teacher TTA {tta}", flush=True)
    return Distiller(teacher, alpha, temperature, tta)
