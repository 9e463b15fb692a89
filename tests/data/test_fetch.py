"""The downloader against a file server on 127.0.0.1 (these tests never use the internet)."""

from __future__ import annotations

import functools
import hashlib
import http.server
import io
import pickle
import tarfile
import threading
import warnings
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from gradekit.data.cifar10 import get_CIFAR10_data
from gradekit.data.fetch import ChecksumError, FetchError, UnsafeArchiveError, fetch
from gradekit.data.mnist import IdxError, get_mnist, load_images
from gradekit.data.registry import (
    CIFAR10,
    MNIST,
    MNIST_TEST_IMAGES,
    MNIST_TRAIN_IMAGES,
    Dataset,
    RemoteFile,
)


class Handler(http.server.SimpleHTTPRequestHandler):
    """Serves files. ``ranges`` answers ``Range`` requests with 206 (or 416 past the end);
    ``truncate_at`` announces the full length but closes the connection after that many bytes.
    """

    ranges = False
    truncate_at: int | None = None
    requests: list[dict[str, str]]

    def log_message(self, *args) -> None:
        """Keep the test output quiet."""

    def do_GET(self) -> None:
        self.requests.append(dict(self.headers))
        wanted = self.headers.get("Range")
        if not (self.ranges and wanted) and self.truncate_at is None:
            return super().do_GET()
        body = Path(self.translate_path(self.path)).read_bytes()
        start = int(wanted.removeprefix("bytes=").rstrip("-")) if wanted and self.ranges else 0
        if start >= len(body):
            self.send_error(416)
            return None
        self.send_response(206 if start else 200)
        self.send_header("Content-Length", str(len(body) - start))
        self.end_headers()
        self.wfile.write(body[start:self.truncate_at])
        return None


@pytest.fixture
def server(tmp_path):
    """A local file server over ``tmp_path/www``: yields (folder, base URL, handler class)."""
    www = tmp_path / "www"
    www.mkdir()
    handler = type("TestHandler", (Handler,), {"requests": []})
    httpd = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(handler, directory=str(www))
    )
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield www, f"http://127.0.0.1:{httpd.server_address[1]}", handler
    httpd.shutdown()
    httpd.server_close()


def tiny_batch(n: int, seed: int) -> bytes:
    rng = np.random.default_rng(seed)
    return pickle.dumps({"data": rng.integers(0, 256, (n, 3072), dtype=np.uint8),
                         "labels": rng.integers(0, 10, n).tolist()})


def make_tar(path: Path, members: dict[str, bytes], symlink: str | None = None) -> str:
    """Write a tar.gz holding ``members`` (name -> bytes) and return its md5."""
    with tarfile.open(path, "w:gz") as tar:
        for name, payload in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(payload)
            tar.addfile(info, io.BytesIO(payload))
        if symlink is not None:
            link = tarfile.TarInfo("cifar-10-batches-py/link")
            link.type = tarfile.SYMTYPE
            link.linkname = symlink
            tar.addfile(link)
    return hashlib.md5(path.read_bytes()).hexdigest()


def cifar_like(www: Path, base: str, members: dict[str, bytes] | None = None,
               md5: str | None = None, symlink: str | None = None) -> Dataset:
    """Serve an archive shaped like the official one and describe it as a data set."""
    if members is None:
        names = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
        members = {f"cifar-10-batches-py/{n}": tiny_batch(4, i) for i, n in enumerate(names)}
    real_md5 = make_tar(www / "cifar-10-python.tar.gz", members, symlink)
    return Dataset(
        name="cifar10", title="CIFAR-10", folders=("cifar-10-batches-py",),
        files=(RemoteFile(f"{base}/cifar-10-python.tar.gz", md5 or real_md5),), size="1 kB",
        contents=CIFAR10.contents,
    )


def test_fetch_downloads_verifies_and_unpacks_where_the_loader_looks(
    server, tmp_path, monkeypatch
):
    www, base, _ = server
    dest = tmp_path / "dest"
    folder = fetch(cifar_like(www, base), dest)  # with the progress bar, as the CLI runs it
    assert folder == dest / "cifar-10-batches-py"
    assert sorted(p.name for p in dest.iterdir()) == ["cifar-10-batches-py"]
    monkeypatch.setenv("GRADEKIT_DATA", str(dest))
    data = get_CIFAR10_data(num_training=15, num_validation=5, num_test=3)
    assert data["X_train"].shape == (15, 3, 32, 32)
    assert data["y_test"].shape == (3,)


