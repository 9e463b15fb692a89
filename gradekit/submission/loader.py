"""Turn whatever a student uploaded into a prepared working copy the sandbox can import.

Accepted: a folder (also a Gradescope ``/autograder/submission`` dir holding a zip, a folder
nested one level, or the files themselves), a ``.zip``, or a lone ``.ipynb``. The copy lives
in ``<workdir>/<id>/files``; ``Submission.root`` is the folder inside it that holds the
package, so the worker puts ``root`` on ``sys.path`` and imports ``Submission.modules``.
Nothing is written outside ``workdir`` and no student code runs.

When several folders could be the package, the best one is graded (most expected modules,
then exact paths, then the shallowest, then alphabetical) and an ambiguity finding names
the others, so the same upload always grades the same way.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import zipfile
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from gradekit.submission.findings import (
    NOTHING_TO_GRADE,
    Finding,
    FindingKind,
    SubmissionError,
)
from gradekit.submission.limits import Budget, Limits, UnpackError, is_junk
from gradekit.submission.notebook_code import write_notebook_modules
from gradekit.submission.package import (
    PackageMatch,
    dotted,
    find_package,
    imported_package,
    is_package_name,
    python_files,
)
from gradekit.submission.safe_copy import copy_tree
from gradekit.submission.safe_zip import BadArchiveError, extract_zip
from gradekit.submission.syntax import parse_sources, syntax_findings

#: The CS231n module map in canonical form: component prefix -> file inside the package.
CS231N_MODULES: dict[str, str] = {
    "layers": "layers.py",
    "layer_utils": "layer_utils.py",
    "optim": "optim.py",
    "classifiers.fc_net": "classifiers/fc_net.py",
    "classifiers.cnn": "classifiers/cnn.py",
}

#: Marks a folder the loader made, so a reload may replace it and nothing else.
MARKER = ".gradekit-submission"
DEFAULT_PACKAGE = "cs231n"


@dataclass(frozen=True)
class Submission:
    """A prepared submission: where its package is and what the loader noticed."""

    id: str
    source: Path
    root: Path
    package: str | None
    modules: dict[str, str]
    findings: list[Finding]

    @property
    def gradable(self) -> bool:
        """False when a finding leaves nothing to grade (see :data:`NOTHING_TO_GRADE`)."""
        return not any(f.kind in NOTHING_TO_GRADE for f in self.findings)


def _clean(name: str, hashed: str) -> str:
    """``name`` in ``[A-Za-z0-9._-]``, at most 64 characters, never starting or ending with
    ``.``, ``-`` or ``_``; a name that needed cleaning gets a hash of ``hashed`` as suffix."""
    clean = re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip(".-_")[:64] or "submission"
    if clean != name:
        clean += "-" + hashlib.sha1(hashed.encode(errors="surrogateescape")).hexdigest()[:6]
    return clean


def submission_id(source: Path) -> str:
    """A file-system-safe id from the upload's name; names that needed cleaning get a hash
    suffix so that ``Jane Doe.zip`` and ``Jane_Doe.zip`` stay apart."""
    name = source.resolve().name
    return _clean(re.sub(r"\.(zip|ipynb)$", "", name, flags=re.IGNORECASE), name)


def submission_ids(sources: Sequence[Path]) -> list[str]:
    """One id per submission of a batch, all distinct, each a valid folder name.

    An id is :func:`submission_id` unless another submission of the batch has that id too:
    then the clashing ones are named after their whole file name (``alice`` and
    ``alice.zip``), and if that still clashes (``a/alice`` and ``b/alice``) a hash of their
    path is added. Ids depend only on the paths, so the same batch always gets the same ids.
    """
    resolved = [Path(source).resolve() for source in sources]
    namings: list[Callable[[Path], str]] = [
        submission_id,
        lambda path: _clean(path.name, path.name),
        lambda path: _clean(path.name, path.name) + "-" + hashlib.sha1(
            os.fsencode(path)).hexdigest()[:8],
    ]
    level = [0] * len(resolved)
    while True:
        ids = [namings[n](path) for n, path in zip(level, resolved, strict=True)]
        counts = Counter(ids)
        clashing = [i for i, sid in enumerate(ids) if counts[sid] > 1]
        if not clashing or all(level[i] == len(namings) - 1 for i in clashing):
            break
        for i in clashing:
            level[i] = min(level[i] + 1, len(namings) - 1)
    if len(set(ids)) != len(ids):
        raise ValueError("the same submission is named twice in one batch: "
                         + ", ".join(sorted({str(p) for p, sid in zip(resolved, ids, strict=True)
                                             if counts[sid] > 1})))
    return ids


def _form(source: Path) -> str:
    if source.is_dir():
        return "folder"
    if not source.is_file():
        raise SubmissionError(
            f"{source} does not exist; pass a submission folder, a .zip or an .ipynb file"
        )
    suffix = source.suffix.lower()
    if suffix == ".ipynb":
        return "notebook"
    if suffix == ".zip" or zipfile.is_zipfile(source):
        return "zip"
    raise SubmissionError(
        f"{source} is not a submission: pass a folder, a .zip archive or an .ipynb notebook"
    )


def _working_copy(workdir: Path, sid: str, source: Path) -> Path:
    """Create ``workdir/sid`` afresh, replacing only a copy this loader made earlier."""
    target = workdir.resolve() / sid
    origin = source.resolve()
    if target.is_relative_to(origin) or origin.is_relative_to(target):
        raise SubmissionError(
            f"the work dir {workdir} overlaps the submission {source}; choose a work dir "
            "outside the submission"
        )
    if target.is_symlink() or (target.exists() and not (target / MARKER).is_file()):
        raise SubmissionError(
            f"{target} already exists and was not made by gradekit; choose an empty work dir"
        )
    if target.exists():
        previous = (target / MARKER).read_text().strip()
        if previous != str(origin):
            raise SubmissionError(
                f"{target} holds the copy of another submission ({previous}) with the same id "
                f"{sid!r}; load submissions with the same file name into separate work dirs"
            )
        shutil.rmtree(target)
    target.mkdir(parents=True)
    (target / MARKER).write_text(f"{origin}\n")
    return target


def _unpack(source: Path, form: str, files: Path, budget: Budget) -> list[Finding]:
    if form == "zip":
        return extract_zip(source, files, budget)
    if form == "notebook":
        with source.open("rb") as stream:
            budget.write(stream, files / source.name)
        return []
    # An upload dir may hold the work zipped: unpack top-level zips into their own folders.
    archives = sorted(
        entry.name for entry in os.scandir(source)
        if entry.is_file(follow_symlinks=False) and entry.name.lower().endswith(".zip")
        and not is_junk((entry.name,))
    )
    findings = []
    for name in archives:
        (files / name).mkdir()
        try:
            findings += extract_zip(source / name, files / name, budget)
        except BadArchiveError as exc:
            findings.append(Finding(FindingKind.REFUSED_MEMBER, name, f"{exc}; it was left out."))
    return findings + copy_tree(source, files, budget, exclude=archives)


def _package_name(
    files: Path, match: PackageMatch, imported: str | None, hint: str | None
) -> tuple[str, str | None]:
    """The name the package is imported under, and why it differs from its folder's.

    The student's own imports decide (``from cs231n.layers import *`` in a folder
    renamed ``cs231n_final``), then the folder's name, then the course's, then a default.
    """
    folder = Path(match.directory).name
    parent = (files / match.directory).parent if match.directory else files
    if imported and imported != folder and not (parent / imported).exists():
        return imported, f"its modules import it as {imported!r}"
    if is_package_name(folder):
        return folder, None
    reason = "it is not a valid Python package name"
    for name in (hint, DEFAULT_PACKAGE):
        if name and is_package_name(name) and not (parent / name).exists():
            return name, reason
    cleaned = re.sub(r"\W+", "_", folder).strip("_")
    return (f"pkg_{cleaned}" if cleaned else "submission_package"), reason


def _install_package(files: Path, match: PackageMatch, name: str) -> Path:
    """Give the package folder its importable name; return the folder that holds it."""
    if not match.directory:
        loose = files.with_name("loose")
        files.rename(loose)
        files.mkdir()
        loose.rename(files / name)
        return files
    package = files / match.directory
    if package.name != name:
        package.rename(package.with_name(name))
    return package.parent


def _join(directory: str, rel: str) -> str:
    return f"{directory}/{rel}" if directory else rel


def _missing(files: Path, match: PackageMatch, expected: Mapping[str, str],
             from_notebooks: Mapping[str, str]) -> list[Finding]:
    findings = []
    everywhere = python_files(files)
    for prefix, rel in expected.items():
        if prefix in match.layout:
            continue
        if rel in from_notebooks:
            findings.append(Finding(
                FindingKind.MISSING_MODULE, from_notebooks[rel],
                f"{from_notebooks[rel]} is missing: the {prefix} tests will score 0. Submit the "
                "notebook you wrote your functions in.", prefix))
            continue
        path = _join(match.directory, rel)
        base = rel.rsplit("/", 1)[-1]
        elsewhere = [p for p in everywhere if p.rsplit("/", 1)[-1] == base]
        hint = f" (found {elsewhere[0]}; move it there)" if elsewhere else ""
        findings.append(Finding(
            FindingKind.MISSING_MODULE,
            path,
            f"{path} is missing{hint}: the {prefix} tests will score 0.",
            prefix,
        ))
    return findings


def _listing(files: Path, limit: int = 5) -> str:
    """What a submission holds, as a few names a student recognises."""
    names = sorted("/".join(p.relative_to(files).parts) for p in files.rglob("*")
                   if p.is_file() and not is_junk(p.relative_to(files).parts))
    shown = ", ".join(names[:limit])
    return shown + (f" and {len(names) - limit} more" if len(names) > limit else "")


def _no_package(files: Path, expected: Mapping[str, str], package_name: str | None,
                from_notebooks: Mapping[str, str]) -> Finding:
    """Why nothing can be graded: nothing was sent, only notebooks, or no homework module."""
    package = f"{package_name or 'homework'} package folder"
    if from_notebooks:  # the course's code is written in notebooks: ask for those
        package = " and ".join(sorted(set(from_notebooks.values())))
    if not any(p.is_file() for p in files.rglob("*")):
        return Finding(
            FindingKind.EMPTY_SUBMISSION,
            ".",
            f"The submission is empty: it holds no files, so nothing was graded. Submit your "
            f"{package} and your notebooks.",
        )
    notebooks = sorted(
        "/".join(p.relative_to(files).parts) for p in files.rglob("*.ipynb")
        if not is_junk(p.relative_to(files).parts)
    )
    if notebooks and from_notebooks:
        return Finding(
            FindingKind.NO_PACKAGE,
            notebooks[0],
            f"None of the notebooks submitted ({', '.join(notebooks)}) is {package}, so nothing "
            f"was graded. Submit {package} with your functions in it.",
        )
    if notebooks:
        return Finding(
            FindingKind.NOTEBOOK_ONLY,
            notebooks[0],
            f"Only notebooks were submitted ({', '.join(notebooks)}), so nothing was graded: "
            f"the tests need your {package}. Submit it together with the notebooks.",
        )
    wanted = ", ".join(expected.values())
    return Finding(
        FindingKind.NO_PACKAGE,
        ".",
        f"No folder with the homework modules ({wanted}) was found, so nothing was graded; "
        f"the submission holds {_listing(files)}. Submit your whole {package}.",
    )


def _refused(source: Path, exc: UnpackError) -> Finding:
    """The finding for an upload that could not be unpacked at all."""
    if isinstance(exc, BadArchiveError):
        return Finding(
            FindingKind.CORRUPT_ARCHIVE,
            ".",
            f"{exc}, so nothing was graded: the upload may have been cut short or is not a "
            "zip file. Zip the folder again and resubmit it.",
        )
    return Finding(
        FindingKind.REFUSED_SUBMISSION,
        ".",
        f"The submission {source.name!r} was not unpacked, so nothing was graded: {exc}.",
    )


def load_submission(
    path: str | os.PathLike[str],
    workdir: str | os.PathLike[str],
    *,
    expected: Mapping[str, str] = CS231N_MODULES,
    package_name: str | None = None,
    limits: Limits | None = None,
    sid: str | None = None,
    from_notebooks: Mapping[str, str] | None = None,
) -> Submission:
    """Prepare the submission at ``path`` in ``workdir`` and describe it.

    ``expected`` is the pack's module map (prefix -> file inside the package);
    ``package_name`` is the course's package name, used only when the upload does not say
    (loose files, a folder whose name cannot be imported); ``sid`` is the submission's id in
    its batch (:func:`submission_ids`; default :func:`submission_id`); ``from_notebooks``
    maps module files the students write in a notebook to that notebook's name (the pack's
    ``[notebook_modules]``, :mod:`gradekit.submission.notebook_code`). Problems in the upload
    become findings; :class:`SubmissionError` means ``path`` is no submission at all.
    """
    source = Path(path).resolve()
    form = _form(source)
    sid = sid or submission_id(source)
    files = _working_copy(Path(workdir), sid, source) / "files"
    files.mkdir()
    try:
        findings = _unpack(source, form, files, Budget(limits or Limits()))
    except UnpackError as exc:
        shutil.rmtree(files)
        files.mkdir()
        return Submission(sid, source, files, None, {}, [_refused(source, exc)])
    findings.sort(key=lambda f: f.path)

    expected = dict(expected)
    if from_notebooks:
        findings += write_notebook_modules(files, expected, from_notebooks)
    match = find_package(files, expected)
    if match is None:
        findings.append(_no_package(files, expected, package_name, from_notebooks or {}))
        return Submission(sid, source, files, None, {}, findings)

    package_dir = files / match.directory
    parsed = parse_sources(package_dir, python_files(package_dir))
    findings += match.findings + _missing(files, match, expected, from_notebooks or {})
    findings += syntax_findings(parsed.errors, match.layout, match.directory)

    name, renamed = _package_name(files, match, imported_package(parsed.trees), package_name)
    if match.directory and renamed:
        findings.append(Finding(
            FindingKind.RENAMED_PACKAGE,
            match.directory,
            f"The folder {match.directory!r} was graded as package {name!r} because {renamed}; "
            f"name it {name} next time.",
        ))
    root = _install_package(files, match, name)
    modules = {prefix: f"{name}.{dotted(rel)}" for prefix, rel in match.layout.items()}
    return Submission(sid, source, root, name, modules, findings)
