"""``gradekit author validate``: grade the reference, the starter and mutants of the reference
through the same sandbox and harness as ``gradekit grade``, and judge the pack's tests by it.

* The reference, written as a correct submission to the version, must get every point: a
  test it fails is a broken test (or pack).
* The starter must get nothing in any student part, each test saying "not implemented".
* Every mutant should lose points. A named mutant must lose them in exactly the parts its
  entry names (none for code the version gives, or for a correct alternative): a bug costing
  two parts is charged twice. A generated mutant that loses nothing survives, unless it is
  equivalent on every input the tests gave it (:mod:`~gradekit.authoring.validate.equivalence`).
"""

from __future__ import annotations

import shutil
import tempfile
from collections import Counter
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from gradekit.authoring.validate.equivalence import Twin
from gradekit.authoring.validate.mutants import (
    Mutant,
    generated_mutants,
    graded_names,
    importers,
    named_mutants,
    sample,
    untested,
)
from gradekit.grading import GradingOptions
from gradekit.harness.results import SubmissionResult, TestResult
from gradekit.packs import AssignmentPack

DEFAULT_MIN_SCORE = 0.95
Status = Literal["killed", "survived", "equivalent", "as-expected", "misgraded", "error"]


@dataclass(frozen=True)
class Problem:
    """A test that judged the reference or the starter wrongly."""

    test: str
    part: str
    message: str

    def to_dict(self) -> dict[str, str]:
        return {"test": self.test, "part": self.part, "message": self.message}


@dataclass(frozen=True)
class Verdict:
    """How one mutant fared: ``lost`` is the points it lost per part, ``by`` the first test
    that took them and what it said."""

    mutant: Mutant
    status: Status
    part: str
    lost: dict[str, float] = field(default_factory=dict)
    by: str = ""
    message: str = ""
    diff: str = ""

    def to_dict(self) -> dict[str, Any]:
        m = self.mutant
        return {"name": m.name, "component": m.component, "file": m.file,
                "operator": m.operator, "what": m.what, "named": m.named,
                "costs": sorted(m.costs) if m.costs is not None else None,
                "status": self.status, "part": self.part, "lost": self.lost, "by": self.by,
                "message": self.message, "diff": self.diff}


@dataclass
class Validation:
    """Everything validate found about one pack."""

    pack: str
    min_score: float
    reference: list[Problem] = field(default_factory=list)
    starter: list[Problem] = field(default_factory=list)
    unchecked: list[str] = field(default_factory=list)  # tests that need the notebooks run
    verdicts: list[Verdict] = field(default_factory=list)
    not_applicable: list[str] = field(default_factory=list)  # inherited named mutants
    untested: list[str] = field(default_factory=list)  # student code no test asks for
    generated: int = 0  # mutants the operators made, before sampling

    def counted(self, part: str | None = None) -> list[Verdict]:
        """The verdicts the mutation score counts: killed or survived (of ``part``)."""
        return [v for v in self.verdicts if v.status in ("killed", "survived")
                and (part is None or v.part == part)]

    def score(self, part: str | None = None) -> float:
        counted = self.counted(part)
        return sum(v.status == "killed" for v in counted) / len(counted) if counted else 1.0

    @property
    def survivors(self) -> list[Verdict]:
        return [v for v in self.verdicts if v.status == "survived"]

    @property
    def misgraded(self) -> list[Verdict]:
        return [v for v in self.verdicts if v.status == "misgraded"]

    @property
    def failures(self) -> list[str]:
        """Why validate fails, in words; empty when the pack's tests hold."""
        out = []
        if self.reference:
            out.append(f"the reference loses points in {len(self.reference)} test(s)")
        if self.starter:
            out.append(f"{len(self.starter)} test(s) judge the starter wrongly")
        if self.misgraded:
            out.append(f"{len(self.misgraded)} named mutant(s) cost other parts than "
                       "their entries say")
        if self.score() < self.min_score:
            out.append(f"mutation score {self.score():.3f} is below {self.min_score}")
        return out

    def parts(self) -> list[str]:
        return sorted({v.part for v in self.verdicts})

    def to_dict(self) -> dict[str, Any]:
        return {
            "pack": self.pack, "passed": not self.failures, "failures": self.failures,
            "score": self.score(), "min_score": self.min_score, "generated": self.generated,
            "reference": [p.to_dict() for p in self.reference],
            "starter": [p.to_dict() for p in self.starter],
            "unchecked": self.unchecked, "not_applicable": self.not_applicable,
            "untested": self.untested,
            "parts": {part: {"mutants": len([v for v in self.verdicts if v.part == part]),
                             "killed": sum(v.status == "killed" for v in self.counted(part)),
                             "survived": sum(v.status == "survived"
                                             for v in self.counted(part)),
                             "score": self.score(part)}
                      for part in self.parts()},
            "mutants": [v.to_dict() for v in self.verdicts],
        }


