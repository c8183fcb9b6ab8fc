"""Rebuild the teacher models in ``models/teachers/`` from their registry packages, with a parity check.

    .venv/bin/python -m scripts.convert_teachers [faceapi-expression|fer-mini-xception ...] [--out models/teachers]

For each teacher: download the pinned package with its ordinary client (``npm pack`` / ``pip download``) into a
temporary folder, check the package's SHA-256, read the original weights (face-api: the tfjs manifest and shard
through :mod:`bloomwell_ml.convert.tfjs_weights`; fer: the Keras h5 file through h5py), map them onto the PyTorch
module of :mod:`bloomwell_ml.teacher_arch` with the output rows permuted to Bloomwell's label order, and write

* ``model.pt`` (a Bloomwell model file: weights + ``ModelSpec`` with the teacher's input size, colour and
  normalisation), ``model.onnx`` (written from it by :func:`training.export.export_onnx`, the spec in its metadata),
* ``LICENSE`` (the package's own), ``parity.json`` (the parity inputs and the original runtime's probabilities),
  ``MODEL_CARD.md`` (provenance) and ``SHA256SUMS``.

Parity runs the *original* runtime on the same inputs: face-api's own tfjs build (``dist/face-api.node-wasm.js``
with tfjs 4.22.0's CPU backend) in Node; fer's Keras h5 model in Keras 3 (torch backend; Keras and h5py are
installed into the temporary folder, not the project's venv). The conversion fails if the PyTorch or ONNX
probabilities differ from the original's by more than ``PARITY_TOL``. ``tests/training/test_teachers.py`` repeats
the comparison against ``parity.json`` on every ``make test`` (and the whole rebuild in a slow test).
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import torch

from bloomwell_ml.convert.tfjs_weights import read_tfjs_weights
from bloomwell_ml.io import load_model, save_model
from bloomwell_ml.labels import EMOTIONS
from bloomwell_ml.onnx_runtime import OnnxModule
from bloomwell_ml.paths import REPO_ROOT
from bloomwell_ml.preprocess import normalize, to_model_image
from bloomwell_ml.spec import ModelSpec
from bloomwell_ml.teacher_arch import FaceApiExpressionNet, MiniXception
from training.export import export_onnx

PARITY_TOL = 1e-4
"""Largest allowed difference of any probability between the port (PyTorch, ONNX) and the original runtime."""
TEACHERS_DIR = REPO_ROOT / "models" / "teachers"
NODE_SCRIPT = Path(__file__).with_name("faceapi_reference.cjs")
KERAS_SCRIPT = Path(__file__).with_name("fer_reference.py")
NPM_PINS = ("@tensorflow/tfjs@4.22.0", "@tensorflow/tfjs-backend-wasm@4.22.0")  # the tfjs face-api 1.7.15 is built on
PIP_PINS = ("keras==3.15.1", "h5py==3.16.0")

# Parity inputs: real faces from ../shared/data (skipped where absent) plus two synthetic images.
PARITY_FILES = (
    "fer2013/test/angry/PrivateTest_10131363.jpg", "fer2013/test/disgust/PrivateTest_11895083.jpg",
    "fer2013/test/fear/PrivateTest_10153550.jpg", "fer2013/test/happy/PrivateTest_10077120.jpg",
    "fer2013/test/neutral/PrivateTest_10086748.jpg", "fer2013/test/sad/PrivateTest_10247676.jpg",
    "fer2013/test/surprise/PrivateTest_10072988.jpg", "ckplus48/all/angry/S010_004_00000017.png",
    "ckplus48/all/disgust/S005_001_00000009.png", "ckplus48/all/surprise/S010_002_00000012.png",
    "samples_faceapijs/all/angry/test_angry_cropped.jpg", "samples_faceapijs/all/happy/examples_happy.jpg",
    "samples_faceapijs/all/surprise/test_surprised_cropped.jpg",
)
SYNTHETIC = ("gray128", "gradient")


@dataclass(frozen=True)
class Package:
    """A pinned registry package and the file in it that holds the weights."""

    registry: str  # npm | pypi
    name: str
    version: str
    sha256: str
    licence_member: str


@dataclass(frozen=True)
class Teacher:
    """How one teacher is rebuilt."""

    name: str
    package: Package
    spec: ModelSpec
    native_labels: tuple[str, ...]  # the original output order, in Bloomwell's names
    convert: Callable[[Path, Path], tuple[torch.nn.Module, dict[str, Any]]]  # (package dir, work dir)
    reference: Callable[[Path, Path, np.ndarray], np.ndarray]  # original runtime's probabilities
    card: str


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of a file."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _run(cmd: list[str], cwd: Path, env: dict[str, str] | None = None) -> str:
    proc = subprocess.run(cmd, cwd=cwd, env={**os.environ, **(env or {})}, capture_output=True, text=True,
                          timeout=900)
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({proc.returncode}): {proc.stderr[-2000:]}")
    return proc.stdout


def fetch(package: Package, work: Path) -> Path:
    """Download the pinned package into ``work``, check its SHA-256 and unpack it; returns the unpacked root."""
    dl = work / "download"
    dl.mkdir(parents=True, exist_ok=True)
    if package.registry == "npm":
        _run(["npm", "pack", f"{package.name}@{package.version}", "--silent"], dl)
        archive = next(dl.glob("*.tgz"))
    else:
        _run([sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "-d", str(dl),
              f"{package.name}=={package.version}"], dl)
        archive = next(dl.glob("*.whl"))
    digest = sha256_file(archive)
    if digest != package.sha256:
        raise RuntimeError(f"{archive.name}: SHA-256 {digest} is not the pinned {package.sha256}")
    root = work / "package"
    if package.registry == "npm":
        with tarfile.open(archive) as tf:
            tf.extractall(root, filter="data")
        return root / "package"
    with zipfile.ZipFile(archive) as zf:
        zf.extractall(root)
    return root


def _permute_rows(native: tuple[str, ...]) -> list[int]:
    """Index into the native output order for each of Bloomwell's labels."""
    return [native.index(label) for label in EMOTIONS]


