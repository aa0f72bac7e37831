"""Bandstand: one backend platform for a music & media business."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("bandstand")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0.0.0"
