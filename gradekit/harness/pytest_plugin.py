"""The pytest plugin that turns instructors' ordinary pytest tests into graded tests.

Markers::

    @pytest.mark.points(2)              # worth 2 points (default 1)
    @pytest.mark.part("layers")         # counted in part "layers" (default: module name
                                        #   without its test_ prefix)
    @pytest.mark.visibility("hidden")   # visible (default) | hidden | after_due_date
    @pytest.mark.timeout(5)             # wall-clock limit of the test body, in seconds

Fixtures: ``notebook`` gives the submission's executed notebooks (artifacts predict in the
sandbox); ``impl``, ``ref``, ``mixed`` and ``isolated`` (the student's component on the
reference's lower-level ones: one bug, one deduction) are
:class:`gradekit.components.Components` views of the grading session's plugin manager.
A test earns a fraction of its points by returning it (``return 0.5``) or through the
``credit`` fixture (``credit.award(0.5, "why")``); ``rubric`` is the pack's accuracy
rubric, for ``credit.award_accuracy(accuracy, rubric)``.

Outcomes become :class:`gradekit.harness.results.TestResult` with a
:class:`gradekit.harness.results.Cause`: a failed assertion is ``failed`` (wrong result)
with its message; a :class:`gradekit.components.MissingComponent` is ``failed`` with
``not implemented: <name>``, or with why its module did not import; a time-out (ours or the
sandbox's) is ``failed``; an exception from the sandbox is ``error`` with its own message
(it already names what the student's code raised); any other exception is ``error`` with
its type and message. What the student's code printed during a test is kept beside it.

Tests are written in the canonical API of their pack family; under a pack version the views
translate (:mod:`gradekit.versions`), and a test that asks for something the version does not
grade (a given component, an option the version lacks) is *not applicable*: it has no result
row, as a test the version does not have.
"""

from __future__ import annotations

import functools
import numbers
import signal
import threading
import time
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

import pluggy
import pytest

from gradekit.components import Components, MissingComponent
from gradekit.data.locate import DataNotFoundError
from gradekit.harness.results import NOT_IMPLEMENTED, VISIBILITIES, Cause, TestResult
from gradekit.harness.rubrics import Rubric
from gradekit.harness.scoring import check_fraction, status_for
from gradekit.notebooks import ArtifactError
from gradekit.sandbox.errors import CallTimeout, SandboxError, StudentError
from gradekit.versions import Dialect, DropoutReading, NotInVersion, Version

if TYPE_CHECKING:
    from gradekit.notebooks.runner import SubmissionNotebooks

MARKERS = (
    "points(n): the test is worth n points (default 1)",
    "part(name): the part of the assignment the test counts towards (default: its module)",
    "visibility(v): visible (default), hidden or after_due_date",
    "timeout(seconds): wall-clock limit for the test body",
)
MAX_MESSAGE_CHARS = 2000
MAX_OUTPUT_BYTES = 4000  # per test: enough for a student's debugging prints to be useful
DATA_MISSING = "data missing: "


class PrintedOutput(Protocol):
    """What the student's code printed, readable test by test
    (:class:`gradekit.sandbox.capture.OutputCapture`)."""

    def settle(self) -> None: ...
    def mark(self) -> tuple[int, int]: ...
    def since(self, mark: tuple[int, int], limit: int) -> str: ...


class TestTimeout(TimeoutError):  # noqa: N818 - reads as what happened: the test timed out
    """A test ran past its ``timeout`` marker.

    A :class:`TimeoutError`, so a sandbox call interrupted by it reacts as to its own
    deadline: the worker is restarted and the next call does not read a stale reply.
    """

    __test__ = False


class MarkerError(ValueError):
    """A gradekit marker with an unusable argument (a mistake in the test, not the code)."""


@dataclass(frozen=True)
class GradedTest:
    """What the markers of one test say about how it is graded."""

    __test__ = False

    points: float
    part: str
    visibility: str
    timeout: float | None


def default_part(path: Path) -> str:
    """``test_layers.py`` counts towards part ``layers``."""
    return path.stem.removeprefix("test_").removesuffix("_test")


def _marker_arg(item: pytest.Item, name: str) -> Any | None:
    marker = item.get_closest_marker(name)
    if marker is None:
        return None
    if len(marker.args) != 1 or marker.kwargs:
        raise MarkerError(f"@pytest.mark.{name} takes exactly one argument")
    return marker.args[0]


