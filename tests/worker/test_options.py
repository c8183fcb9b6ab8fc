"""The pipeline's and the aggregation's options come from the worker's settings in one conversion, each option under
its setting's name and with its setting's default."""

from __future__ import annotations

import dataclasses
from typing import Any

from services.inference_worker.aggregate import AggregateOptions
from services.inference_worker.config import WorkerSettings
from services.inference_worker.pipeline import PipelineOptions
from services.inference_worker.quality import QualityThresholds
from services.inference_worker.smoothing import SmoothingOptions

COMPOSED = {"aggregate", "smoothing"}
"""Options made of other options (``smoothing`` from the ``SMOOTHING*`` settings)."""


def option_fields() -> list[dataclasses.Field[Any]]:
    return [f for cls in (PipelineOptions, AggregateOptions) for f in dataclasses.fields(cls) if f.name not in COMPOSED]


def changed(value: Any) -> Any:
    """A valid value other than ``value``."""
    if isinstance(value, bool):
        return not value
    if isinstance(value, int | float):
        return value + 1
    if isinstance(value, QualityThresholds):
        return value.model_copy(update={"min_face_px": value.min_face_px + 1})
    if isinstance(value, str):
        return "haar" if value != "haar" else "yunet"
    raise AssertionError(f"no other value for {value!r}")


def test_every_option_is_a_setting_of_the_same_name_and_default() -> None:
    settings = WorkerSettings.model_fields
    for field in option_fields():
        name = "default_sample_fps" if field.name == "sample_fps" else field.name  # an analysis may ask for its own
        assert name in settings, f"{field.name}: no setting of that name"
        default = field.default_factory() if field.default_factory is not dataclasses.MISSING else field.default
        assert default == settings[name].get_default(call_default_factory=True), field.name


def test_the_conversion_carries_every_setting() -> None:
    settings = WorkerSettings(_env_file=None, environment="test", max_frame_pixels=640 * 480)
    changes = {f.name: changed(getattr(settings, f.name)) for f in option_fields() if f.name != "sample_fps"}
    options = settings.model_copy(update=changes).pipeline_options(7.0)
    for name, value in changes.items():
        carrier = options.aggregate if name in {f.name for f in dataclasses.fields(AggregateOptions)} else options
        assert getattr(carrier, name) == value, name
    assert options.sample_fps == options.aggregate.sample_fps == 7.0
    smoothing = settings.model_copy(update={"smoothing": "gaussian", "smoothing_tau_s": 3.0, "smoothing_sigma_s": 0.9,
                                            "smoothing_max_gap_s": 2.0}).pipeline_options(None).aggregate.smoothing
    assert smoothing == SmoothingOptions(method="gaussian", tau_s=3.0, sigma_s=0.9, max_gap_s=2.0)