# --- face-api's expression net ------------------------------------------------------------------------------------

FACEAPI_LABELS = ("neutral", "happy", "sad", "angry", "fear", "disgust", "surprise")  # FACE_EXPRESSION_LABELS


def _hwio_to_oihw(w: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(w.transpose(3, 2, 0, 1)))


def _depthwise(w: np.ndarray) -> torch.Tensor:
    """TF depthwise (kh, kw, C, 1) → torch (C, 1, kh, kw)."""
    return torch.from_numpy(np.ascontiguousarray(w.transpose(2, 3, 0, 1)))


def faceapi_state_dict(weights: dict[str, np.ndarray]) -> dict[str, torch.Tensor]:
    """face-api FaceExpressionNet tensors (tfjs names) → :class:`FaceApiExpressionNet` state dict (native label
    order; :func:`convert_faceapi` permutes it)."""
    state: dict[str, torch.Tensor] = {}
    for b in range(4):
        for c in range(4):
            src, dst = f"dense{b}/conv{c}", f"dense{b}.conv{c}"
            if b == 0 and c == 0:
                state[f"{dst}.weight"] = _hwio_to_oihw(weights[f"{src}/filters"])
                state[f"{dst}.bias"] = torch.from_numpy(weights[f"{src}/bias"])
                continue
            state[f"{dst}.depthwise.weight"] = _depthwise(weights[f"{src}/depthwise_filter"])
            state[f"{dst}.pointwise.weight"] = _hwio_to_oihw(weights[f"{src}/pointwise_filter"])
            state[f"{dst}.pointwise.bias"] = torch.from_numpy(weights[f"{src}/bias"])
    state["fc.weight"] = torch.from_numpy(np.ascontiguousarray(weights["fc/weights"].T))
    state["fc.bias"] = torch.from_numpy(weights["fc/bias"])
    return state