def test_existing_copy_is_kept_unless_forced(server, tmp_path):
    www, base, handler = server
    dataset = cifar_like(www, base)
    fetch(dataset, tmp_path, show_progress=False)
    fetch(dataset, tmp_path, show_progress=False)
    assert len(handler.requests) == 1
    (tmp_path / "cifar-10-batches-py" / "stale").write_text("old")
    fetch(dataset, tmp_path, force=True, show_progress=False)
    assert len(handler.requests) == 2
    assert not (tmp_path / "cifar-10-batches-py" / "stale").exists()


def test_checksum_mismatch_leaves_nothing_behind(server, tmp_path):
    www, base, _ = server
    dest = tmp_path / "dest"
    with pytest.raises(ChecksumError, match="nothing was unpacked") as info:
        fetch(cifar_like(www, base, md5="0" * 32), dest, show_progress=False)
    assert "expected " + "0" * 32 in str(info.value)
    assert list(dest.iterdir()) == []


def test_member_escaping_the_target_is_refused(server, tmp_path):
    www, base, _ = server
    dest = tmp_path / "dest"
    members = {"cifar-10-batches-py/test_batch": b"x", "../escaped.txt": b"gotcha"}
    with pytest.raises(UnsafeArchiveError, match="outside"):
        fetch(cifar_like(www, base, members), dest, show_progress=False)
    assert not (tmp_path / "escaped.txt").exists()
    assert list(dest.iterdir()) == []


def test_absolute_member_is_refused(server, tmp_path):
    www, base, _ = server
    target = tmp_path / "absolute.txt"
    with pytest.raises(UnsafeArchiveError, match="outside"):
        fetch(cifar_like(www, base, {str(target): b"gotcha"}), tmp_path / "d",
              show_progress=False)
    assert not target.exists()


def test_symlink_member_is_refused(server, tmp_path):
    www, base, _ = server
    dest = tmp_path / "dest"
    with pytest.raises(UnsafeArchiveError, match="link"):
        fetch(cifar_like(www, base, {"cifar-10-batches-py/a": b"1"}, symlink="/etc/passwd"),
              dest, show_progress=False)
    assert list(dest.iterdir()) == []


@pytest.mark.parametrize("member", ["other/test_batch", "cifar-10-batches-py/test_batch"])
def test_archive_without_the_expected_files_is_reported(server, tmp_path, member):
    www, base, _ = server
    with pytest.raises(FetchError, match="did not contain the folder 'cifar-10-batches-py' "
                                         "with data_batch_1, data_batch_2"):
        fetch(cifar_like(www, base, {member: b"1"}), tmp_path, show_progress=False)
    assert not (tmp_path / "cifar-10-batches-py").exists()


def test_partial_download_resumes_with_a_range_request(server, tmp_path):
    www, base, handler = server
    handler.ranges = True
    dataset = cifar_like(www, base)
    archive = (www / "cifar-10-python.tar.gz").read_bytes()
    (tmp_path / ".cifar-10-python.tar.gz.part").write_bytes(archive[:100])
    fetch(dataset, tmp_path, show_progress=False)
    assert handler.requests[0]["Range"] == "bytes=100-"
    assert (tmp_path / "cifar-10-batches-py" / "test_batch").is_file()


def test_dropped_connection_keeps_the_part_and_the_next_run_resumes(server, tmp_path):
    www, base, handler = server
    dataset = cifar_like(www, base)
    handler.truncate_at = 200
    with pytest.raises(FetchError, match=r"closed after 200 of .* run the same command again"):
        fetch(dataset, tmp_path / "dest", show_progress=False)
    assert (tmp_path / "dest" / ".cifar-10-python.tar.gz.part").stat().st_size == 200
    handler.truncate_at = None
    handler.ranges = True
    fetch(dataset, tmp_path / "dest", show_progress=False)
    assert handler.requests[-1]["Range"] == "bytes=200-"
    assert sorted(p.name for p in (tmp_path / "dest").iterdir()) == ["cifar-10-batches-py"]


def test_complete_part_is_verified_without_downloading_again(server, tmp_path):
    www, base, handler = server
    handler.ranges = True
    dataset = cifar_like(www, base)
    archive = (www / "cifar-10-python.tar.gz").read_bytes()
    (tmp_path / ".cifar-10-python.tar.gz.part").write_bytes(archive)
    fetch(dataset, tmp_path, show_progress=False)
    assert (tmp_path / "cifar-10-batches-py" / "test_batch").is_file()


def test_server_without_ranges_restarts_the_download(server, tmp_path):
    www, base, handler = server
    (tmp_path / ".cifar-10-python.tar.gz.part").write_bytes(b"garbage from an old attempt")
    fetch(cifar_like(www, base), tmp_path, show_progress=False)
    assert "Range" in handler.requests[0]
    assert (tmp_path / "cifar-10-batches-py" / "test_batch").is_file()


