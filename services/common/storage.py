"""File storage layout for uploads and face crops (a directory, shared between containers by a volume)."""

from __future__ import annotations

import shutil
import uuid
from pathlib import Path


class Storage:
    """Paths under one storage root; every path an analysis uses is derived from its id."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def upload_path(self, analysis_id: uuid.UUID, extension: str) -> Path:
        """Where an uploaded video is kept while it waits for (and during) processing."""
        return self.root / "uploads" / f"{analysis_id}.{extension.lstrip('.')}"

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
        """Remove an analysis's video (if any) and crops; missing files are not an error."""
        if video_relative_path:
            self.resolve(video_relative_path).unlink(missing_ok=True)
        for candidate in (self.root / "uploads").glob(f"{analysis_id}.*"):
            candidate.unlink(missing_ok=True)
        shutil.rmtree(self.crops_dir(analysis_id), ignore_errors=True)