def convert_faceapi(pkg: Path, work: Path) -> tuple[torch.nn.Module, dict[str, Any]]:
    """The expression net from ``model/face_expression_model-weights_manifest.json`` and its shard."""
    manifest = pkg / "model" / "face_expression_model-weights_manifest.json"
    weights = read_tfjs_weights(manifest)
    state = faceapi_state_dict(weights)
    rows = _permute_rows(FACEAPI_LABELS)
    state["fc.weight"], state["fc.bias"] = state["fc.weight"][rows], state["fc.bias"][rows]
    net = FaceApiExpressionNet()
    net.load_state_dict(state)
    files = {p: sha256_file(pkg / "model" / p) for p in (manifest.name, "face_expression_model.bin")}
    return net.eval(), {"source_files": files, "tensors": len(weights)}


def run_faceapi_node(pkg: Path, work: Path, images: np.ndarray, net: str = "expression") -> dict[str, Any]:
    """Run one of face-api's nets in its own tfjs build (CPU backend, Node) on uint8 RGB ``images``; the JSON the
    reference script wrote (``NODE_SCRIPT``: ``expression`` → ``probabilities``, ``recognition`` → ``outputs``)."""
    node_dir = work / "node"
    node_dir.mkdir(parents=True, exist_ok=True)
    if not (node_dir / "node_modules" / "@tensorflow" / "tfjs").is_dir():
        _run(["npm", "install", "--no-audit", "--no-fund", "--silent", "--prefix", str(node_dir), *NPM_PINS],
             node_dir)
    raw = work / f"faceapi_{net}_inputs.bin"
    raw.write_bytes(np.ascontiguousarray(images, dtype=np.uint8).tobytes())
    out = work / f"faceapi_{net}_outputs.json"
    extra = [] if net == "expression" else [net]
    _run(["node", str(NODE_SCRIPT), str(pkg), str(raw), str(len(images)), str(out), *extra], work,
         env={"NODE_PATH": str(node_dir / "node_modules")})
    result: dict[str, Any] = json.loads(out.read_text())
    return result


def faceapi_reference(pkg: Path, work: Path, images: np.ndarray) -> np.ndarray:
    """face-api's own tfjs build (CPU backend) on uint8 RGB 112×112 ``images``; probabilities in its label order."""
    return np.asarray(run_faceapi_node(pkg, work, images)["probabilities"], dtype=np.float32)


# --- fer's mini-Xception ------------------------------------------------------------------------------------------

FER_LABELS = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")  # fer.FER._get_labels()
FER_H5 = Path("fer") / "data" / "emotion_model.hdf5"


def _keras_env(work: Path) -> dict[str, str]:
    target = work / "pylib"
    if not (target / "keras").is_dir():
        _run([sys.executable, "-m", "pip", "install", "--quiet", "--target", str(target), *PIP_PINS], work)
    return {"PYTHONPATH": str(target), "KERAS_BACKEND": "torch"}


def _bn(state: dict[str, torch.Tensor], dst: str, w: dict[str, np.ndarray], src: str) -> None:
    for ours, theirs in (("weight", "gamma"), ("bias", "beta"), ("running_mean", "moving_mean"),
                         ("running_var", "moving_variance")):
        state[f"{dst}.{ours}"] = torch.from_numpy(w[f"{src}/{theirs}"])
    state[f"{dst}.num_batches_tracked"] = torch.tensor(0)


def mini_xception_state_dict(w: dict[str, np.ndarray]) -> dict[str, torch.Tensor]:
    """fer's Keras layer weights (``<layer>/<weight>``) → :class:`MiniXception` state dict (native order)."""
    state: dict[str, torch.Tensor] = {"conv1.weight": _hwio_to_oihw(w["conv2d_1/kernel"]),
                                      "conv2.weight": _hwio_to_oihw(w["conv2d_2/kernel"])}
    _bn(state, "bn1", w, "batch_normalization_1")
    _bn(state, "bn2", w, "batch_normalization_2")
    for i in range(4):
        m = f"modules_.{i}"
        state[f"{m}.shortcut.weight"] = _hwio_to_oihw(w[f"conv2d_{i + 3}/kernel"])
        _bn(state, f"{m}.shortcut_bn", w, f"batch_normalization_{3 * i + 3}")
        for j, sep in enumerate((2 * i + 1, 2 * i + 2), start=1):
            state[f"{m}.sep{j}.depthwise.weight"] = _depthwise(w[f"separable_conv2d_{sep}/depthwise_kernel"])
            state[f"{m}.sep{j}.pointwise.weight"] = _hwio_to_oihw(w[f"separable_conv2d_{sep}/pointwise_kernel"])
            _bn(state, f"{m}.bn{j}", w, f"batch_normalization_{3 * i + 3 + j}")
    state["classifier.weight"] = _hwio_to_oihw(w["conv2d_7/kernel"])
    state["classifier.bias"] = torch.from_numpy(w["conv2d_7/bias"])
    return state


