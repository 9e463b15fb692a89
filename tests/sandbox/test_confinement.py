"""One confinement per submission: its own uid, so its process budget is its own."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from sandbox_helpers import HONEST_LAYERS, TIGHT, affine_verdict, needs_bwrap, write_package

from gradekit.sandbox import confinement as confinement_module
from gradekit.sandbox.client import WorkerClient
from gradekit.sandbox.confinement import SLOTS_PER_PROCESS, TooManySandboxes, new_confinement

HOSTILE = Path(__file__).parent / "hostile"
as_root = pytest.mark.skipif(os.geteuid() != 0, reason="only a root grader hands out uids")
FILES = {"cs231n/layers.py": HONEST_LAYERS,
         "cs231n/hog.py": (HOSTILE / "thread_hog.py").read_text()}
MODULES = {"layers": "cs231n.layers", "hog": "cs231n.hog"}


@as_root
@needs_bwrap
def test_live_confinements_get_distinct_uids_and_give_them_back() -> None:
    with new_confinement("bwrap") as first, new_confinement("bwrap") as second:
        assert first.uid != second.uid and not {first.uid, second.uid} & {0, 65534}
        held = first.uid
    with new_confinement("bwrap") as again:
        assert again.uid == held


@as_root
@needs_bwrap
def test_too_many_live_confinements_in_one_process_are_refused(
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(confinement_module, "_taken", set(range(SLOTS_PER_PROCESS)))
    with pytest.raises(TooManySandboxes, match="close finished ones first"), \
            new_confinement("bwrap"):
        pass


def test_no_uid_without_a_process() -> None:
    with new_confinement("none") as confinement:
        assert confinement.uid is None and not confinement.isolated


@needs_bwrap
@pytest.mark.slow
def test_a_submission_that_uses_up_its_threads_does_not_starve_another(tmp_path: Path) -> None:
    hog_root = write_package(tmp_path / "hog", FILES)
    honest_root = write_package(tmp_path / "honest", FILES)
    with WorkerClient(hog_root, MODULES, sandbox="bwrap", limits=TIGHT) as hog:
        started = hog.call("hog.run")
        assert 0 < started < TIGHT.processes  # stopped by its own budget, and still holds it
        with WorkerClient(honest_root, MODULES, sandbox="bwrap", limits=TIGHT) as honest:
            assert honest.call("hog.spawn") == "42"
            assert affine_verdict(honest) == "pass"


HOG_IN_ANOTHER_PROCESS = """
import sys
from pathlib import Path
sys.path.insert(0, {helpers!r})
from sandbox_helpers import TIGHT
from gradekit.sandbox.client import WorkerClient
with WorkerClient(Path({root!r}), {modules!r}, sandbox="bwrap", limits=TIGHT) as hog:
    print(hog.call("hog.run"), flush=True)
    sys.stdin.read()  # hold every thread until the test is done
"""


@needs_bwrap
@pytest.mark.slow
def test_a_hog_graded_by_another_process_does_not_starve_this_one(tmp_path: Path) -> None:
    """Two grading processes, as with ``-j 2``: uids differ across processes too."""
    hog_root = write_package(tmp_path / "hog", FILES)
    honest_root = write_package(tmp_path / "honest", FILES)
    script = textwrap.dedent(HOG_IN_ANOTHER_PROCESS).format(
        helpers=str(Path(__file__).parent), root=str(hog_root), modules=MODULES)
    with subprocess.Popen([sys.executable, "-c", script], stdin=subprocess.PIPE,
                          stdout=subprocess.PIPE, text=True) as other:
        assert other.stdout is not None and other.stdin is not None
        assert 0 < int(other.stdout.readline()) < TIGHT.processes
        try:
            with WorkerClient(honest_root, MODULES, sandbox="bwrap", limits=TIGHT) as honest:
                assert honest.call("hog.spawn") == "42"
                assert affine_verdict(honest) == "pass"
        finally:
            other.stdin.close()
