"""Bulk import of listings: the row pipeline (`importer`), the index work around a large import
(`bulk`), the command line's streamed import (`command`) and the admin's HTTP import
(`endpoints`).

The names the command line uses are exported here.
"""

from __future__ import annotations

from bandstand.marketplace.imports.command import import_instruments
from bandstand.marketplace.imports.importer import ImportFormat, UnreadableFile, format_of

__all__ = ["ImportFormat", "UnreadableFile", "format_of", "import_instruments"]