def convert_fer(pkg: Path, work: Path) -> tuple[torch.nn.Module, dict[str, Any]]:
    """The mini-Xception from the wheel's Keras h5 file (weights read with h5py in the helper process)."""
    out = work / "fer_weights.npz"
    _run([sys.executable, str(KERAS_SCRIPT), "weights", str(pkg / FER_H5), str(out)], work, _keras_env(work))
    with np.load(out) as z:
        weights = {k: z[k] for k in z.files}
    state = mini_xception_state_dict(weights)
    rows = _permute_rows(FER_LABELS)
    for key in ("classifier.weight", "classifier.bias"):
        state[key] = state[key][rows]
    net = MiniXception()
    net.load_state_dict(state)
    return net.eval(), {"source_files": {FER_H5.as_posix(): sha256_file(pkg / FER_H5)}, "tensors": len(weights)}


def fer_reference(pkg: Path, work: Path, images: np.ndarray) -> np.ndarray:
    """Keras (the h5 model as saved, Keras 3 on the torch backend) on uint8 gray 64×64 ``images``."""
    inputs, out = work / "fer_inputs.npy", work / "fer_outputs.npy"
    np.save(inputs, np.ascontiguousarray(images, dtype=np.uint8))
    _run([sys.executable, str(KERAS_SCRIPT), "predict", str(pkg / FER_H5), str(inputs), str(out)], work,
         _keras_env(work))
    probs: np.ndarray = np.load(out).astype(np.float32)
    return probs


# --- the teachers ---------------------------------------------------------------------------------------------

FACEAPI_CARD = """Expression net of face-api (Vincent Mühler's face-api.js, maintained as `@vladmandic/face-api`):
a small DenseNet-like CNN of depthwise-separable convolutions (4 dense blocks, 32-64-128-256 channels) on 112×112 RGB
faces, 7 expressions. Its authors say it was trained on "public datasets and images scraped from the web"; which
sets is not documented, so it may have seen CK+ (its CK+ figures are not evidence of generalisation)."""
FER_CARD = """mini-Xception of the `fer` package (Justin Shenk; the network and weights come from Octavio Arriaga's
face_classification, MIT): 64×64 grayscale, four residual modules of separable convolutions, 7 expressions, trained on
FER2013 (reported ~66 % on its test split; FER2013 test may therefore not be a held-out set for it)."""

TEACHERS: dict[str, Teacher] = {
    "faceapi-expression": Teacher(
        name="faceapi-expression",
        package=Package("npm", "@vladmandic/face-api", "1.7.15",
                        "0d77fffeef362ef9c0939cf6c567f3a2e8e177f114fa257a3270cbd2e509b031", "LICENSE"),
        spec=ModelSpec(arch="faceapi_expression", image_size=112, in_chans=3, grayscale=False,
                       mean=(122.782 / 255, 117.001 / 255, 104.298 / 255), std=(1.0, 1.0, 1.0),
                       name="faceapi-expression", version="1.7.15"),
        native_labels=FACEAPI_LABELS, convert=convert_faceapi, reference=faceapi_reference, card=FACEAPI_CARD),
    "fer-mini-xception": Teacher(
        name="fer-mini-xception",
        package=Package("pypi", "fer", "25.10.3",
                        "84e05d6a2bf800ac1c4566da16e1862fc9e893ea88fe91907d32d2f5a24a3671",
                        "fer-25.10.3.dist-info/licenses/LICENSE"),
        spec=ModelSpec(arch="mini_xception", image_size=64, in_chans=1, grayscale=True, mean=(0.5,), std=(0.5,),
                       name="fer-mini-xception", version="25.10.3"),
        native_labels=FER_LABELS, convert=convert_fer, reference=fer_reference, card=FER_CARD),
}


