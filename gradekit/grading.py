"""Grade one submission end to end: load it, start its sandboxed worker, run the tests.

Each step that can fail because of the submission turns into a finding or into failed tests,
never into an exception: a broken upload still gets a result row with a reason, and an upload
with nothing to grade (empty, unreadable, no package) gets a row saying that and nothing else.
Timings of the steps are kept so that the overhead of grading can be reported. A whole class
is graded by :mod:`gradekit.batch`.
"""

from __future__ import annotations

import shutil
import tempfile
import time
from collections.abc import Iterable, Sequence
from contextlib import AbstractContextManager, ExitStack
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gradekit.harness.results import Finding, NotebookReport, SubmissionResult
from gradekit.packs import AssignmentPack, PackError
from gradekit.submission.findings import NOTHING_TO_GRADE

if TYPE_CHECKING:
    import pluggy

    from gradekit.harness.rubrics import Rubric
    from gradekit.notebooks.runner import SubmissionNotebooks
    from gradekit.sandbox.confinement import Confinement
    from gradekit.sandbox.errors import ImportFailure
    from gradekit.submission import Submission

VISIBLE_ONLY = ("visible",)
EVERYTHING = ("visible", "hidden", "after_due_date")

#: Finding kinds of a row that is not a full grade of the work as it should be: nothing was
#: graded (bad input), the grader failed, the data was missing, or it is another pack's
#: homework. ``grade`` exits 1 when a row has one, so staff look at it.
NEEDS_ATTENTION = frozenset({"unreadable", "grader-error", "data-missing", "other-pack",
                             "other-version", *NOTHING_TO_GRADE})


@dataclass(frozen=True)
class GradingOptions:
    """How to grade: which tests, which sandbox, where outputs go (kept out of reach).

    ``notebooks`` runs the pack's notebooks (slow: they train models); their executed copies
    go to ``output_dir/<submission>/`` when an output folder is given.
    """

    course_root: Path | None = None
    sandbox: str = "auto"
    visibility: Sequence[str] = EVERYTHING
    protected: tuple[Path, ...] = ()
    show_output: bool = False
    notebooks: bool = True
    output_dir: Path | None = None
    stop_at_first_loss: bool = False  # author validate: a mutant's first lost point is enough
    one_loss_per_part: bool = False  # ... or its first in each part
    first_tests: tuple[str, ...] = ()  # tests to run first (the mutated component's own)
    skip_tests: tuple[str, ...] = ()  # tests not to run (those a mutant cannot change)
    shared_data: Path | None = None  # a batch's data sets, loaded once (gradekit.data.shared)


@dataclass
class Timings:
    """Seconds spent per step, for the overhead report."""

    load: float = 0.0
    notebooks: float = 0.0
    start: float = 0.0
    tests: float = 0.0
    extra: dict[str, float] = field(default_factory=dict)


def limits_for(pack: AssignmentPack):
    """The sandbox limits a pack asks for, on top of the defaults."""
    from gradekit.sandbox.limits import MB, Limits

    declared = pack.limits
    overrides = {
        "call_seconds": declared.get("call_timeout"),
        "submission_seconds": declared.get("submission_timeout"),
        "cpu_seconds": declared.get("cpu_seconds"),
        "address_space": declared["memory_mb"] * MB if "memory_mb" in declared else None,
        "tmp_bytes": declared["disk_mb"] * MB if "disk_mb" in declared else None,
        "processes": declared.get("processes"),
    }
    return Limits(**{k: v for k, v in overrides.items() if v is not None})


def test_folders(pack: AssignmentPack, options: GradingOptions) -> list[Path]:
    """The visible tests, plus the course's hidden ones when they are asked for.

    Hidden tests asked for but missing raise :class:`PackError`: the grade would quietly be a
    visible-only one. Without a course root there are none to find (a library caller's own
    pack); class grading (:mod:`gradekit.batch`) insists on the course.
    """
    folders = pack.visible_test_paths()
    if wants_hidden_tests(options) and options.course_root is not None:
        hidden = pack.hidden_test_paths(options.course_root)
        if not hidden:
            where = pack.hidden_tests(options.course_root)
            raise PackError(f"the hidden tests of pack {pack.name!r} are missing: there is no "
                            f"folder {where}; restore it (grading without it would give "
                            "visible-only grades)")
        folders += hidden
    return folders


def wants_hidden_tests(options: GradingOptions) -> bool:
    """True when the run grades more than the visible tests."""
    return bool(set(options.visibility) - set(VISIBLE_ONLY))