def validate_pack(pack: AssignmentPack, course_root: Path, *, mutants: int | None = None,
                  jobs: int = 1, sandbox: str = "auto", notebooks: bool = False,
                  components: Collection[str] = (), inherited: bool = True,
                  on_verdict: Callable[[Verdict, int], None] | None = None) -> Validation:
    """Validate ``pack``'s tests (see the module docstring) with ``mutants`` generated mutants
    at most (a seeded sample spread over the components; all when None) and every named one
    (only the pack's own entries unless ``inherited``), only those of ``components`` when
    some are named. ``on_verdict(verdict, total)`` is told each mutant's verdict as it
    comes."""
    from gradekit.authoring.release import build_starter, write_solution

    minimum = pack.data.get("validate", {}).get("min_score", DEFAULT_MIN_SCORE)
    found = Validation(pack.name, minimum)
    scratch = Path(tempfile.mkdtemp(prefix="gradekit-validate-"))
    try:
        options = GradingOptions(course_root=course_root, sandbox=sandbox, notebooks=False,
                                 protected=(scratch,))
        solution = scratch / "reference"
        write_solution(pack, course_root, solution)
        build_starter(pack, course_root, scratch / "starter")
        rows = _grade(pack, [(solution, replace(options, notebooks=notebooks)),
                             (scratch / "starter", options)], jobs)
        reference, starter = rows[str(solution)], rows[str(scratch / "starter")]
        found.reference, found.unchecked = _reference_problems(pack, reference)
        found.starter = _starter_problems(pack, starter)

        solution = _as_module_files(pack, course_root, solution, scratch / "modules")
        every_named, found.not_applicable = named_mutants(pack, solution)
        named = every_named if inherited else named_mutants(pack, solution, False)[0]
        tested = graded_names(pack, course_root,
                              {c for t in reference.tests for c in t.components})
        found.untested = untested(pack, course_root, tested)
        generated = generated_mutants(pack, course_root, solution, tested)
        found.generated = len(generated)
        # a generated bug an entry names (a correct alternative, say) is judged as named
        texts = {m.file: (solution / m.file).read_text(encoding="utf-8")
                 for m in (*every_named, *generated)}
        written = {m.mutated(texts[m.file]) for m in every_named}
        generated = [m for m in generated if m.mutated(texts[m.file]) not in written]
        if components:
            named = [m for m in named if m.component in components]
            generated = [m for m in generated if m.component in components]
        chosen = [*named, *sample(generated, mutants, seed=pack.name)]
        asked = _asked_by(reference.tests)
        reach = importers(pack, course_root)
        work = []
        for i, mutant in enumerate(chosen):
            top = scratch / f"mutant-{i}"
            shutil.copytree(solution, top)
            mutant.apply(top)
            skip = (*found.unchecked, *unchanged(pack, mutant, reference.tests, reach))
            work.append((top, replace(options, stop_at_first_loss=not mutant.named,
                                      one_loss_per_part=mutant.named,
                                      first_tests=tuple(asked.get(mutant.component, ())),
                                      skip_tests=skip)))
        by_path = dict(zip((str(top) for top, _ in work), chosen, strict=True))
        for path, result in _graded(pack, work, jobs):
            mutant = by_path[path]
            verdict = _verdict(mutant, result, reference.tests, mutant.diff(solution))
            found.verdicts.append(verdict)
            if on_verdict is not None:
                on_verdict(verdict, len(chosen))
        found.verdicts.sort(key=lambda v: chosen.index(v.mutant))
        found.verdicts = _twinned(pack, course_root, solution, found.verdicts, jobs)
        return found
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _as_module_files(pack: AssignmentPack, course_root: Path, solution: Path,
                     dest: Path) -> Path:
    """The correct submission mutants are made in: ``solution`` itself, or for a pack whose
    students write modules in a notebook, a copy at ``dest`` holding those modules as the
    ``.py`` files the loader reads when no notebook is handed in (mutants run without the
    notebooks, and an edit of a module file is one of its cells' code)."""
    from gradekit.authoring.release import (
        placement,
        reference_package,
        starter_text,
        written_in_notebooks,
    )

    notebooks = written_in_notebooks(pack)
    if not notebooks:
        return solution
    shutil.copytree(solution, dest)
    files, source = placement(pack), reference_package(pack, course_root)
    for rel, notebook in notebooks.items():
        (dest / notebook).unlink(missing_ok=True)
        (dest / files[rel]).write_text(starter_text(pack, source, rel, files,
                                                    keep_solutions=True), encoding="utf-8")
    return dest