def parity_inputs(spec: ModelSpec, data_root: Path | None) -> tuple[list[str], np.ndarray]:
    """Names and uint8 model images (N, H, W, C) of the parity set for ``spec`` (files missing under ``data_root``
    are left out)."""
    names, images = [], []
    for rel in PARITY_FILES:
        path = data_root / rel if data_root else None
        if path is not None and path.is_file():
            names.append(rel)
            image = cv2.imread(str(path), cv2.IMREAD_COLOR)
            if image is None:
                raise OSError(f"cannot read image {path}")
            images.append(to_model_image(image, spec.image_size, spec.grayscale, spec.in_chans))
    s = spec.image_size
    ramp = np.tile(np.linspace(0, 255, s, dtype=np.float32), (s, 1))
    synthetic = {"gray128": np.full((s, s), 128, np.uint8), "gradient": (0.5 * ramp + 0.5 * ramp.T).astype(np.uint8)}
    for name in SYNTHETIC:
        names.append(name)
        images.append(to_model_image(synthetic[name], s, spec.grayscale, spec.in_chans))
    return names, np.stack(images)


@torch.inference_mode()
def port_probabilities(module: Any, spec: ModelSpec, images: np.ndarray) -> np.ndarray:
    """Softmax of a port (torch module or :class:`OnnxModule`) on uint8 model images, Bloomwell label order."""
    x = normalize(torch.from_numpy(images).permute(0, 3, 1, 2), spec)
    return torch.softmax(module(x).float(), dim=1).numpy()


def build_teacher(teacher: Teacher, out_root: Path, data_root: Path | None, work: Path) -> dict[str, Any]:
    """Fetch, convert, check parity and write one teacher's folder; returns its parity record."""
    pkg = fetch(teacher.package, work)
    net, provenance = teacher.convert(pkg, work)
    names, images = parity_inputs(teacher.spec, data_root)
    reference = teacher.reference(pkg, work, images)[:, _permute_rows(teacher.native_labels)]
    out = out_root / teacher.name
    out.mkdir(parents=True, exist_ok=True)
    save_model(out / "model.pt", net, teacher.spec)
    export_onnx(out / "model.pt", out)  # the spec in its metadata, as every shipped model.onnx (training.export)
    torch_p = port_probabilities(load_model(out / "model.pt").module, teacher.spec, images)
    onnx_p = port_probabilities(OnnxModule((out / "model.onnx").read_bytes(), 1), teacher.spec, images)
    diffs = {"torch": float(np.abs(torch_p - reference).max()), "onnx": float(np.abs(onnx_p - reference).max())}
    if max(diffs.values()) > PARITY_TOL:
        raise RuntimeError(f"{teacher.name}: port differs from the original runtime by {diffs} (> {PARITY_TOL})")
    shutil.copyfile(pkg / teacher.package.licence_member, out / "LICENSE")
    pkg_ref = f"{teacher.package.name}@{teacher.package.version}"
    record = {"teacher": teacher.name, "package": pkg_ref, "package_sha256": teacher.package.sha256,
              "runtime": _runtime(teacher), "labels": list(EMOTIONS), "native_labels": list(teacher.native_labels),
              "tolerance": PARITY_TOL, "max_abs_diff": diffs, "inputs": names,
              "reference_probabilities": np.round(reference, 7).tolist(), **provenance}
    (out / "parity.json").write_text(json.dumps(record, indent=1))
    write_card(teacher, out, record)
    files = ["model.pt", "model.onnx", "LICENSE", "parity.json", "MODEL_CARD.md"]
    (out / "SHA256SUMS").write_text("".join(f"{sha256_file(out / f)}  {f}\n" for f in files))
    return record


