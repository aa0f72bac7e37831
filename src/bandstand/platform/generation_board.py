"""Write generations shared by the processes of one machine without a shared cache.

`bandstand up` runs the services in one process and their workers in others, each with its own
in-memory cache; a command (`bandstand import`) is one more process. A generation kept in one of
those caches is out of the others' reach, so a worker's commit would reach the app's cached
answers only at their expiry. The board is a small file in the data directory, mapped into the
memory of every process that uses the directory: a write is a store into that memory, a read a
load from it, visible to the other processes at once (the pages are the kernel's, shared).

Each service has a slot of 8 bytes, chosen by a hash of its name. Two services whose names share a
slot only invalidate each other's answers more often. A slot holds a random token, never a count:
two writers racing both store a value no reader has recorded. The file need not survive a reboot:
the in-memory answers it guards do not either.
"""

from __future__ import annotations

import mmap
import os
import secrets
import struct
import threading
import zlib
from pathlib import Path

FILE_NAME = "write-generations"
SLOTS = 256
_SLOT = struct.Struct("<Q")
SIZE = SLOTS * _SLOT.size


class GenerationBoard:
    """The board in the file at `path`, created and mapped at its first use (so building an app,
    say for its OpenAPI document, writes nothing)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._mapped: mmap.mmap | None = None

    def _memory(self) -> mmap.mmap:
        if self._mapped is None:
            self._mapped = self._map()
        return self._mapped

    def _map(self) -> mmap.mmap:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            if os.fstat(descriptor).st_size < SIZE:
                # Growing fills with zeros, and a file another process already grew is untouched.
                os.ftruncate(descriptor, SIZE)
            return mmap.mmap(descriptor, SIZE)
        finally:
            os.close(descriptor)

    @staticmethod
    def _offset(service: str) -> int:
        return (zlib.crc32(service.encode()) % SLOTS) * _SLOT.size

    def read(self, service: str) -> int:
        """The service's token; 0 until a first write."""
        value: int = _SLOT.unpack_from(self._memory(), self._offset(service))[0]
        return value

    def advance(self, service: str) -> None:
        # Odd, so never the 0 of a slot not yet written.
        _SLOT.pack_into(self._memory(), self._offset(service), secrets.randbits(64) | 1)

    def close(self) -> None:
        if self._mapped is not None:
            self._mapped.close()
            self._mapped = None


_boards: dict[Path, GenerationBoard] = {}
_boards_lock = threading.Lock()


def board_of(data_dir: Path) -> GenerationBoard:
    """The board of a data directory, mapped once per process."""
    path = (data_dir / FILE_NAME).resolve()
    with _boards_lock:
        board = _boards.get(path)
        if board is None:
            board = _boards[path] = GenerationBoard(path)
        return board