def _twinned(pack: AssignmentPack, course_root: Path, solution: Path,
             verdicts: list[Verdict], jobs: int) -> list[Verdict]:
    """The verdicts with each survivor checked side by side with the correct code, ``jobs``
    at a time, each in a fresh process: the mutant's modules, and the course's reference,
    never load into this one."""
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    from gradekit.authoring.validate.equivalence import run_side_by_side

    survivors = [v for v in verdicts if v.status == "survived"]
    if not survivors:
        return verdicts
    with ProcessPoolExecutor(max_workers=jobs, max_tasks_per_child=1,
                             mp_context=multiprocessing.get_context("spawn")) as pool:
        twins = dict(zip((id(v) for v in survivors), pool.map(
            run_side_by_side, *zip(*((pack, course_root, solution, v.mutant)
                                     for v in survivors), strict=True)), strict=True))
    return [_judged(v, twins[id(v)]) if id(v) in twins else v for v in verdicts]


def _judged(verdict: Verdict, twin: Twin) -> Verdict:
    """A survivor, or an equivalent mutant if no call the tests made told it apart."""
    name = verdict.mutant.component
    if twin.equivalent:
        return replace(verdict, status="equivalent",
                       message=f"none of the {twin.calls} calls of {name} the tests make told "
                               "it apart from the correct code")
    if not twin.calls:
        return replace(verdict, message=f"no test calls {name} where the change can be seen")
    return replace(verdict, message=f"{name} {twin.difference} on a test's input, and no test "
                                    "checked it")


def _graded(pack: AssignmentPack, work: list[tuple[Path, GradingOptions]],
            jobs: int) -> Iterable[tuple[str, SubmissionResult]]:
    from gradekit.batch import Entry, grade_each

    entries = [(Entry(f"{path.name}", path, ""), chosen) for path, chosen in work]
    for graded in grade_each(entries, pack, jobs):
        yield str(graded.entry.path), graded.result


def _grade(pack: AssignmentPack, work: list[tuple[Path, GradingOptions]],
           jobs: int) -> dict[str, SubmissionResult]:
    return dict(_graded(pack, work, jobs))


def _lost(test: TestResult) -> bool:
    return test.score < test.max_score


def _reference_problems(pack: AssignmentPack,
                        result: SubmissionResult) -> tuple[list[Problem], list[str]]:
    """Tests the reference fails, and those left unchecked because they need the notebooks."""
    problems, unchecked = [], []
    for test in result.tests:
        if not _lost(test) or test.part in pack.not_applicable:
            continue
        if test.cause is not None and test.cause.kind == "missing-artifact":
            unchecked.append(test.name)
        else:
            problems.append(Problem(test.name, test.part, test.message))
    problems += [Problem("(grading)", "", f.message) for f in result.findings
                 if f.kind in ("grader-error", "unreadable", "data-missing")]
    return problems, unchecked