def graded_test(item: pytest.Item, default_timeout: float | None = None) -> GradedTest:
    """Read and check the gradekit markers of ``item``."""
    points = _marker_arg(item, "points")
    points = 1.0 if points is None else points
    if isinstance(points, bool) or not isinstance(points, numbers.Real) or points < 0:
        raise MarkerError(f"@pytest.mark.points needs a number >= 0, got {points!r}")
    part = _marker_arg(item, "part") or default_part(item.path)
    visibility = _marker_arg(item, "visibility") or "visible"
    if visibility not in VISIBILITIES:
        raise MarkerError(f"@pytest.mark.visibility must be one of {VISIBILITIES}, "
                          f"got {visibility!r}")
    limit = _marker_arg(item, "timeout")
    limit = default_timeout if limit is None else limit
    if limit is not None and (not isinstance(limit, numbers.Real) or limit <= 0):
        raise MarkerError(f"@pytest.mark.timeout needs a positive number of seconds, "
                          f"got {limit!r}")
    return GradedTest(float(points), str(part), visibility, None if limit is None else float(limit))


class Credit:
    """The ``credit`` fixture: a test awards a fraction of its points; the last award counts.

    Without an award a passing test earns all its points. A failing assertion after an
    award still fails the test.
    """

    def __init__(self) -> None:
        self.fraction: float | None = None
        self.reason = ""
        self.details: dict[str, Any] = {}

    def award(self, fraction: float, reason: str = "") -> None:
        """Give ``fraction`` (0..1) of the test's points, saying why."""
        self.fraction = check_fraction(fraction)
        self.reason = reason

    def award_accuracy(self, accuracy: float, rubric: Rubric, **facts: Any) -> float:
        """Award what ``rubric`` gives for ``accuracy`` (a fraction); return the credit.

        The accuracy, rubric and credit go into the result's ``details`` with ``facts``
        (``split="held-out"``, ``validation_accuracy=0.44``, ...), for reports to show.
        """
        fraction = rubric(accuracy)
        self.award(fraction, f"accuracy {accuracy:.1%} earns {fraction:.0%} "
                             f"of the points (rubric: {rubric})")
        self.details = {"accuracy": accuracy, "rubric": str(rubric), "credit": fraction,
                        **facts}
        return fraction


class _Rubrics(dict):
    """Named rubrics; a name the pack lacks is an error that says where to declare it."""

    def __missing__(self, name: str) -> Rubric:
        raise LookupError(f"this assignment declares no accuracy rubric {name!r}; add it to "
                          f"the pack as [accuracy.rubrics] {name} = {{ kind = ..., ... }}")


@contextmanager
def deadline(seconds: float | None) -> Iterator[None]:
    """Raise :class:`TestTimeout` in the block after ``seconds`` of wall-clock time.

    Uses SIGALRM where it exists and we are on the main thread, which interrupts a wait on
    the sandbox worker as well as Python code. Elsewhere the limit is enforced when the
    block returns, so a slow test still loses its points.
    """
    if seconds is None:
        yield
        return
    message = f"timed out after {seconds:g} s"
    can_interrupt = hasattr(signal, "setitimer") and threading.current_thread() is \
        threading.main_thread()
    start = time.perf_counter()
    if not can_interrupt:
        yield
        if time.perf_counter() - start > seconds:
            raise TestTimeout(message)
        return

    def on_alarm(signum: int, frame: object) -> None:
        raise TestTimeout(message)

    previous = signal.signal(signal.SIGALRM, on_alarm)
    outer_delay, _ = signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        if outer_delay:  # an enclosing alarm (e.g. a per-submission limit) keeps running
            elapsed = time.perf_counter() - start
            signal.setitimer(signal.ITIMER_REAL, max(outer_delay - elapsed, 1e-3))


def _short(text: str) -> str:
    text = text.strip()
    return text if len(text) <= MAX_MESSAGE_CHARS else text[: MAX_MESSAGE_CHARS - 1] + "…"


@dataclass
class _Outcome:
    """What happened to one test so far, phase by phase (setup, call, teardown)."""

    status: str = "passed"
    message: str = ""
    duration: float = 0.0
    cause: Cause | None = None
    output_mark: tuple[int, int] | None = None
    not_in_version: bool = False  # it asked for something this version does not grade
    settled: bool = False  # not run: its part had already lost points (one_loss_per_part)
    components: set[str] = field(default_factory=set)  # what it asked the submission for
    notes: list[str] = field(default_factory=list)  # remarks of checks that passed


