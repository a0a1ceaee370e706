"""Bundled sample images (see NOTICE) used by the demo, tests and the GUI."""

from importlib.resources import files
from pathlib import Path


def asset_path(name: str) -> Path:
    """Return the filesystem path of a bundled sample image by file name."""
    return Path(str(files(__name__).joinpath(name)))