def _starter_problems(pack: AssignmentPack, result: SubmissionResult) -> list[Problem]:
    """Tests that give the starter points, or fail it for another reason than the missing
    code (a student opening the starter should read "not implemented")."""
    problems = []
    for test in result.tests:
        if test.part in pack.not_applicable or not test.max_score:
            continue
        kind = test.cause.kind if test.cause is not None else None
        if test.score > 0:
            problems.append(Problem(test.name, test.part,
                                    f"earns {test.score:g} of {test.max_score:g} points on the "
                                    "starter: it checks given code, or nothing"))
        elif kind not in ("not-implemented", "import-failed", "missing-artifact"):
            problems.append(Problem(test.name, test.part,
                                    f"fails the starter with {kind or test.status}, not "
                                    f"'not implemented': {test.message}"))
    return problems


def unchanged(pack: AssignmentPack, mutant: Mutant, tests: list[TestResult],
              reach: dict[str, set[str]]) -> list[str]:
    """Tests whose outcome ``mutant`` cannot change, so it need not run them: those asking
    only for components of modules that never run the mutated one (``reach``, from
    :func:`~gradekit.authoring.validate.mutants.importers`), and the isolated tests of
    components of other modules, which run the submission's own module (correct) with the
    reference standing in for every other one, the mutated included. A file that is not a
    pack module (a helper the nets import) is never stood in for."""
    module = _module_of(mutant.component, reach)
    runs_it = reach.get(module, set(reach))
    out = []
    for test in tests:
        mine = {_module_of(c, reach) for c in test.components}
        never_runs_it = not mine & runs_it
        stood_in = test.isolated and module in pack.modules and module not in mine
        if test.components and (never_runs_it or stood_in):
            out.append(test.name)
    return out


def _module_of(component: str, modules: Collection[str]) -> str:
    """The module prefix of ``component`` (the longest that matches)."""
    return max((m for m in modules if component.startswith(m + ".")), key=len,
               default=component.rpartition(".")[0])


def _asked_by(tests: list[TestResult]) -> dict[str, list[str]]:
    """Component -> the tests that asked the submission for it, in the reference's run."""
    asked: dict[str, list[str]] = {}
    for test in tests:
        for component in test.components:
            asked.setdefault(component, []).append(test.name)
    return asked


def part_of(component: str, tests: list[TestResult]) -> str:
    """The part a mutant of ``component`` is counted in: the part of most tests that ask for
    it, else of most tests asking for a component of its module (a private helper), else
    its module's name (a helper file the tests reach only through other code)."""
    for matches in (lambda c: c == component,
                    lambda c: c.rpartition(".")[0] == component.rpartition(".")[0]):
        parts = Counter(t.part for t in tests if any(matches(c) for c in t.components))
        if parts:
            return parts.most_common(1)[0][0]
    return component.partition(".")[0]


def _verdict(mutant: Mutant, result: SubmissionResult, reference: list[TestResult],
             diff: str) -> Verdict:
    lost: dict[str, float] = {}
    for test in result.tests:
        if _lost(test):
            lost[test.part] = lost.get(test.part, 0.0) + test.max_score - test.score
    first = next((t for t in result.tests if _lost(t)), None)
    by, message = (first.name, first.message) if first else ("", "")
    errors = [f.message for f in result.findings if f.kind == "grader-error"]
    if errors:
        message = "; ".join(errors)
    part = part_of(mutant.component, reference)
    if first is not None and part not in {t.part for t in reference}:
        part = first.part  # a helper no test asks for: where its bug shows
    if errors and not lost:  # the grader failed: no verdict on the tests
        return Verdict(mutant, "error", part, lost, by, message, diff)
    if mutant.named:
        assert mutant.costs is not None
        ok = set(lost) == set(mutant.costs) and not errors
        if not ok:
            message = (f"costs {', '.join(sorted(lost)) or 'nothing'}; its entry says "
                       f"{', '.join(sorted(mutant.costs)) or 'nothing'}"
                       + (f" ({message})" if message else ""))
        status: Status = "as-expected" if ok else "misgraded"
        if ok and mutant.costs:
            status = "killed"
        return Verdict(mutant, status, sorted(mutant.costs)[0] if mutant.costs else part,
                       lost, by, message, diff)
    return Verdict(mutant, "killed" if lost else "survived", part, lost, by, message, diff)