CREDIT_KEY = pytest.StashKey[Credit]()


class GradekitPlugin:
    """Registered with ``pytest.main(..., plugins=[GradekitPlugin(pm)])``; collects results.

    ``roots`` are the paths handed to pytest; test names are given relative to them.
    Tests whose visibility is not in ``visibilities`` are deselected.
    """

    def __init__(
        self,
        pm: pluggy.PluginManager,
        *,
        api: str = "cs231n",
        visibilities: str | Sequence[str] = VISIBILITIES,
        default_timeout: float | None = None,
        roots: Sequence[Path] = (),
        rubric: Rubric | None = None,
        notebooks: SubmissionNotebooks | None = None,
        output: PrintedOutput | None = None,
        version: Version | None = None,
        rubrics: Mapping[str, Rubric] | None = None,
        stop_at_first_loss: bool = False,
        one_loss_per_part: bool = False,
        first: Collection[str] = (),
        skip: Collection[str] = (),
        shared_data: Path | None = None,
    ) -> None:
        if isinstance(visibilities, str):
            visibilities = (visibilities,)
        unknown = set(visibilities) - set(VISIBILITIES)
        if unknown:
            raise ValueError(f"unknown visibility {sorted(unknown)}; use {VISIBILITIES}")
        self.pm = pm
        self.api = api
        self.visibilities = tuple(visibilities)
        self.default_timeout = default_timeout
        self.roots = [Path(r).resolve() for r in roots]
        self.pack_rubric = rubric
        self.pack_rubrics = dict(rubrics or {})
        # "own" runs the tests without stand-ins, "isolated" the others, None all of them;
        # deferred says whether a session held tests for the "isolated" pass
        self.phase: Literal["own", "isolated"] | None = None
        self.deferred = False
        self.answered: set[str] = set()  # components the reference stood in for (all sessions)
        self.notebooks = notebooks
        self.output = output
        self.pack_version = version or Version()
        self.dialect = Dialect(self.pack_version, self._student_dropout_reading)
        self.results: list[TestResult] = []
        # a mutant is killed by its first lost point: the rest of the run tells nothing more
        self.stop_at_first_loss = stop_at_first_loss
        self.one_loss_per_part = one_loss_per_part  # ... or which parts lose any
        self.lost_parts: set[str] = set()
        self.stopped = False
        self.first = frozenset(first)  # test names to run before the others of their session
        self.shared_data = shared_data  # a batch's folder of data sets (gradekit.data.shared)
        self.datasets: dict[tuple, dict[str, Any]] = {}  # loaded, for every session
        self.skip = frozenset(skip)  # test names not to run at all
        self._current: _Outcome | None = None
        self.problems: list[str] = []  # mistakes in the tests themselves
        self._graded: dict[str, GradedTest] = {}
        self._outcomes: dict[str, _Outcome] = {}

    # -- configuration and collection ---------------------------------------------------
    def pytest_configure(self, config: pytest.Config) -> None:
        for line in MARKERS:
            config.addinivalue_line("markers", line)
        if getattr(config.option, "tbstyle", None) is None:  # no terminal: reports unread
            # pytest's own long tracebacks parse every frame's source, and even the native
            # ones format every frame; ours come from the exception, so a failure's report
            # is only its last line
            config.option.tbstyle = "line"

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            self.problems.append(f"cannot collect {report.nodeid or 'tests'}: "
                                 f"{_short(str(report.longrepr))}")

    def pytest_collection_modifyitems(
        self, config: pytest.Config, items: list[pytest.Item]
    ) -> None:
        kept, dropped = [], []
        for item in items:
            try:
                graded = graded_test(item, self.default_timeout)
            except MarkerError as exc:
                self.problems.append(f"{item.nodeid}: {exc}")
                dropped.append(item)
                continue
            if (graded.visibility in self.visibilities and self.name_of(item) not in self.skip
                    and graded.part not in self.pack_version.parts_not_graded):
                self._graded[item.nodeid] = graded
                kept.append(item)
                if isinstance(item, pytest.Function):
                    _credit_returned_fraction(item)
            else:
                dropped.append(item)
        # Tests with stand-ins run last, after every other test of every session (see
        # run_tests' two passes): what the reference answered a stand-in can then never be
        # replayed by the submission's own code in a later test.
        isolated = [item for item in kept if "isolated" in getattr(item, "fixturenames", ())]
        self.deferred |= bool(isolated)
        if self.phase is not None:
            wanted = set(isolated) if self.phase == "isolated" else set(kept) - set(isolated)
            dropped += [item for item in kept if item not in wanted]
            kept = [item for item in kept if item in wanted]
        if dropped:
            config.hook.pytest_deselected(items=dropped)
        kept.sort(key=lambda item: (item in isolated, self.name_of(item) not in self.first))
        items[:] = kept

    def name_of(self, item: pytest.Item) -> str:
        """``file relative to its root :: test``, stable across machines."""
        path = Path(item.path).resolve()
        relative = path.name
        for root in self.roots:
            if root.is_dir() and path.is_relative_to(root):
                relative = path.relative_to(root).as_posix()
                break
        _, _, inside = item.nodeid.partition("::")
        return f"{relative}::{inside}" if inside else relative

    # -- fixtures -----------------------------------------------------------------------
    @pytest.fixture(scope="session")
    def impl(self) -> Components:
        """The submission's components only: a missing one fails the test."""
        return Components(self.api, "impl", self.pm, self.dialect, self.answered, self._asked)

    @pytest.fixture(scope="session")
    def ref(self) -> Components:
        """The reference components only."""
        return Components(self.api, "ref", self.pm, self.dialect)

    @pytest.fixture(scope="session")
    def mixed(self) -> Components:
        """The submission's components where present, the reference elsewhere."""
        return Components(self.api, "mixed", self.pm, self.dialect)

    @pytest.fixture(scope="session")
    def isolated(self) -> Components:
        """The submission's components, each running with the reference standing in for
        the submission's components of every other module: a net's test on it charges the
        net's own code, not a layer bug the layers' tests already charge. Tests that use it
        run after all the others, in every session of the run."""
        return Components(self.api, "isolated", self.pm, self.dialect, self.answered,
                          self._asked)

    def _asked(self, name: str) -> None:
        if self._current is not None:
            self._current.components.add(name)

    @pytest.fixture(scope="session")
    def version(self) -> Version:
        """The pack version's conventions, for a test whose check depends on one."""
        return self.pack_version

    def _student_dropout_reading(self) -> DropoutReading:
        """Whether the student's ``dropout_forward`` keeps or drops a share ``p``, for a
        version whose course says both (UCLA's docstring drops, its code keeps)."""
        import numpy as np

        try:
            forward = Components(self.api, "impl", self.pm).get("layers.dropout_forward")
            out, _ = forward(np.ones((100, 100)), {"mode": "train", "p": 0.25, "seed": 0})
            kept = float(np.mean(np.asarray(out) != 0))
        except Exception:  # not there or broken: its own tests say so
            return "keep"
        return "drop" if abs(kept - 0.75) < abs(kept - 0.25) else "keep"

    @pytest.fixture
    def credit(self, request: pytest.FixtureRequest) -> Credit:
        """Award a fraction of this test's points: ``credit.award(0.5, "why")``."""
        awarded = Credit()
        request.node.stash[CREDIT_KEY] = awarded
        return awarded

    @pytest.fixture(scope="session")
    def dataset(self) -> Callable[..., dict[str, Any]]:
        """``dataset("cifar10", num_training=500)``: a data set from the registered loaders.

        Loaded once per option set for all of the run's sessions, or once for a whole batch
        (:mod:`gradekit.data.shared`); the arrays are read-only. A missing data set errors
        the test with the loader's message (where it looked, how to fetch it) rather than
        scoring it silently.
        """
        from gradekit.data.shared import load_shared

        loaders: dict[str, Callable[..., dict[str, Any]]] = {}
        for contributed in reversed(self.pm.hook.gradekit_datasets()):
            loaders.update(contributed or {})

        def load(name: str, **options: Any) -> dict[str, Any]:
            if name not in loaders:
                raise LookupError(f"no data set {name!r}; known: {', '.join(sorted(loaders))}")
            key = (name, tuple(sorted(options.items())))
            if key not in self.datasets:
                self.datasets[key] = load_shared(name, options, loaders[name],
                                                 self.shared_data)
            return self.datasets[key]

        return load

    @pytest.fixture
    def rubric(self) -> Rubric:
        """The pack's accuracy rubric: ``credit.award_accuracy(accuracy, rubric)``."""
        if self.pack_rubric is None:
            raise LookupError("this assignment declares no accuracy rubric; add one to the "
                              "pack (e.g. rubric = \"min(floor((X - 32%)) / 23%, 1)\")")
        return self.pack_rubric

    @pytest.fixture
    def rubrics(self) -> Mapping[str, Rubric]:
        """The pack's further accuracy rubrics by name (``[accuracy.rubrics]``), for tests
        of more than one trained model: ``rubrics["conv_one_epoch"]``."""
        return _Rubrics(self.pack_rubrics)

    @pytest.fixture
    def notebook(self, request: pytest.FixtureRequest) -> SubmissionNotebooks:
        """The submission's executed notebooks: ``notebook.accuracy("best_model", X, y)``
        predicts in the sandboxed kernel and scores here, where the labels stay."""
        from gradekit.notebooks.runner import SubmissionNotebooks

        notebooks = self.notebooks or SubmissionNotebooks([], executed=False)
        notebooks.current_test = self.name_of(request.node)
        return notebooks

    # -- running ------------------------------------------------------------------------
    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_call(self, item: pytest.Item) -> Any:
        from gradekit.harness import checks
        from gradekit.sandbox.mutations import restore_pristine

        notes = self._outcomes.setdefault(item.nodeid, _Outcome()).notes
        shapes, noted = checks.SHAPES.set(self.pack_version.shapes), checks.NOTES.set(notes)
        try:
            with deadline(self._graded[item.nodeid].timeout):
                return (yield)
        finally:  # state a student call wrote into never reaches the next test
            checks.NOTES.reset(noted)
            checks.SHAPES.reset(shapes)
            restore_pristine()

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        outcome = self._outcomes.setdefault(item.nodeid, _Outcome())
        self._current = outcome
        if self.one_loss_per_part and self._graded[item.nodeid].part in self.lost_parts:
            outcome.settled = True
            pytest.skip("its part has lost points already")
        if self.output is not None:
            outcome.output_mark = self.output.mark()

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(
        self, item: pytest.Item, call: pytest.CallInfo[None]
    ) -> pytest.TestReport:
        report = yield
        outcome = self._outcomes.setdefault(item.nodeid, _Outcome())
        outcome.duration += report.duration
        if outcome.status == "passed":
            if report.skipped:
                outcome.status = "skipped"
                outcome.message = _skip_reason(report)
            elif report.failed and call.excinfo is not None:
                outcome.status, outcome.cause, outcome.message = self._classify(
                    call.excinfo, call.when)
                outcome.not_in_version = isinstance(call.excinfo.value, NotInVersion)
        if call.when == "teardown":
            done = self._outcomes.pop(item.nodeid)
            self._current = None
            if not done.not_in_version and not done.settled:
                result = self._result(item, done)
                self.results.append(result)
                if result.score < result.max_score:
                    self.lost_parts.add(result.part)
                    if self.stop_at_first_loss:
                        self.stopped = True
                        item.session.shouldstop = f"{result.name} lost points"
        return report

    def _classify(self, excinfo: pytest.ExceptionInfo[BaseException],
                  when: str) -> tuple[str, Cause, str]:
        """Status, cause and message of a test that raised ``excinfo`` in phase ``when``."""
        error = excinfo.value
        if isinstance(error, MissingComponent):
            if not error.known:
                return _said("error", Cause("grader-error", error.name,
                                            f"the test asks for an unknown component: {error}"))
            if error.reason:
                return _said("failed", Cause("import-failed", error.name, error.reason))
            return _said("failed", Cause("not-implemented", error.name,
                                         f"{NOT_IMPLEMENTED}{error.name}"))
        if isinstance(error.__context__, TestTimeout):  # the sandbox saw our deadline
            return _said("failed", Cause("timeout", summary=str(error.__context__)))
        if isinstance(error, StudentError) and error.type_name == TestTimeout.__name__:
            return _said("failed", Cause("timeout", summary=error.message))  # in-process code
        if isinstance(error, TestTimeout | CallTimeout):
            return _said("failed", Cause("timeout", summary=str(error)))
        if _not_implemented(error):  # the starter code's stub: say so plainly
            detail = error.message if isinstance(error, StudentError) else str(error)
            name = detail.removesuffix(": not implemented yet")
            return _said("failed", Cause("not-implemented", name, f"{NOT_IMPLEMENTED}{name}"))
        if isinstance(error, DataNotFoundError):  # the grader's fault: say how to fix it
            return _said("error", Cause("data-missing", summary=DATA_MISSING + str(error)))
        if isinstance(error, ArtifactError):  # what the notebook failed to produce
            return _said("failed", Cause("missing-artifact", summary=_short(str(error))))
        if isinstance(error, AssertionError) and when == "call":
            return "failed", Cause("wrong-result"), _assertion_message(excinfo)
        prefix = "" if when == "call" else f"in test {when}: "
        if isinstance(error, SandboxError):  # already says what the student's code did
            return "error", Cause("student-error"), _short(f"{prefix}{error}")
        kind = "grader-error" if when != "call" else "student-error"
        return "error", Cause(kind), _short(f"{prefix}{type(error).__name__}: {error}")

    def _result(self, item: pytest.Item, outcome: _Outcome) -> TestResult:
        graded = self._graded[item.nodeid]
        fraction = 1.0 if outcome.status == "passed" else 0.0
        status, message, cause = outcome.status, outcome.message, outcome.cause
        awarded = item.stash.get(CREDIT_KEY, None)
        details = dict(awarded.details) if awarded is not None else {}
        if status == "passed" and awarded is not None and awarded.fraction is not None:
            fraction = awarded.fraction
            status = status_for(fraction)
            message = awarded.reason or ("" if status == "passed" else f"{fraction:.0%} credit")
            cause = None if status == "passed" else Cause("wrong-result")
        points = graded.points
        if outcome.notes and status == "passed":
            message = "; ".join(filter(None, (message, *outcome.notes)))
        name = self.name_of(item)
        waived = self.pack_version.waiver(name)
        if waived is not None:  # reported as it is, worth nothing
            points = 0.0
            message = "; ".join(filter(None, (message, f"not charged: {waived}")))
        return TestResult(
            name=name,
            part=graded.part,
            score=points * fraction,
            max_score=points,
            status=status,
            message=message,
            visibility=graded.visibility,
            duration=outcome.duration,
            details=details,
            cause=cause,
            output=self._printed(outcome),
            components=tuple(sorted(outcome.components)),
            isolated="isolated" in getattr(item, "fixturenames", ()),
        )

    def _printed(self, outcome: _Outcome) -> str:
        if self.output is None or outcome.output_mark is None:
            return ""
        self.output.settle()
        return self.output.since(outcome.output_mark, MAX_OUTPUT_BYTES)