def _runtime(teacher: Teacher) -> str:
    if teacher.package.registry == "npm":
        node = _run(["node", "--version"], Path.cwd()).strip()
        return (f"face-api's own build (dist/face-api.node-wasm.js) on {' + '.join(NPM_PINS)}, CPU backend, "
                f"Node {node}")
    return f"Keras {PIP_PINS[0].split('==')[1]} (torch backend) loading the h5 model as saved; h5py for the weights"


def write_card(teacher: Teacher, out: Path, record: dict[str, Any]) -> None:
    """``MODEL_CARD.md``: what it is, where it comes from, how it was converted and checked."""
    s = teacher.spec
    pkg = teacher.package
    lines = [
        f"# Teacher: {teacher.name}", "", teacher.card, "",
        "## Provenance", "",
        f"- Package: `{pkg.name}` {pkg.version} from {'npm' if pkg.registry == 'npm' else 'PyPI'}, SHA-256 "
        f"`{pkg.sha256}`; weight files: "
        + ", ".join(f"`{k}` (`{v[:16]}…`)" for k, v in record["source_files"].items()),
        "- Licence: MIT, the package's own licence file beside this card (`LICENSE`).",
        "- Rebuilt by `python -m scripts.convert_teachers " + teacher.name + "` (no download at run time; the "
        "converted files ship in this folder).",
        "",
        "## Input and output", "",
        f"- Input: {s.image_size}×{s.image_size} {'grayscale' if s.grayscale else 'RGB'}, scaled to [0, 1], minus "
        f"mean {[round(m, 5) for m in s.mean]}, divided by {list(s.std)} (`bloomwell_ml.preprocess`, from the spec "
        "in `model.pt`).",
        f"- Output: 7 logits in Bloomwell's order {', '.join(EMOTIONS)} (the original order "
        f"{', '.join(teacher.native_labels)} is permuted in the last layer).",
        "",
        "## Parity with the original runtime", "",
        f"- Original runtime: {record['runtime']}.",
        f"- {len(record['inputs'])} inputs (FER2013, CK+ and sample faces from `../shared/data`, plus two synthetic "
        f"images); largest probability difference: PyTorch {record['max_abs_diff']['torch']:.2e}, ONNX Runtime "
        f"{record['max_abs_diff']['onnx']:.2e} (tolerance {PARITY_TOL:g}). Reference outputs in `parity.json`.",
        "",
        "## Limits", "",
        "- Expressions are not emotions. What the network learned from is only partly known (above): figures on any "
        "set it may have been trained on are not evidence.",
        "- Accuracy, calibration and cost on Bloomwell's suite: `make evaluate` (`training/README.md`).",
    ]
    (out / "MODEL_CARD.md").write_text("\n".join(lines) + "\n")


@contextlib.contextmanager
def work_folder(prefix: str, keep: bool) -> Iterator[Path]:
    """A temporary folder for a conversion: removed afterwards, or kept and its path printed."""
    work = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        yield work
    finally:
        if keep:
            print(f"work folder: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


def main(argv: list[str] | None = None) -> None:
    """CLI entry point."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("teachers", nargs="*", metavar="TEACHER", help=f"any of {list(TEACHERS)} (default: all)")
    ap.add_argument("--out", default=str(TEACHERS_DIR))
    ap.add_argument("--data-root", default=None, help="folder holding fer2013/, ckplus48/ (default ../shared/data)")
    ap.add_argument("--keep-work", action="store_true", help="keep the temporary folder (printed)")
    args = ap.parse_args(argv)
    unknown = [t for t in args.teachers if t not in TEACHERS]
    if unknown:
        ap.error(f"unknown teacher(s) {unknown}; choose from {list(TEACHERS)}")
    from training.config import resolve_data_root

    data_root = resolve_data_root(args.data_root)
    with work_folder("bloomwell-teachers-", keep=args.keep_work) as work:
        for name in args.teachers or list(TEACHERS):
            rec = build_teacher(TEACHERS[name], Path(args.out), data_root if data_root.is_dir() else None, work / name)
            print(json.dumps({k: rec[k] for k in ("teacher", "package", "max_abs_diff")}), flush=True)


if __name__ == "__main__":
    main()
