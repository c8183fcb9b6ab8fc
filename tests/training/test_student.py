"""The CPU student's pieces: frozen + trainable parts compose to the shipped network, the teacher mixture, the grid
choice of its weights, the serving-matched view and the config's refusal of unknown keys."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from bloomwell_ml.faces import create_detector
from bloomwell_ml.io import build_model
from bloomwell_ml.spec import ModelSpec
from tests.training.conftest import TINY_ARCH
from training.student import (
    StudentConfig,
    TrainablePart,
    choose_teacher_weights,
    ensemble_probs,
    frozen_part,
    load_student_config,
    serving_view,
)
from training.suite import weight_grid


def test_frozen_and_trainable_parts_compose_to_the_whole_network() -> None:
    spec = ModelSpec(arch="convnext_face", arch_kwargs=dict(TINY_ARCH))
    model = build_model(spec).eval()
    x = torch.randn(3, 3, 48, 48)
    part = TrainablePart(model, 0).eval()
    with torch.no_grad():
        torch.testing.assert_close(part(frozen_part(model, 0)(x)), model(x))
    trainable = {id(p) for p in part.parameters()}
    assert all(id(p) not in trainable for p in frozen_part(model, 0).parameters())


def test_teacher_mixture_and_weight_choice() -> None:
    logits = torch.tensor([[[4.0, 0, 0, 0, 0, 0, 0], [0, 4.0, 0, 0, 0, 0, 0]]])  # one face, two teachers
    p = ensemble_probs(logits, torch.tensor([0.25, 0.75]), 1.0)
    assert p.shape == (1, 7) and abs(float(p.sum()) - 1) < 1e-6 and p[0, 1] > p[0, 0]
    assert len(weight_grid(["a", "b", "c"])) == 66 and all(abs(sum(w.values()) - 1) < 1e-9
                                                             for w in weight_grid(["a", "b"]))
    # teacher "b" is right on every face, "a" never: the grid puts the weight on "b"
    y = torch.tensor([0, 1, 2, 3, 4, 5, 6] * 3)
    right = torch.nn.functional.one_hot(y, 7).float() * 5
    wrong = torch.nn.functional.one_hot((y + 1) % 7, 7).float() * 5
    z = torch.stack([wrong, right], dim=1)
    assert choose_teacher_weights(z, y, z, y, ["a", "b"]) == {"a": 0.0, "b": 1.0}


def test_serving_view_is_seeded_and_face_sized() -> None:
    face = np.zeros((48, 48), np.uint8)
    face[10:38, 8:40] = 180
    detector = create_detector("yunet", max_faces=1)
    a = serving_view(face, np.random.default_rng(3), detector)
    b = serving_view(face, np.random.default_rng(3), detector)
    assert a.ndim == 2 and a.dtype == np.uint8 and min(a.shape) >= 48
    np.testing.assert_array_equal(a, b)


def test_student_config_refuses_unknown_keys(tmp_path) -> None:
    cfg = load_student_config("training/configs/student/cpu.yaml", ["epochs=3"])
    assert isinstance(cfg, StudentConfig) and cfg.epochs == 3 and cfg.out_dir == "runs/student-cpu"
    with pytest.raises(ValueError, match="epoks"):
        load_student_config(None, ["epoks=3"])


def test_weights_given_on_any_scale_make_a_distribution() -> None:
    logits = torch.randn(2, 3, 7)
    p = ensemble_probs(logits, torch.tensor([1.0, 1.0, 2.0]), 2.0)
    assert torch.allclose(p.sum(-1), torch.ones(2))
    torch.testing.assert_close(p, ensemble_probs(logits, torch.tensor([0.25, 0.25, 0.5]), 2.0))