def test_plain_files_are_kept_as_they_are(server, tmp_path):
    www, base, _ = server
    payload = b"\x00\x00\x08\x01 idx labels"
    (www / "labels.gz").write_bytes(payload)
    dataset = Dataset(
        name="idx", title="idx files", folders=("idx",), size="1 kB",
        files=(RemoteFile(f"{base}/labels.gz", hashlib.md5(payload).hexdigest()),),
    )
    folder = fetch(dataset, tmp_path / "dest", show_progress=False)
    assert (folder / "labels.gz").read_bytes() == payload
    assert sorted(p.name for p in (tmp_path / "dest").iterdir()) == ["idx"]


def mnist_like(folder: Path, base: str, md5: str | None = None) -> Dataset:
    """MNIST's registry entry with its four files served from ``folder`` at ``base``; ``md5``
    replaces the checksum of the last one (the test labels)."""
    files = [RemoteFile(f"{base}/{folder.name}/{remote.filename}",
                        hashlib.md5((folder / remote.filename).read_bytes()).hexdigest())
             for remote in MNIST.files]
    if md5 is not None:
        files[-1] = replace(files[-1], md5=md5)
    return replace(MNIST, files=tuple(files))


def test_mnist_is_kept_as_its_gzipped_idx_files_and_loads(server, tmp_path, make_mnist,
                                                          monkeypatch):
    www, base, _ = server
    served = make_mnist(www / "mnist")
    dest = tmp_path / "dest"
    folder = fetch(mnist_like(served, base), dest, show_progress=False)
    assert folder == dest / "mnist"
    assert sorted(p.name for p in dest.iterdir()) == ["mnist"]
    assert sorted(p.name for p in folder.iterdir()) == sorted(MNIST.contents)
    for name in MNIST.contents:  # as downloaded: still gzipped, byte for byte
        assert (folder / name).read_bytes() == (served / name).read_bytes()
    monkeypatch.setenv("GRADEKIT_DATA", str(dest))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a copy this small is a subset, and says so
        trX, trY, tsX, _ = get_mnist()
    assert (trX.shape, trY.shape, tsX.shape) == ((30, 28, 28), (30,), (20, 28, 28))


def test_one_bad_mnist_file_leaves_none_behind(server, tmp_path, make_mnist):
    www, base, handler = server
    dest = tmp_path / "dest"
    with pytest.raises(ChecksumError, match=r"t10k-labels-idx1-ubyte\.gz from .* nothing was "
                                            "unpacked"):
        fetch(mnist_like(make_mnist(www / "mnist"), base, md5="0" * 32), dest,
              show_progress=False)
    assert len(handler.requests) == 4
    assert list(dest.iterdir()) == []


def test_a_partial_mnist_file_resumes_with_a_range_request(server, tmp_path, make_mnist):
    www, base, handler = server
    handler.ranges = True
    served = make_mnist(www / "mnist")
    (tmp_path / f".{MNIST_TRAIN_IMAGES}.part").write_bytes(
        (served / MNIST_TRAIN_IMAGES).read_bytes()[:100])
    folder = fetch(mnist_like(served, base), tmp_path, show_progress=False)
    assert [request.get("Range") for request in handler.requests] == [
        "bytes=100-", None, None, None]
    assert (folder / MNIST_TRAIN_IMAGES).read_bytes() == (served / MNIST_TRAIN_IMAGES).read_bytes()


def test_a_gz_file_is_never_extracted_even_when_it_holds_an_escaping_tar(
        server, tmp_path, make_mnist):
    www, base, _ = server
    served = make_mnist(www / "mnist")
    make_tar(served / MNIST_TEST_IMAGES, {"../escaped.txt": b"gotcha", "../../up.txt": b"x"})
    dest = tmp_path / "dest"
    folder = fetch(mnist_like(served, base), dest, show_progress=False)
    assert not (dest / "escaped.txt").exists() and not (tmp_path / "up.txt").exists()
    assert sorted(p.name for p in dest.iterdir()) == ["mnist"]
    assert (folder / MNIST_TEST_IMAGES).read_bytes() == (served / MNIST_TEST_IMAGES).read_bytes()
    with pytest.raises(IdxError, match=r"not 0x00000803 \(MNIST images\)"):
        load_images(folder / MNIST_TEST_IMAGES)


def test_unreachable_server_says_how_to_retry(tmp_path):
    dataset = Dataset(
        name="gone", title="gone", folders=("gone",), size="1 kB",
        files=(RemoteFile("http://127.0.0.1:9/gone.tar.gz", "0" * 32),),
    )
    with pytest.raises(FetchError, match="run the same command again"):
        fetch(dataset, tmp_path, show_progress=False)
