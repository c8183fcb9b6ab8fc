"""Export parity (TorchScript + ONNX) and the evaluation report's fields and figures."""

from __future__ import annotations

import json
from pathlib import Path

import torch

from bloomwell_ml.arch import create_model
from bloomwell_ml.io import load_model, save_model
from bloomwell_ml.spec import ModelSpec
from tests.training.conftest import TINY_ARCH
from training.evaluate import main as evaluate_main
from training.export import export


def _tiny_model(tmp_path: Path) -> Path:
    torch.manual_seed(0)
    spec = ModelSpec(arch="convnext_face", arch_kwargs=dict(TINY_ARCH), image_size=48, name="tiny", version="t")
    model = create_model(spec.arch, **spec.arch_kwargs)
    model.train()
    with torch.no_grad():  # give BatchNorm non-trivial running statistics
        model(torch.randn(16, 3, 48, 48) * 2 + 0.5)
    return save_model(tmp_path / "model.pt", model.eval(), spec)


def test_export_parity(tmp_path: Path) -> None:
    result = export(_tiny_model(tmp_path), tmp_path / "export", tol=1e-4)
    assert result["torchscript_max_abs_diff"] <= 1e-4 and result["onnx_max_abs_diff"] <= 1e-4
    ts = load_model(result["torchscript"])
    assert ts.spec.name == "tiny"
    import onnx

    meta = {p.key: p.value for p in onnx.load(result["onnx"]).metadata_props}
    assert json.loads(meta["bloomwell_spec"])["arch"] == "convnext_face"


def test_evaluate_report_fields(tmp_path: Path, data_root: Path) -> None:
    subset = tmp_path / "fer_subset"
    for class_dir in sorted((data_root / "fer2013" / "test").iterdir()):
        (subset / "test" / class_dir.name).mkdir(parents=True)
        for img in sorted(class_dir.iterdir())[:4]:
            (subset / "test" / class_dir.name / img.name).symlink_to(img)
    model = _tiny_model(tmp_path)
    for flag, views in ((None, "none"), ("--tta", "five"), ("--tta=flip", "flip")):
        out = tmp_path / f"report_{views}.json"
        evaluate_main(["--checkpoint", str(model), "--data-root", str(subset), "--split", "test",
                       "--out", str(out), "--threads", "1"] + ([flag] if flag else []))
        report = json.loads(out.read_text())
        assert report["n"] == 28 and report["tta_views"] == views and report["tta"] is (views != "none")
        assert 0 <= report["accuracy"] <= 1 and 0 <= report["macro_f1"] <= 1
        assert set(report["per_class"]) == set(report["labels"])
        assert set(report["per_class"]["happy"]) == {"precision", "recall", "f1", "support"}
        cm = report["confusion_matrix"]
        assert len(cm) == 7 and all(sum(row) == 4 for row in cm)
        assert out.with_name(out.stem + "_confusion.png").stat().st_size > 0
        assert out.with_name(out.stem + "_per_class_f1.png").stat().st_size > 0
