"""Report writers: the same :class:`~gradekit.harness.results.SubmissionResult` facts as a
terminal table, JSON, a CSV gradebook, Gradescope's ``results.json`` or an HTML feedback
page.

Formats come from the ``gradekit_report_writers`` hook, so a course can add one (an LMS
export) or replace a built-in by name. A writer is a function
``writer(results, out)`` of a list of results and a text stream.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TextIO

import pluggy

from gradekit.harness.reports.csv_report import write_csv
from gradekit.harness.reports.gradescope import write_gradescope
from gradekit.harness.reports.html import write_html
from gradekit.harness.reports.json_report import write_json
from gradekit.harness.reports.table import write_table
from gradekit.harness.results import SubmissionResult

ReportWriter = Callable[[Sequence[SubmissionResult], TextIO], None]

BUILTIN_WRITERS: dict[str, ReportWriter] = {
    "table": write_table,
    "json": write_json,
    "csv": write_csv,
    "gradescope": write_gradescope,
    "html": write_html,
}

#: file name each built-in format is written to when a folder is given
FILE_NAMES = {"table": "report.txt", "json": "result.json", "csv": "grades.csv",
              "gradescope": "results.json", "html": "feedback.html"}


def available_writers(pm: pluggy.PluginManager) -> dict[str, ReportWriter]:
    """Report formats from every plugin; later-registered plugins override earlier ones."""
    writers: dict[str, ReportWriter] = {}
    for contributed in reversed(pm.hook.gradekit_report_writers()):
        writers.update(contributed or {})
    return writers


def get_writer(pm: pluggy.PluginManager, fmt: str) -> ReportWriter:
    """The writer for ``fmt``; the error lists the formats that do exist."""
    writers = available_writers(pm)
    if fmt not in writers:
        raise ValueError(f"unknown report format {fmt!r}; choose one of "
                         f"{', '.join(sorted(writers))}")
    return writers[fmt]


def write_report(
    pm: pluggy.PluginManager,
    fmt: str,
    results: Sequence[SubmissionResult],
    destination: TextIO | str | Path,
) -> None:
    """Write ``results`` in ``fmt`` to a stream, a file, or a folder (default file name)."""
    writer = get_writer(pm, fmt)
    if not isinstance(destination, str | Path):
        writer(results, destination)
        return
    path = Path(destination)
    if path.is_dir():
        path = path / FILE_NAMES.get(fmt, f"report.{fmt}")
    with path.open("w", encoding="utf-8", newline="") as out:
        writer(results, out)


def folder_name(submission: str) -> str:
    """A file-system-safe folder name for a submission id (ids come from uploads)."""
    cleaned = re.sub(r"[^\w.-]+", "_", submission).strip("._")
    return cleaned or "submission"


def submission_folders(submissions: Sequence[str]) -> list[str]:
    """One folder name per submission id, in order: :func:`folder_name`, numbered where two
    ids clean up to the same name, so that no report overwrites another's."""
    names, taken = [], set()
    for submission in submissions:
        name = base = folder_name(submission)
        number = 1
        while name in taken:
            number += 1
            name = f"{base}-{number}"
        taken.add(name)
        names.append(name)
    return names


def write_submission_reports(pm: pluggy.PluginManager, formats: Sequence[str],
                             result: SubmissionResult, folder: str | Path) -> list[Path]:
    """Write one submission's report in each of ``formats`` into ``folder``; return the
    files. A batch calls it as each row arrives, so no report waits for the last one."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for fmt in formats:
        path = folder / FILE_NAMES.get(fmt, f"report.{fmt}")
        write_report(pm, fmt, [result], path)
        written.append(path)
    return written


def write_per_submission(
    pm: pluggy.PluginManager,
    fmt: str,
    results: Sequence[SubmissionResult],
    out_dir: str | Path,
) -> list[Path]:
    """Write each submission's report into its own folder under ``out_dir``
    (:func:`submission_folders`); return the files.

    Gradescope and per-student feedback need one file per submission.
    """
    folders = submission_folders([result.submission for result in results])
    return [path for result, name in zip(results, folders, strict=True)
            for path in write_submission_reports(pm, [fmt], result, Path(out_dir) / name)]
