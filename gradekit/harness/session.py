"""One grading run: pytest, in-process, over a submission's tests, giving a SubmissionResult.

pytest runs isolated from wherever gradekit is started, because whatever it loads runs in
the grader: each test folder is a session of its own, rooted there, so conftest files load
from that folder and below and never from a folder above it (a submission, the working
directory); no ini file (``-c /dev/null``); no entry-point plugins; no ``PYTEST_ADDOPTS``,
``PYTEST_PLUGINS`` or other ``PYTEST_*`` setting of the grader's environment (a shell's
``-x`` or ``-p`` must not change grades); no cache directory written next to the tests, and
no terminal output unless asked for. Test modules are imported with ``importlib`` mode, so
visible and hidden test files may share a name.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import pluggy
import pytest

from gradekit.harness.pytest_plugin import GradekitPlugin, PrintedOutput
from gradekit.harness.results import VISIBILITIES, Finding, SubmissionResult
from gradekit.harness.rubrics import Rubric
from gradekit.versions import Version

if TYPE_CHECKING:
    from gradekit.notebooks.runner import SubmissionNotebooks


class TestSuiteError(RuntimeError):
    """The tests themselves are broken (cannot be imported, bad markers): fix them first."""

    __test__ = False


def _pytest_args(paths: Sequence[Path], root: Path, show_output: bool) -> list[str]:
    """Arguments for one session over ``paths``, all inside the folder ``root``.

    ``root`` is pytest's rootdir and its conftest cut-off: pytest reads conftest files in
    the cut-off folder and below it only, along the way to each test, never above it.
    """
    args = [
        *(str(p) for p in paths),
        "-c", os.devnull,
        "--rootdir", str(root),
        "--confcutdir", str(root),
        "--disable-plugin-autoload",
        "-p", "no:cacheprovider",
        # their clean-up runs gc.collect five times per session (0.5 s a submission), to
        # warn of exceptions in __del__ and threads: nothing a grade depends on
        "-p", "no:unraisableexception",
        "-p", "no:threadexception",
        "--import-mode=importlib",
        "--strict-markers",
    ]
    return [*args, "-q"] if show_output else [*args, "-p", "no:terminal"]


def _sessions(paths: Sequence[Path]) -> dict[Path, list[Path]]:
    """The paths grouped into one pytest session per outermost test folder.

    pytest has a single conftest cut-off per session, and a cut-off above two unrelated
    folders (a pack's tests and the course's hidden tests) would admit every conftest between
    them and it. A test file counts as its folder; a folder inside another joins that one.
    """
    folders = {p: p if p.is_dir() else p.parent for p in paths}
    tops = sorted({f for f in folders.values()
                   if not any(f != other and f.is_relative_to(other)
                              for other in folders.values())})
    return {top: [p for p, f in folders.items() if f.is_relative_to(top)] for top in tops}


@contextmanager
def _without_pytest_environment() -> Iterator[None]:
    """Hide the ``PYTEST_*`` variables for the run: pytest takes options from
    ``PYTEST_ADDOPTS`` and imports the plugins named in ``PYTEST_PLUGINS``."""
    saved = {name: value for name, value in os.environ.items() if name.startswith("PYTEST_")}
    for name in saved:
        del os.environ[name]
    try:
        yield
    finally:
        for name in [n for n in os.environ if n.startswith("PYTEST_")]:
            del os.environ[name]
        os.environ.update(saved)


@contextmanager
def _fresh_test_modules(paths: Sequence[Path]) -> Iterator[None]:
    """Forget the test modules a run imported, so the next run reads its own files.

    pytest's importlib mode reuses a module already in ``sys.modules`` under the same name;
    two packs that both have ``test_layers.py`` must not share one in a grading process, and
    neither may pick up an unrelated module of that name imported before the run.
    """
    def ours(module: object) -> bool:
        file = getattr(module, "__file__", None)
        return bool(file) and any(Path(file).resolve().is_relative_to(p) for p in paths)

    # Modules imported earlier under a name one of these files would get (another pack's
    # test_layers.py, say) are set aside for the run and put back afterwards.
    stems = {f.stem for p in paths for f in p.rglob("*.py") if f.stem != "__init__"}
    shadowing = {name: module for name, module in sys.modules.items()
                 if name.rpartition(".")[2] in stems and not ours(module)}
    for name in shadowing:
        del sys.modules[name]
    before = set(sys.modules)
    try:
        yield
    finally:
        for name in set(sys.modules) - before:
            if ours(sys.modules[name]):
                del sys.modules[name]
        sys.modules.update(shadowing)


def run_tests(
    test_paths: Iterable[str | Path],
    pm: pluggy.PluginManager,
    *,
    api: str = "cs231n",
    visibility: str | Sequence[str] = VISIBILITIES,
    submission_id: str = "",
    assignment: str = "",
    part_points: Mapping[str, float] | None = None,
    part_titles: Mapping[str, str] | None = None,
    default_timeout: float | None = None,
    rubric: Rubric | None = None,
    notebooks: SubmissionNotebooks | None = None,
    output: PrintedOutput | None = None,
    show_output: bool = False,
    version: Version | None = None,
    rubrics: Mapping[str, Rubric] | None = None,
    stop_at_first_loss: bool = False,
    one_loss_per_part: bool = False,
    first: Collection[str] = (),
    skip: Collection[str] = (),
    shared_data: Path | None = None,
) -> SubmissionResult:
    """Run the tests under ``test_paths`` against the components ``pm`` provides.

    ``visibility`` selects which tests run (``"visible"`` for a student's own check).
    ``part_points`` are the parts' points a pack declares (``part_titles`` their titles)
    and ``rubric`` its accuracy rubric (the ``rubric`` fixture; ``rubrics`` its named further
    ones), ``notebooks`` the executed
    notebooks (the ``notebook`` fixture), ``output`` what the student's code prints (kept
    beside each test), ``version`` the pack version whose API the student wrote to (see
    :mod:`gradekit.versions`). ``stop_at_first_loss`` ends the run at the first test that
    loses points, ``one_loss_per_part`` skips the tests of a part that has lost some, the
    tests named in ``first`` run before the others of their session and those in ``skip``
    not at all: ``gradekit author validate`` asks only whether a mutant loses points, or in
    which parts. ``shared_data`` is a batch's folder of data sets
    (:mod:`gradekit.data.shared`). Raises :class:`TestSuiteError` when a test module cannot
    be collected or misuses a marker.
    """
    paths = [Path(p).resolve() for p in test_paths]
    missing = [str(p) for p in paths if not p.exists()]
    if not paths or missing:
        raise FileNotFoundError(f"no tests to run at {', '.join(missing) or '(no paths)'}; "
                                "pass the folders or files holding the test modules")
    plugin = GradekitPlugin(pm, api=api, visibilities=visibility,
                            default_timeout=default_timeout, roots=paths, rubric=rubric,
                            notebooks=notebooks, output=output, version=version,
                            rubrics=rubrics, stop_at_first_loss=stop_at_first_loss,
                            one_loss_per_part=one_loss_per_part, first=first, skip=skip,
                            shared_data=shared_data)
    start = time.perf_counter()
    sessions = _sessions(paths)
    with _without_pytest_environment():
        # two passes: the tests of every session without stand-ins, then those with them
        deferred = []
        for root, inside in sessions.items():
            plugin.phase, plugin.deferred = "own", False
            _run_session(plugin, root, inside, show_output)
            if plugin.deferred:
                deferred.append(root)
        for root in deferred:
            plugin.phase = "isolated"
            _run_session(plugin, root, sessions[root], show_output)
    duration = time.perf_counter() - start
    findings = [] if plugin.results else [
        Finding("tests", f"no {'/'.join(plugin.visibilities)} tests found under "
                         f"{', '.join(str(p) for p in paths)}")
    ]
    return SubmissionResult(
        submission=submission_id,
        assignment=assignment,
        tests=plugin.results,
        findings=findings,
        duration=duration,
        part_points=dict(part_points or {}),
        part_titles=dict(part_titles or {}),
    )


def _run_session(plugin: GradekitPlugin, root: Path, inside: list[Path],
                 show_output: bool) -> None:
    if plugin.stopped:
        return
    with _fresh_test_modules([root]):
        exit_code = pytest.main(_pytest_args(inside, root, show_output), plugins=[plugin])
    _check_session(exit_code, plugin)


def _check_session(exit_code: int | pytest.ExitCode, plugin: GradekitPlugin) -> None:
    """Raise when a session did not run the tests as written; failed tests are fine."""
    if plugin.problems:  # pytest calls collection errors an interruption too
        raise TestSuiteError("the tests cannot run as written:\n  " + "\n  ".join(plugin.problems))
    if plugin.stopped:  # at its first lost point, as asked
        return
    if exit_code == pytest.ExitCode.INTERRUPTED:
        raise KeyboardInterrupt  # pytest swallowed a Ctrl-C; the caller decides what to keep
    if exit_code not in (pytest.ExitCode.OK, pytest.ExitCode.TESTS_FAILED,
                         pytest.ExitCode.NO_TESTS_COLLECTED):
        raise TestSuiteError(f"pytest stopped with exit code {exit_code!r}; run again with "
                             "show_output=True to see why")
