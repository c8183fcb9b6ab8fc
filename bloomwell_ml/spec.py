"""`ModelSpec`: everything needed to rebuild a classifier and feed it faces."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from bloomwell_ml.labels import EMOTIONS

IMAGENET_MEAN: tuple[float, float, float] = (0.485, 0.456, 0.406)
IMAGENET_STD: tuple[float, float, float] = (0.229, 0.224, 0.225)


@dataclass
class ModelSpec:
    """Architecture, input format and label order of a saved model."""

    arch: str = "convnext_face"
    arch_kwargs: dict[str, Any] = field(default_factory=dict)
    image_size: int = 48
    in_chans: int = 3
    grayscale: bool = True
    mean: tuple[float, ...] = IMAGENET_MEAN
    std: tuple[float, ...] = IMAGENET_STD
    labels: tuple[str, ...] = EMOTIONS
    name: str = "untrained"
    version: str = "0"
    temperature: float = 1.0
    """Calibration: logits are divided by it before the softmax (fitted on validation data; 1 = uncalibrated).
    The single-view value, and the fallback for any TTA kind missing from `temperatures` (older files)."""
    temperatures: dict[str, float] = field(default_factory=dict)
    """Calibration per TTA kind (``none``/``flip``/``five``), where averaging views changes the best temperature;
    empty in files written before 2.2.1."""

    def temperature_for(self, tta: str = "none") -> float:
        """The calibration temperature for predictions averaged over the views of TTA kind ``tta``."""
        return float(self.temperatures.get(tta, self.temperature))

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-serialisable form (tuples become lists)."""
        d = asdict(self)
        for key in ("mean", "std", "labels"):
            d[key] = list(d[key])
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> ModelSpec:
        """Inverse of `to_dict`; unknown keys are ignored."""
        known = {k: v for k, v in d.items() if k in cls.__dataclass_fields__}
        for key in ("mean", "std", "labels"):
            if key in known:
                known[key] = tuple(known[key])
        known["arch_kwargs"] = dict(known.get("arch_kwargs") or {})
        known["temperatures"] = {str(k): float(v) for k, v in (known.get("temperatures") or {}).items()}
        return cls(**known)

    @property
    def num_classes(self) -> int:
        """Number of output logits."""
        return len(self.labels)