def grade_submission(path: Path, pack: AssignmentPack, options: GradingOptions,
                     sid: str | None = None) -> tuple[SubmissionResult, Timings]:
    """Grade the submission at ``path`` with ``pack``; never raises for the student's faults.

    ``sid`` is its id in a batch (:func:`gradekit.submission.loader.submission_ids`); alone,
    the id comes from the upload's name.
    """
    from gradekit.harness.session import run_tests
    from gradekit.plugin_manager import create_plugin_manager
    from gradekit.sandbox.client import WorkerClient
    from gradekit.sandbox.plugin import SubmissionPlugin
    from gradekit.submission import SubmissionError, load_submission
    from gradekit.versions import Version

    timings = Timings()
    tests = test_folders(pack, options)  # before any work: missing tests are not the student's
    scratch = Path(tempfile.mkdtemp(prefix="gradekit-grade-"))
    try:
        clock = time.perf_counter()
        try:
            submission = load_submission(path, scratch, expected=pack.modules,
                                         package_name=pack.package, sid=sid,
                                         from_notebooks=pack.notebook_modules)
        except SubmissionError as exc:
            unreadable = Finding("unreadable", str(exc))
            return failed_row(sid or Path(path).name, pack, [unreadable]), timings
        timings.load = time.perf_counter() - clock
        findings = [Finding(str(f.kind), f.summary()) for f in submission.findings]
        if not submission.gradable:  # the reason first, no wall of "not implemented"
            first = sorted(findings, key=lambda f: f.kind not in NOTHING_TO_GRADE)
            return failed_row(submission.id, pack, first), timings
        findings = _supplied_findings(pack, submission, options, findings)
        pm = create_plugin_manager(options.course_root)
        findings += _version_findings(pack, submission, pm)
        accuracy = pack.data.get("accuracy", {})
        rubric = _noted_rubric(pm, pack.rubric, accuracy.get("note"))
        rubrics = {name: _noted_rubric(pm, {k: v for k, v in spec.items() if k != "note"},
                                       spec.get("note"))
                   if isinstance(spec, dict) else _noted_rubric(pm, spec, None)
                   for name, spec in pack.rubrics.items()}

        with ExitStack() as running:
            confinement = running.enter_context(_confinement(pack, submission, options))
            clock = time.perf_counter()
            notebooks = _prepare_notebooks(pack, submission, scratch, options, confinement,
                                           running)
            if notebooks is not None:
                running.enter_context(notebooks).execute()  # kernels stay up for the tests
            timings.notebooks = time.perf_counter() - clock

            clock = time.perf_counter()
            client = running.enter_context(WorkerClient(
                submission.root, submission.modules, pack.api, confinement=confinement))
            timings.start = time.perf_counter() - clock
            findings += _import_findings(client.unavailable().values(), findings)
            SubmissionPlugin(client, submission.id).register(pm)
            clock = time.perf_counter()
            result = run_tests(tests, pm, api=pack.api,
                               visibility=tuple(options.visibility), submission_id=submission.id,
                               assignment=pack.name, part_points=pack.part_points,
                               part_titles=pack.part_titles,
                               rubric=rubric, notebooks=notebooks, output=client.capture,
                               show_output=options.show_output, version=Version.of(pack),
                               rubrics=rubrics, stop_at_first_loss=options.stop_at_first_loss,
                               one_loss_per_part=options.one_loss_per_part,
                               first=options.first_tests, skip=options.skip_tests,
                               shared_data=options.shared_data)
            timings.tests = time.perf_counter() - clock
            output = client.output()
            result.notebooks = _notebook_reports(pack, submission.id, notebooks, result, options)
        result.not_applicable = dict(pack.not_applicable)
        result.findings = findings + result.findings + _data_findings(result)
        if output:
            result.findings.append(Finding("output", _tail(output)))
        return result, timings
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _noted_rubric(pm: pluggy.PluginManager, spec: str | dict[str, Any] | None,
                  note: str | None) -> Rubric | None:
    """The rubric ``spec`` declares, its description followed by ``note``: which of a
    handout's targets is graded, in words the feedback shows."""
    from gradekit.harness.rubrics import make_rubric

    if spec is None:
        return None
    rubric = make_rubric(pm, spec)
    return replace(rubric, description=f"{rubric.description}; {note}") if note else rubric


def _supplied_findings(pack: AssignmentPack, submission: Submission,
                       options: GradingOptions, findings: list[Finding]) -> list[Finding]:
    """Supply the files the course gave that the submission lacks or broke, and say so once;
    a syntax error the loader found in a file now replaced is no longer the submission's."""
    from gradekit.authoring.release import supply_given

    if options.course_root is None or not submission.package:
        return findings
    supplied = supply_given(pack, options.course_root, submission.root, submission.package)
    if not supplied:
        return findings
    given = [path.split("/", 1)[-1] for path in supplied]

    def replaced(finding: Finding) -> bool:
        path = finding.message.split(":", 1)[0]
        return finding.kind == "syntax-error" and any(
            path == rel or path.endswith("/" + rel) for rel in given)

    kept = [f for f in findings if not replaced(f)]
    wanted = _imported_names(submission)
    said = ", ".join(path if why == "missing" else f"{path} ({why})"
                     for path, why in supplied.items()
                     if why != "missing" or Path(path).stem in wanted)
    if not said:  # supplied for completeness; nothing of the submission's asks for them
        return kept
    return [*kept, Finding("supplied", f"files the course gave, used from the course's copy: "
                                       f"{said}")]


def _module_sources(submission: Submission) -> list[Path]:
    """The files of the submission's graded modules, in its working copy."""
    return [submission.root / (dotted_name.replace(".", "/") + ".py")
            for dotted_name in submission.modules.values()]


