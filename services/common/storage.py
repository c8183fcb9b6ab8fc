"""File storage layout for uploads and face crops (a directory, shared between containers by a volume).

An upload is first written under ``uploads/.incoming/<id>.part`` and only *published* (renamed to
``uploads/<id>.<ext>``) after its database row is committed, so a published video always has a row.
Anything a crash leaves behind (a ``.part`` file, a video or crops whose row is gone) is found by
:meth:`Storage.entries` and removed by the worker's periodic sweep (``inference_worker.recovery``).
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

INCOMING_DIR = ".incoming"
PART_SUFFIX = ".part"

EntryKind = Literal["part", "video", "crops"]


@dataclass(frozen=True)
class StoredEntry:
    """One analysis's file (or crops folder) found in storage."""

    analysis_id: uuid.UUID
    kind: EntryKind
    path: Path
    modified_at: float
    """``st_mtime`` (seconds since the epoch)."""


class Storage:
    """Paths under one storage root; every path an analysis uses is derived from its id."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def upload_path(self, analysis_id: uuid.UUID, extension: str) -> Path:
        """Where an uploaded video is kept while it waits for (and during) processing."""
        return self.root / "uploads" / f"{analysis_id}.{extension.lstrip('.')}"

    def incoming_path(self, analysis_id: uuid.UUID) -> Path:
        """Where an upload is written before its row exists (never read by the worker)."""
        return self.root / "uploads" / INCOMING_DIR / f"{analysis_id}{PART_SUFFIX}"

    def publish(self, incoming: Path, final: Path) -> None:
        """Move a checked upload to its final name (atomic: same file system).

        Succeeds too when the sweep already published it (the ``.part`` is gone, the video is there).
        """
        try:
            os.replace(incoming, final)
        except FileNotFoundError:
            if not final.is_file():
                raise

    def relative(self, path: Path) -> str:
        """``path`` relative to the root, as stored in the database."""
        return path.relative_to(self.root).as_posix()

    def resolve(self, relative_path: str) -> Path:
        """The absolute path of a stored relative path, refusing anything outside the root."""
        path = (self.root / relative_path).resolve()
        if not path.is_relative_to(self.root.resolve()):
            raise ValueError(f"path escapes storage root: {relative_path!r}")
        return path

    def crops_dir(self, analysis_id: uuid.UUID) -> Path:
        """The folder holding one analysis's face crops."""
        return self.root / "crops" / str(analysis_id)

    def crop_path(self, analysis_id: uuid.UUID, name: str) -> Path | None:
        """A crop file by its name in the result, or None if the name is not a plain file name."""
        if not name or "/" in name or "\\" in name or name.startswith("."):
            return None
        return self.crops_dir(analysis_id) / name

    def delete_analysis_files(self, analysis_id: uuid.UUID, video_relative_path: str | None = None) -> None:
        """Remove an analysis's video (if any), a leftover incoming upload and crops; missing files are fine."""
        if video_relative_path:
            self.resolve(video_relative_path).unlink(missing_ok=True)
        for candidate in (self.root / "uploads").glob(f"{analysis_id}.*"):
            candidate.unlink(missing_ok=True)
        self.incoming_path(analysis_id).unlink(missing_ok=True)
        shutil.rmtree(self.crops_dir(analysis_id), ignore_errors=True)

    def entries(self) -> Iterator[StoredEntry]:
        """Every analysis file in storage: incoming uploads, published videos and crops folders.

        Names that are not ``<uuid>...`` are not Bloomwell's and are left alone.
        """
        places: tuple[tuple[Path, EntryKind], ...] = (
            (self.root / "uploads" / INCOMING_DIR, "part"),
            (self.root / "uploads", "video"),
            (self.root / "crops", "crops"),
        )
        for folder, kind in places:
            try:
                children = list(os.scandir(folder))
            except FileNotFoundError:
                continue
            for child in children:
                is_dir = child.is_dir(follow_symlinks=False)
                if (kind == "crops") != is_dir:
                    continue
                try:
                    analysis_id = uuid.UUID(child.name.split(".", 1)[0])
                    modified_at = child.stat(follow_symlinks=False).st_mtime
                except (ValueError, FileNotFoundError):
                    continue
                yield StoredEntry(analysis_id, kind, Path(child.path), modified_at)

    @staticmethod
    def remove(entry: StoredEntry) -> None:
        """Delete one entry (file or crops folder); already gone is fine."""
        if entry.kind == "crops":
            shutil.rmtree(entry.path, ignore_errors=True)
        else:
            entry.path.unlink(missing_ok=True)
