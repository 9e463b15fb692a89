"""A student's visible checks: the one code path of ``gradekit check`` and ``gradekit.check()``.

The command (:mod:`gradekit.cli.grade`) and a notebook cell (``gradekit.check("layers")``)
both call :func:`run_check` and :func:`show`, so a student sees the same verdicts wherever
they ask. The submission's code runs in a worker process that imports the files as they are
on disk (the ``subprocess`` sandbox by default), never in the caller: a notebook's kernel may
hold older, edited or autoreloaded copies of the same modules, and those must not be graded.

(The module is not called ``check``: ``import gradekit.check`` would then replace the
function :func:`gradekit.check` with this module.)
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console

    from gradekit.harness.results import SubmissionResult, TestResult
    from gradekit.harness.scoring import PartTotal
    from gradekit.packs import AssignmentPack

SANDBOXES = ("subprocess", "bwrap", "none")


class CheckUsageError(ValueError):
    """The check cannot run as asked (a path that is no submission, an unknown part): the
    student's to fix; ``gradekit check`` exits 2 with this message."""


def release_pack(name: str | None, near: Path) -> AssignmentPack:
    """The pack a check uses: named, the student release bundle around ``near``, or the only
    one registered. Finding it next to the code is right here and only here: a check runs on
    the student's own machine, over their own files, for their own eyes.

    Raises :class:`gradekit.packs.PackChoiceError` when it cannot tell which pack is meant.
    """
    from gradekit.packs import PACK_FILE, AssignmentPack, PackChoiceError, find_packs, get_pack

    if name:
        return get_pack(name)
    for folder in (near, *near.parents):
        if (folder / PACK_FILE).is_file():
            return AssignmentPack.load(folder)
    packs = find_packs()
    if len(packs) == 1:
        return next(iter(packs.values()))
    listed = ", ".join(sorted(packs)) or "none found"
    raise PackChoiceError(f"cannot tell which assignment to check (packs: {listed}); run it "
                          "inside the assignment's release folder, or name the pack "
                          "(--assignment NAME, or assignment='NAME' in a notebook)")


def _parts(pack: AssignmentPack, parts: Iterable[str]) -> frozenset[str]:
    """``parts`` checked against the pack's (its applicable and not-applicable ones)."""
    chosen = frozenset(parts)
    known = [p.name for p in pack.parts] + list(pack.not_applicable)
    unknown = sorted(chosen - set(known))
    if unknown:
        raise CheckUsageError(f"{pack.name!r} has no part {unknown[0]!r}; its parts are "
                              f"{', '.join(known)}")
    return chosen


def run_check(path: Path | str = ".", *, assignment: str | None = None,
              parts: Iterable[str] = (), sandbox: str = "subprocess",
              notebooks: bool = False) -> SubmissionResult:
    """Run the visible tests of the release around ``path`` on the submission at ``path``.

    ``parts`` limits the result to those parts' tests (all parts when empty); their verdicts
    are those of the whole check, since the whole visible suite runs. ``notebooks`` also
    executes the pack's notebooks, as the graders do.
    """
    from gradekit.grading import VISIBLE_ONLY, GradingOptions, grade_submission

    if sandbox not in SANDBOXES:
        raise CheckUsageError(f"unknown sandbox {sandbox!r}: use one of {', '.join(SANDBOXES)}")
    path = Path(path)
    if not path.exists():
        raise CheckUsageError(f"{path} does not exist: pass your release folder (default: the "
                              "current folder)")
    pack = release_pack(assignment, path.resolve())
    chosen = _parts(pack, parts)
    options = GradingOptions(sandbox=sandbox, visibility=VISIBLE_ONLY, notebooks=notebooks)
    result, _ = grade_submission(path, pack, options)
    unreadable = [f.message for f in result.findings if f.kind == "unreadable"]
    if unreadable:
        raise CheckUsageError(unreadable[0])
    if not chosen:
        return result
    return replace(result, tests=[t for t in result.tests if t.part in chosen],
                   part_points={k: v for k, v in result.part_points.items() if k in chosen},
                   not_applicable={k: v for k, v in result.not_applicable.items()
                                   if k in chosen})


def all_passed(result: SubmissionResult) -> bool:
    """True when there were visible tests and every one passed (``gradekit check`` exits 0)."""
    return bool(result.tests) and all(t.status == "passed" for t in result.tests)


def show(result: SubmissionResult, console: Console | None = None) -> None:
    """Print the check's table and its visible points, as ``gradekit check`` shows them."""
    from rich.console import Console

    from gradekit.harness.reports.table import render

    console = console or Console()
    console.print(render([result]))
    console.print(f"visible points: {result.score:g} / {result.max_score:g} "
                  "(the graders also run hidden tests)")


@dataclass(frozen=True, repr=False)
class CheckResult:
    """What :func:`gradekit.check` returns: the check's :class:`SubmissionResult` (``result``)
    with its tests and totals at hand, and a one-line repr, so a notebook cell that ends with
    the call shows a summary rather than every test again."""

    result: SubmissionResult

    @property
    def tests(self) -> list[TestResult]:
        return self.result.tests

    @property
    def parts(self) -> dict[str, PartTotal]:
        return self.result.parts

    @property
    def score(self) -> float:
        return self.result.score

    @property
    def max_score(self) -> float:
        return self.result.max_score

    @property
    def passed(self) -> bool:
        return all_passed(self.result)

    def failures(self) -> list[TestResult]:
        """The tests that did not earn all their points."""
        return self.result.failures()

    def __repr__(self) -> str:
        passed = sum(t.status == "passed" for t in self.tests)
        return (f"<visible checks of {self.result.assignment}: {passed}/{len(self.tests)} "
                f"passed, {self.score:g} / {self.max_score:g} points>")


def check(*parts: str, path: Path | str = ".", assignment: str | None = None,
          sandbox: str = "subprocess", notebooks: bool = False) -> CheckResult:
    """Run the visible checks from a notebook cell or a script, print them as ``gradekit
    check`` does, and return them: ``gradekit.check("layers")``, ``gradekit.check()`` for
    every part, ``gradekit.check("optim", "dropout")`` for several.

    The release is found from ``path`` (default: the working directory, which is the
    notebook's folder) as ``gradekit check`` finds it. The code is graded from the files on
    disk in a worker process; ``sandbox="none"`` is refused here, because it would import the
    student's package into this process, where the notebook's own copies of its modules are.
    """
    if sandbox == "none":
        raise CheckUsageError("sandbox='none' would grade the modules this process has already "
                              "imported, not your files on disk; use the default "
                              "sandbox='subprocess'")
    result = run_check(path, assignment=assignment, parts=parts, sandbox=sandbox,
                       notebooks=notebooks)
    show(result)
    return CheckResult(result)