def _imported_names(submission: Submission) -> set[str]:
    """Every module name the submission's graded modules import (each dotted part)."""
    import ast

    names: set[str] = set()
    for path in _module_sources(submission):
        try:
            tree = ast.parse(path.read_bytes())
        except (OSError, SyntaxError, ValueError):
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names.update(part for alias in node.names for part in alias.name.split("."))
            elif isinstance(node, ast.ImportFrom):
                names.update((node.module or "").split("."))
                names.update(alias.name for alias in node.names)
    return names


def _version_findings(pack: AssignmentPack, submission: Submission,
                      pm: pluggy.PluginManager) -> list[Finding]:
    """A hint when another version of the pack fits the submission's signatures better."""
    from gradekit.packs import find_packs
    from gradekit.submission.version_fit import better_versions

    winners, seen = better_versions(pack, find_packs(pm), _module_sources(submission),
                                    submission.package)
    if not winners:
        return []
    names = " or ".join(p.name for p in winners)
    return [Finding("other-version", (
        f"this submission looks written for {names}, not {pack.name}: its code has "
        f"{', '.join(seen)}. Its tests ran in {pack.name}'s API; if that is the course's "
        f"version, grade it again with --assignment {winners[0].name}"))]


def _import_findings(failures: Iterable[ImportFailure],
                     findings: Sequence[Finding]) -> list[Finding]:
    """One finding per module that did not import; a syntax error the loader already
    reported with its file and line is not told twice."""
    parsed = any(f.kind == "syntax-error" for f in findings)
    return [Finding("import-failed", "\n".join(filter(None, (f.summary, f.traceback))))
            for f in failures if not (parsed and f.syntax)]


def _confinement(pack: AssignmentPack, submission: Submission,
                 options: GradingOptions) -> AbstractContextManager[Confinement]:
    """The isolation of this submission's worker and kernels: the pack's limits, the data
    sets (read-only), and never the upload itself, its batch or the grader's outputs."""
    from gradekit.notebooks.runner import data_for_kernel
    from gradekit.sandbox.confinement import new_confinement

    readable, env = data_for_kernel() if options.notebooks and pack.notebooks else ([], {})
    outputs = [options.output_dir] if options.output_dir is not None else []
    hidden = [submission.source, submission.source.parent, *options.protected, *outputs]
    return new_confinement(options.sandbox, limits_for(pack), readable=readable, env=env,
                           hidden=hidden)


def _prepare_notebooks(pack: AssignmentPack, submission: Submission, scratch: Path,
                       options: GradingOptions, confinement: Confinement,
                       running: ExitStack) -> SubmissionNotebooks | None:
    """The pack's notebooks, ready to run in the sandbox, unless this run skips them. A
    kernel always runs in a process of its own, even when the worker does not."""
    if not (options.notebooks and pack.notebooks):
        return None
    from gradekit.notebooks.runner import prepare_notebooks

    if not confinement.isolated:
        confinement = running.enter_context(_confinement(
            pack, submission, replace(options, sandbox="subprocess")))
    return prepare_notebooks(pack, submission.root, scratch / "notebooks", confinement)


def _notebook_reports(pack: AssignmentPack, submission_id: str,
                      notebooks: SubmissionNotebooks | None, result: SubmissionResult,
                      options: GradingOptions) -> list[NotebookReport]:
    """Reports on the pack's notebooks, with their executed copies saved for the student."""
    if notebooks is None:
        from gradekit.notebooks.runner import NOT_RUN

        return [NotebookReport(spec.name, "not-run", NOT_RUN) for spec in pack.notebooks]
    written: dict[str, str] = {}
    if options.output_dir is not None:
        from gradekit.harness.reports import folder_name

        folder = options.output_dir / folder_name(submission_id)
        for run in notebooks.runs:
            if run.notebook is not None:
                run.write_executed(folder / run.spec.name)
                written[run.spec.name] = run.spec.name
    return notebooks.reports(result.tests, written)


def _data_findings(result: SubmissionResult) -> list[Finding]:
    """One finding per missing data set, so that staff see what was not graded and why."""
    missing = {t.cause.summary for t in result.tests
               if t.cause is not None and t.cause.kind == "data-missing"}
    return [Finding("data-missing", f"{message} (these tests scored 0 without grading the "
                                    "submission; grade again once the data is there)")
            for message in sorted(missing)]


def _tail(text: str, limit: int = 2000) -> str:
    return text if len(text) <= limit else "…" + text[-limit:]


def failed_row(submission: str, pack: AssignmentPack,
               findings: Sequence[Finding]) -> SubmissionResult:
    """A result row for a submission that could not be graded at all: every part scores zero,
    and the findings say why."""
    return SubmissionResult(submission=submission, assignment=pack.name,
                            findings=list(findings), part_points=pack.part_points,
                            part_titles=pack.part_titles,
                            not_applicable=dict(pack.not_applicable))


def needs_attention(result: SubmissionResult) -> bool:
    """True when staff must look at this row before using it (see :data:`NEEDS_ATTENTION`)."""
    return any(f.kind in NEEDS_ATTENTION for f in result.findings)
