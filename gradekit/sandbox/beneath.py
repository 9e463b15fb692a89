"""Read files a sandbox wrote without following its links or opening its special files.

Whatever the sandbox can write, it can replace by a symbolic link (to ``/etc/shadow``, to the
grader's own output), a hard link, a FIFO that never answers or a device. :class:`FilesBeneath`
resolves a path one component at a time from a folder the grader trusts (the sandbox's root,
held open as a descriptor, or a grader-owned scratch folder), with ``O_NOFOLLOW`` at every
step, and opens only regular files of a bounded size. Nothing is ever written this way: the
grader writes only into folders the sandbox cannot write.
"""

from __future__ import annotations

import os
import stat
from pathlib import PurePosixPath
from typing import BinaryIO


class UnsafeFile(OSError):  # noqa: N818 - reads better at the raise site
    """A file the sandbox wrote is a link, a special file, too large, or not there."""


class FilesBeneath:
    """The files under one trusted folder. ``anchor`` is a descriptor of that folder (kept
    open: the folder stays the same one, whatever happens to its name), ``prefix`` the path
    it stands for in the paths given to :meth:`open` (``/`` for a sandbox's root)."""

    def __init__(self, anchor: int, prefix: str = "/") -> None:
        self.anchor = anchor
        self.prefix = PurePosixPath(prefix)

    @classmethod
    def of_folder(cls, folder: str | os.PathLike[str]) -> FilesBeneath:
        """Files under a grader-owned host folder, paths given as host paths."""
        return cls(os.open(folder, os.O_RDONLY | os.O_DIRECTORY), os.fspath(folder))

    def _parts(self, path: str) -> list[str]:
        relative = PurePosixPath(path).relative_to(self.prefix)  # ValueError: not beneath
        parts = list(relative.parts)
        if not parts or any(part in ("..", ".") for part in parts):
            raise UnsafeFile(f"{path} is not a file path beneath {self.prefix}")
        return parts

    def open(self, path: str, max_bytes: int) -> BinaryIO:
        """Open the regular file at ``path`` for reading, refusing links, special files and
        anything over ``max_bytes``."""
        parts = self._parts(path)
        folder = self._folder(parts[:-1])
        try:
            fd = _open_step(parts[-1], folder, os.O_RDONLY | os.O_NONBLOCK)
        finally:
            os.close(folder)
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_nlink != 1 or info.st_size > max_bytes:
            os.close(fd)
            raise UnsafeFile(f"not a plain file under {max_bytes >> 20} MB")
        return os.fdopen(fd, "rb")

    def exists(self, path: str) -> bool:
        """True when anything (a link too) is at ``path``."""
        parts = self._parts(path)
        try:
            folder = self._folder(parts[:-1])
        except OSError:
            return False
        try:
            os.stat(parts[-1], dir_fd=folder, follow_symlinks=False)
        except OSError:
            return False
        finally:
            os.close(folder)
        return True

    def _folder(self, parts: list[str]) -> int:
        """A descriptor of the folder ``parts`` lead to, no link followed on the way."""
        folder = os.dup(self.anchor)
        try:
            for part in parts:
                inner = _open_step(part, folder, os.O_RDONLY | os.O_DIRECTORY)
                os.close(folder)
                folder = inner
        except BaseException:
            os.close(folder)
            raise
        return folder

    def close(self) -> None:
        if self.anchor >= 0:
            os.close(self.anchor)
            self.anchor = -1


def _open_step(name: str, folder: int, flags: int) -> int:
    try:
        return os.open(name, flags | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=folder)
    except FileNotFoundError:
        raise FileNotFoundError("no such file") from None
    except OSError as exc:  # ELOOP: a link; ENOTDIR: a link or a file where a folder was
        raise UnsafeFile(f"a link or not a plain file ({exc.strerror})") from None