def _said(status: str, cause: Cause) -> tuple[str, Cause, str]:
    """A cause whose summary is the whole message."""
    return status, cause, cause.summary


def _credit_returned_fraction(item: pytest.Function) -> None:
    """Let the test's return value, if any, be its credit fraction (and keep pytest quiet)."""
    test = item.obj

    @functools.wraps(test)
    def run(*args: Any, **kwargs: Any) -> None:
        returned = test(*args, **kwargs)
        if returned is None:
            return
        if not isinstance(returned, numbers.Real):
            raise TypeError(f"the test returned a {type(returned).__name__}; return a credit "
                            "fraction between 0 and 1, or nothing")
        awarded = item.stash.setdefault(CREDIT_KEY, Credit())
        awarded.award(float(returned), awarded.reason)

    item.obj = run


def _not_implemented(error: BaseException) -> bool:
    """The student's code raised NotImplementedError (directly, or through the sandbox)."""
    if isinstance(error, StudentError):
        return error.type_name == "NotImplementedError"
    return isinstance(error, NotImplementedError)


def _skip_reason(report: pytest.TestReport) -> str:
    if hasattr(report, "wasxfail"):
        return f"expected to fail: {report.wasxfail}".rstrip(": ")
    longrepr = report.longrepr
    reason = longrepr[2] if isinstance(longrepr, tuple) else str(longrepr)
    return reason.removeprefix("Skipped: ")


def _assertion_message(excinfo: pytest.ExceptionInfo[BaseException]) -> str:
    """The test's own message; pytest's ``assert ...`` explanation only when there is none."""
    text = str(excinfo.value).strip()
    custom, explained, _ = text.partition("\nassert ")
    if explained and custom:
        return _short(custom)
    if text:
        return _short(text)
    entry = excinfo.traceback[-1]
    return f"assertion failed at {Path(entry.path).name}:{entry.lineno + 1}"
