"""Model bundles: several classifier models shipped as one model, read from a manifest (``bundle.json``).

A bundle folder (``models/<name>/``) holds ``bundle.json``, ``MODEL_CARD.md`` and ``model_card.json``; the manifest
lists its members — each an ordinary Bloomwell model folder (``model.pt`` + ``model.onnx``, e.g. 2.2.0 and the two
teachers) referenced by a path relative to the manifest, with the SHA-256 of both files, its weight and its own
single-view temperature — and the bundle's :class:`~bloomwell_ml.spec.ModelSpec`: its name, version, label order,
the one input image every member is resized from (the largest a member needs) and the calibration temperatures per
TTA kind, fitted on validation *after* the members are combined.

How the members are combined is :func:`bloomwell_ml.inference.predict_probs` (an :class:`~bloomwell_ml.inference.
Ensemble`); how a member's input is made from the shared image is :func:`bloomwell_ml.preprocess.member_images`.
Nothing here imports torch.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bloomwell_ml.onnx_runtime import file_sha256
from bloomwell_ml.spec import ModelSpec

BUNDLE_FILE = "bundle.json"
FORMAT = "bloomwell-bundle/1"


class BundleError(ValueError):
    """A manifest that cannot be used (the message names the file and what is wrong)."""


@dataclass(frozen=True)
class BundleMember:
    """One member model of a bundle."""

    name: str
    folder: Path
    """The member's model folder (``model.pt`` and ``model.onnx``), resolved against the manifest."""
    weight: float
    """Share of the member in the mixture (the bundle's weights sum to 1)."""
    temperature: float
    """The member's own single-view temperature, applied to each view's logits before mixing."""
    onnx_sha256: str
    pt_sha256: str

    @property
    def onnx_path(self) -> Path:
        """The member's ONNX file (what a CPU worker runs)."""
        return self.folder / "model.onnx"

    @property
    def pt_path(self) -> Path:
        """The member's PyTorch file (the torch backend, training, export)."""
        return self.folder / "model.pt"


@dataclass(frozen=True)
class Bundle:
    """A manifest read from disk: the bundle's spec and its members (in manifest order)."""

    path: Path
    spec: ModelSpec
    members: tuple[BundleMember, ...]

    @property
    def weights(self) -> dict[str, float]:
        """Member name → weight."""
        return {m.name: m.weight for m in self.members}


def is_bundle_path(path: str | Path) -> bool:
    """Whether ``path`` names a bundle manifest (a ``.json`` file) rather than a single model file."""
    return Path(path).suffix == ".json"


def _member(entry: dict[str, Any], base: Path, where: Path) -> BundleMember:
    try:
        member = BundleMember(name=str(entry["name"]), folder=(base / str(entry["folder"])).resolve(),
                              weight=float(entry["weight"]), temperature=float(entry.get("temperature", 1.0)),
                              onnx_sha256=str(entry["onnx_sha256"]), pt_sha256=str(entry["pt_sha256"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise BundleError(f"{where}: member entry {entry!r} is incomplete ({exc})") from exc
    if member.weight <= 0 or member.temperature <= 0:
        raise BundleError(f"{where}: member {member.name} needs a positive weight and temperature")
    return member


def read_bundle(path: str | Path) -> Bundle:
    """Read and check a manifest: its format, at least one member, positive weights (normalised to sum to 1)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"model bundle {path} is missing")
    try:
        doc = json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise BundleError(f"{path}: not JSON ({exc})") from exc
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise BundleError(f"{path}: not a Bloomwell model bundle (format {FORMAT!r} expected)")
    entries = doc.get("members") or []
    if not entries:
        raise BundleError(f"{path}: a bundle needs at least one member")
    members = [_member(e, path.parent, path) for e in entries]
    if len({m.name for m in members}) != len(members):
        raise BundleError(f"{path}: member names repeat")
    total = sum(m.weight for m in members)
    members = [BundleMember(m.name, m.folder, m.weight / total, m.temperature, m.onnx_sha256, m.pt_sha256)
               for m in members]
    return Bundle(path, ModelSpec.from_dict(doc["spec"]), tuple(members))


def check_member_file(member: BundleMember, file: Path) -> None:
    """Refuse a member file whose SHA-256 is not the one the manifest records (a damaged or swapped file)."""
    expected = member.onnx_sha256 if file.suffix == ".onnx" else member.pt_sha256
    if not file.is_file():
        raise FileNotFoundError(f"bundle member {member.name}: {file} is missing")
    digest = file_sha256(file)
    if digest != expected:
        raise BundleError(f"bundle member {member.name}: {file} does not match the SHA-256 of the manifest "
                          f"({expected[:12]}…, found {digest[:12]}…)")


def check_labels(bundle: Bundle, member_specs: Sequence[ModelSpec]) -> None:
    """Every member must answer in the bundle's label order (the mixture adds their columns)."""
    for member, spec in zip(bundle.members, member_specs, strict=True):
        if tuple(spec.labels) != tuple(bundle.spec.labels):
            raise BundleError(f"{bundle.path}: member {member.name}'s labels {spec.labels} differ from the bundle's")


def write_bundle(path: Path, spec: ModelSpec, members: list[dict[str, Any]], extra: dict[str, Any] | None = None
                 ) -> Path:
    """Write a manifest: ``members`` as dicts with ``name``, ``folder`` (relative to ``path``'s folder), ``weight``
    and ``temperature``; the files' SHA-256 are computed here."""
    entries = []
    for m in members:
        folder = (path.parent / m["folder"]).resolve()
        entries.append({"name": m["name"], "folder": m["folder"], "weight": float(m["weight"]),
                        "temperature": float(m["temperature"]),
                        "onnx_sha256": file_sha256(folder / "model.onnx"),
                        "pt_sha256": file_sha256(folder / "model.pt")})
    doc = {"format": FORMAT, "spec": spec.to_dict(), "members": entries, **(extra or {})}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=2) + "\n")
    return path
