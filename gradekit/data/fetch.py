"""Download a registered data set, verify it, and unpack it where the loaders look.

Nothing unverified is ever unpacked: each file is downloaded to a ``.part`` file, its md5
is checked, and only then is it extracted (refusing any member that would land outside the
target, or is a link or device) into a staging folder that is renamed into place at the end.
An interrupted download keeps its ``.part`` file and resumes where it stopped when the
server supports ranges; a failed checksum deletes it.

Only tar archives are extracted. Any other file, such as MNIST's gzipped idx files, is moved
into the staging folder exactly as downloaded, under the last segment of its URL (which holds
no separator, so it lands in the folder): its loader reads gzip itself, the course's loaders
expect the ``.gz`` names, and the file kept is the one whose md5 was checked. A gzip file has
no member names, so there is nothing to refuse, and nothing is decompressed until a loader
reads it.
"""

from __future__ import annotations

import hashlib
import http.client
import shutil
import tarfile
import tempfile
import urllib.error
import urllib.request
from pathlib import Path

from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)

from gradekit.data.locate import cache_dir
from gradekit.data.registry import Dataset, RemoteFile

CHUNK = 1 << 20
TIMEOUT_S = 60


class FetchError(RuntimeError):
    """A download could not be completed or verified."""


class ChecksumError(FetchError):
    """A downloaded file does not have the registered md5."""


class UnsafeArchiveError(FetchError):
    """An archive holds a member that would escape the target folder or is not a plain file."""


def fetch(
    dataset: Dataset, dest: str | Path | None = None, *, force: bool = False,
    show_progress: bool = True,
) -> Path:
    """Download ``dataset`` into ``dest`` (default: the user cache dir) and return its folder.

    An existing copy is kept unless ``force`` is set.
    """
    dest = Path(dest).expanduser() if dest is not None else cache_dir()
    target = dest / dataset.folders[0]
    if target.is_dir() and not force:
        return target
    dest.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{dataset.name}-", dir=dest))
    try:
        with _progress(show_progress) as progress:
            for remote in dataset.files:
                part = _download(remote, dest, progress)
                _verify(part, remote)
                _unpack(part, remote, staging / dataset.folders[0])
        unpacked = staging / dataset.folders[0]
        if not unpacked.is_dir() or dataset.missing_from(unpacked):
            raise FetchError(
                f"the download of {dataset.name} did not contain the folder "
                f"{dataset.folders[0]!r} with {', '.join(dataset.contents) or 'its files'}; "
                f"the registry entry may be out of date"
            )
        if target.exists():
            shutil.rmtree(target)
        unpacked.rename(target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return target


def md5sum(path: Path) -> str:
    """Hex md5 of a file, read in chunks so large archives need little memory."""
    digest = hashlib.md5()
    with open(path, "rb") as f:
        while chunk := f.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _progress(show: bool) -> Progress:
    return Progress(
        TextColumn("{task.description}"), BarColumn(), DownloadColumn(),
        TransferSpeedColumn(), TimeRemainingColumn(), disable=not show,
    )


def _download(remote: RemoteFile, dest: Path, progress: Progress) -> Path:
    """Fetch ``remote`` into ``dest/.<name>.part``, resuming a previous partial download."""
    part = dest / f".{remote.filename}.part"
    have = part.stat().st_size if part.exists() else 0
    request = urllib.request.Request(remote.url)
    if have:
        request.add_header("Range", f"bytes={have}-")
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:
            resumed_at = have if response.status == 206 else 0
            _stream(response, part, resumed_at, remote.filename, progress)
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and have:
            return part  # nothing left past our offset: an earlier run got every byte
        raise _retry_error(remote, exc) from exc
    except (OSError, http.client.HTTPException) as exc:
        raise _retry_error(remote, exc) from exc
    return part


def _stream(
    response: http.client.HTTPResponse, part: Path, offset: int, label: str, progress: Progress
) -> None:
    """Append the response body to ``part`` from ``offset`` (0 starts the file afresh)."""
    length = response.headers.get("Content-Length")
    total = offset + int(length) if length is not None else None
    task = progress.add_task(label, total=total, completed=offset)
    with open(part, "ab" if offset else "wb") as out:
        while chunk := response.read(CHUNK):
            out.write(chunk)
            progress.advance(task, len(chunk))
    size = part.stat().st_size
    if total is not None and size < total:
        raise FetchError(
            f"the connection closed after {size} of {total} bytes of {label}; run the same "
            f"command again to resume"
        )


def _retry_error(remote: RemoteFile, exc: Exception) -> FetchError:
    return FetchError(
        f"downloading {remote.url} failed ({exc}); run the same command again to resume, "
        f"or check your network connection"
    )


def _verify(part: Path, remote: RemoteFile) -> None:
    actual = md5sum(part)
    if actual != remote.md5:
        part.unlink()
        raise ChecksumError(
            f"{remote.filename} from {remote.url} has md5 {actual}, expected {remote.md5}; "
            f"the download was deleted and nothing was unpacked. Run the command again; if "
            f"it keeps failing, the file on the server has changed."
        )


def _unpack(part: Path, remote: RemoteFile, folder: Path) -> None:
    """Extract an archive next to ``folder``, or move a plain file into ``folder``.

    Either way the ``.part`` download is gone afterwards, even if extraction was refused.
    """
    if remote.is_archive:
        try:
            safe_extract(part, folder.parent)
        finally:
            part.unlink()
    else:
        folder.mkdir(parents=True, exist_ok=True)
        part.replace(folder / remote.filename)


def safe_extract(archive: Path, into: Path) -> None:
    """Extract a tar archive into ``into``, refusing links, devices and paths outside it."""
    into = into.resolve()
    with tarfile.open(archive) as tar:
        members = tar.getmembers()
        for member in members:
            landing = (into / member.name).resolve()
            if not landing.is_relative_to(into):
                raise UnsafeArchiveError(
                    f"refusing to extract {archive.name}: member {member.name!r} would be "
                    f"written outside {into}; the archive is corrupt or malicious"
                )
            if not (member.isfile() or member.isdir()):
                raise UnsafeArchiveError(
                    f"refusing to extract {archive.name}: member {member.name!r} is a link "
                    f"or special file, which data archives do not need"
                )
        # Python >= 3.11.4 adds its own "data" filter on top; older ones rely on the above.
        tar.extraction_filter = getattr(tarfile, "data_filter", None)
        tar.extractall(into, members=members)
