"""The allow-list: a sandbox sees the runtime, its own files and its data, nothing else.

The walk runs inside a real bubblewrap worker over a batch of two submissions, with an
output folder beside them, and looks at every path it can reach.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sandbox_helpers import HONEST_LAYERS, TIGHT, affine_verdict, needs_bwrap, write_package

from gradekit.course import find_course_root
from gradekit.sandbox import mounts
from gradekit.sandbox.client import WorkerClient

HOSTILE = Path(__file__).parent / "hostile"
ALWAYS_THERE = {"/tmp", "/dev", "/proc", "/etc", "/.gradekit", mounts.WORK, mounts.UPLOAD}


def private_homes() -> list[Path]:
    """The grader's home folder, unless it is the root itself (a service user's)."""
    return [home for home in (Path.home(),) if home != Path("/")]


def allowed_roots(readable: tuple[Path, ...] = ()) -> list[Path]:
    """Where a sandbox may see files: the system folders, the runtime, its data, its own
    private folders, and the few files of /etc."""
    etc = [Path("/etc", name) for name in (*mounts.ETC_FILES, "passwd", "group")]
    return [*mounts.system_roots(), *mounts.runtime_paths(), *readable, *etc,
            *(Path(p) for p in ALWAYS_THERE)]


def walk_inside(client: WorkerClient, readable: tuple[Path, ...] = ()) -> list[Path]:
    pruned = [str(p) for p in (*mounts.system_roots(), *mounts.runtime_paths())]
    return [Path(p) for p in client.call("walk.run", pruned)]


def batch(tmp_path: Path) -> tuple[Path, Path, Path]:
    files = {"cs231n/layers.py": HONEST_LAYERS,
             "cs231n/walk.py": (HOSTILE / "walk_everything.py").read_text()}
    alice = write_package(tmp_path / "batch" / "alice", files)
    bob = write_package(tmp_path / "batch" / "bob", {"cs231n/layers.py": "SECRET = 1\n"})
    output = tmp_path / "graded"
    (output / "bob").mkdir(parents=True)
    (output / "bob" / "result.json").write_text("{}")
    return alice, bob, output


@needs_bwrap
@pytest.mark.slow
def test_a_walk_of_everything_visible_finds_only_the_allow_list(tmp_path: Path) -> None:
    alice, bob, output = batch(tmp_path)
    course = find_course_root()
    assert course is not None
    with WorkerClient(alice, {"layers": "cs231n.layers", "walk": "cs231n.walk"},
                      sandbox="bwrap", limits=TIGHT, hidden_paths=[output]) as client:
        seen = walk_inside(client)
        assert affine_verdict(client) == "pass"
    assert Path(mounts.WORK, "cs231n", "layers.py") in seen  # the walk does reach things
    assert Path("/usr/bin") in seen or Path("/bin") in seen
    roots = allowed_roots()
    outside = sorted(str(p) for p in seen
                     if not any(p == r or p.is_relative_to(r) or r.is_relative_to(p)
                                for r in roots))
    assert outside == []
    def runtime(path: Path) -> bool:  # the runtime, or a folder leading to it
        return any(path.is_relative_to(r) or r.is_relative_to(path)
                   for r in mounts.runtime_paths())

    forbidden = (course, tmp_path, bob, output, *private_homes())
    assert sorted(str(p) for p in seen if not runtime(p) and any(
        p == f or p.is_relative_to(f) for f in forbidden)) == []
    assert not any(part == ".git" for p in seen for part in p.parts)


@needs_bwrap
def test_a_never_visible_path_inside_a_readable_folder_is_masked(tmp_path: Path,
                                                                 confined) -> None:
    data = tmp_path / "data"
    (data / "train").mkdir(parents=True)
    (data / "train" / "batch_1").write_text("images")
    (data / "held-out").mkdir()
    (data / "held-out" / "labels").write_text("the answers")
    files = {"cs231n/walk.py": (HOSTILE / "walk_everything.py").read_text()}
    root = write_package(tmp_path / "alice", files)
    confinement = confined("bwrap", readable=[data], hidden=[data / "held-out", root])
    with WorkerClient(root, {"walk": "cs231n.walk"}, confinement=confinement) as client:
        seen = set(walk_inside(client, (data,)))
    assert data / "train" / "batch_1" in seen
    assert data / "held-out" / "labels" not in seen


def test_identity_files_name_only_root_nobody_and_the_student() -> None:
    files = mounts.identity_files(1234567)
    users = [line.split(":")[0] for line in files["/etc/passwd"].splitlines()]
    assert users == ["root", "nobody", "student"]
    assert f":1234567:1234567:student:{mounts.WORK}:" in files["/etc/passwd"]


def test_parents_of_a_bind_are_made_traversable_once() -> None:
    made: set[str] = set()
    first = mounts.bind(Path("/opt/py/lib"), "/opt/py/lib", made)
    second = mounts.bind(Path("/opt/py/bin"), "/opt/py/bin", made)
    assert first == ["--perms", "0755", "--dir", "/opt", "--perms", "0755", "--dir", "/opt/py",
                     "--ro-bind", "/opt/py/lib", "/opt/py/lib"]
    assert second == ["--ro-bind", "/opt/py/bin", "/opt/py/bin"]


def test_the_root_and_dev_end_read_only_and_tmp_has_its_size() -> None:
    args = mounts.allow_list(readable=(), never_visible=(), tmp_bytes=1 << 20, shm_bytes=1 << 19)
    assert args[-4:] == ["--remount-ro", "/dev", "--remount-ro", "/"]
    tmp = args.index("/tmp")
    assert args[tmp - 4:tmp + 1] == ["1777", "--size", str(1 << 20), "--tmpfs", "/tmp"]
    shm = args.index("/dev/shm")
    assert args[shm - 2:shm] == [str(1 << 19), "--tmpfs"]
