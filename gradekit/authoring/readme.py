"""The README.md of a student release, written from the pack so that it cannot disagree with it.

A student opening the release should learn, without asking: what to write and where (read off
the solution markers by :func:`gradekit.authoring.release.student_work`), what the course
gives and what this version does not grade, how to install gradekit and run the visible
checks, and how the graders score the work (parts, hidden tests, the accuracy rubric, the
notebooks' time budgets, the conventions the grader assumes, the sandbox's limits).

The text is plain Markdown and depends only on the pack and the reference: the same pack gives
the same README, byte for byte, on any machine.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from importlib import metadata
from pathlib import Path
from typing import Any

from gradekit.authoring.release import placement, student_work, written_in_notebooks
from gradekit.packs import AssignmentPack

#: what the canonical optimizer state keys hold, for a version that names them otherwise
STATE_MEANINGS = {"m": "first moment", "v": "second moment", "cache": "squared-gradient average",
                  "velocity": "velocity", "t": "step count", "a": "second moment"}

#: ``[conventions] dropout_p`` in words
DROPOUT_P = {
    "keep": "`dropout_param['p']` is the probability of KEEPING a unit (inverted dropout "
            "scales kept units by `1 / p`)",
    "drop": "`dropout_param['p']` is the probability of DROPPING a unit (inverted dropout "
            "scales kept units by `1 / (1 - p)`)",
    "either": "`dropout_param['p']` may be read as the probability of keeping or of dropping "
              "a unit; the graders find out which your `dropout_forward` follows and grade it "
              "that way",
}

#: ``[limits]`` keys in words, with their unit
LIMITS = {
    "call_timeout": ("each call into your code", "s"),
    "submission_timeout": ("all the calls of one grading run together", "s"),
    "cpu_seconds": ("CPU time", "s"),
    "memory_mb": ("memory", "MB"),
    "disk_mb": ("files written (the working folder and /tmp together)", "MB"),
    "processes": ("processes and threads", ""),
}


def _code(names: Iterable[str]) -> str:
    return ", ".join(f"`{name}`" for name in names)


def _value(value: Any) -> str:
    """A toml value as Python writes it (``"none"`` is how a pack spells ``None``)."""
    if value == "none":
        return "None"
    return repr(value)


def _component(prefix: str, name: str) -> str:
    return f"{prefix}.{name.split('.')[0]}"


def _work(pack: AssignmentPack, course_root: Path) -> tuple[dict[str, list[str]], list[str]]:
    """The gaps to fill per release file, and those the version does not grade (component
    names): a stripped definition of an absent component is left out of the former."""
    notebooks = written_in_notebooks(pack)
    prefix_of = {notebooks.get(rel, where): rel.removesuffix(".py").replace("/", ".")
                 for rel, where in placement(pack).items()}
    absent = set(pack.absent_components)
    graded: dict[str, list[str]] = {}
    ungraded: list[str] = []
    for where, names in student_work(pack, course_root).items():
        for name in names:
            component = _component(prefix_of[where], name)
            if component in absent:
                ungraded += [component] * (component not in ungraded)
            else:
                graded.setdefault(where, []).append(name)
    return graded, ungraded


def _what_to_implement(pack: AssignmentPack, graded: Mapping[str, list[str]],
                       ungraded: list[str]) -> list[str]:
    lines = ["## What to implement", "",
             "Each gap in the starter code is marked `# TODO` and raises `NotImplementedError` "
             "until you fill it in. Write your code in these files:", ""]
    lines += [f"- `{where}`: {_code(names)}" for where, names in graded.items()]
    if ungraded:
        lines += ["", "The starter also has gaps for these, which this version does not grade: "
                      f"you may leave them as they are: {_code(ungraded)}."]
    if pack.notebooks:
        many = len(pack.notebooks) > 1
        lines += ["", f"Then work through the notebook{'s' * many} "
                      f"{_code(spec.path for spec in pack.notebooks)}: "
                      f"{'they call' if many else 'it calls'} this code, and the graders run "
                      f"{'them' if many else 'it'} too (see below)."]
        for spec in pack.notebooks:
            if spec.artifacts:
                lines.append(f"Keep the name{'s' * (len(spec.artifacts) > 1)} "
                             f"{_code(spec.artifacts)} in `{spec.path}`: the graders score the "
                             "model it holds when the notebook has run.")
    return lines


def _given(pack: AssignmentPack, graded: Mapping[str, list[str]],
           ungraded: list[str]) -> list[str]:
    files = placement(pack)
    lines = ["## What the course gives", ""]
    if pack.given_components:
        lines.append(f"- Already written in the starter, never charged to you: "
                     f"{_code(pack.given_components)}.")
    plain = [files[rel] for rel in pack.given if files[rel] not in graded]
    if plain:
        lines.append(f"- Files you need not change: {_code(plain)}. A file of these that your "
                     "submission lacks, or that Python cannot read, is graded from the "
                     "course's copy.")
    for rel in pack.pinned:
        lines.append(f"- `{files[rel]}` is always graded from the course's copy, whatever "
                     "yours holds.")
    others = [c for c in pack.absent_components if c not in ungraded]
    if pack.not_applicable or others:
        lines += ["", "Not graded in this version:", ""]
        lines += [f"- part `{part}`: {why}" for part, why in pack.not_applicable.items()]
        lines += [f"- {_code(others)}, in the starter as the course wrote them"] * bool(others)
    return lines


def _install_lines(install: str | None) -> list[str]:
    """How to install gradekit: the course's own command when the release was given one, else
    the version it was built with and how its source archive installs (gradekit is handed out
    by courses, not published on PyPI)."""
    from gradekit import __version__

    try:
        python = metadata.metadata("gradekit").get("Requires-Python") or ""
    except metadata.PackageNotFoundError:  # run from a source tree that was never installed
        python = ""
    needs = f" ({python.removeprefix('>=')} or newer)" if python.startswith(">=") else ""
    lines = ["## Setting up", "",
             f"Install gradekit {__version__}, the version this release was built with, into "
             f"the Python you run the notebooks with{needs}:", "", "```sh"]
    if install:
        lines += [f"python -m pip install {install}", "```"]
    else:
        lines += [f"python -m pip install gradekit-{__version__}.tar.gz", "```", "",
                  "gradekit is not on PyPI: your course hands out that source archive (or a "
                  "wheel for your system, installed the same way). The archive installs "
                  "anywhere; without a C compiler its fast conv and pool layers run on NumPy "
                  "instead of compiled code."]
    lines += ["", "`gradekit --version` then prints the version."]
    return lines


def _data_lines(pack: AssignmentPack) -> list[str]:
    """How to get the data the notebooks load, when the course gives the CIFAR-10 loaders."""
    if "data_utils.py" not in pack.given:
        return []
    from gradekit.data.registry import get_dataset

    cifar = get_dataset("cifar10")
    return ["", f"The notebooks load {cifar.title.split(' (')[0]} with `get_CIFAR10_data()` "
                f"from `{placement(pack)['data_utils.py']}`. Download it once with "
                f"`gradekit data fetch {cifar.name}` ({cifar.size}, into gradekit's cache "
                f"folder), or set `GRADEKIT_DATA` to a folder that holds `{cifar.folders[0]}/`; "
                "`gradekit data where` shows what gradekit finds."]


def _check_lines(pack: AssignmentPack) -> list[str]:
    first = pack.parts[0].name if pack.parts else "layers"
    return [
        "## Checking your work", "",
        "From this folder (the one holding `assignment.toml`):", "", "```sh",
        "gradekit check                # the visible tests: what fails, why, your visible points",
        f"gradekit check --part {first}  # only the tests of one part (repeat --part for more)",
        "gradekit check --notebooks    # also runs the notebooks as the graders do (slow: "
        "they train)",
        "```", "",
        "Inside a notebook of this folder, a cell runs the same checks and prints the same "
        "verdicts:", "", "```python", "import gradekit", "",
        f'gradekit.check("{first}")  # or gradekit.check() for every part', "```", "",
        "It grades the `.py` files as they are saved on disk, in a separate process, as "
        "`gradekit check` does: save your files first; what the kernel has already imported "
        "does not matter. It returns the result, so a cell can look at `result.tests`. Do not "
        "leave such cells in the notebooks you hand in: the graders run every cell.",
    ]


def _parts_lines(pack: AssignmentPack) -> list[str]:
    lines = ["## How you are graded", "", "| part | what it covers | points |",
             "| --- | --- | --- |"]
    lines += [f"| `{p.name}` | {p.title} | {p.points:g} |" for p in pack.parts]
    lines += [f"| `{part}` | not in this version: {why} | 0 |"
              for part, why in pack.not_applicable.items()]
    lines += [f"| total | | {pack.max_score:g} |", "",
              "A part's tests share its points. The visible tests in `tests/` compare your "
              "code with values recorded from the course's solution and with numerical "
              "gradients of your own code. The graders also run hidden tests, which are not "
              "in this release: passing every visible test is necessary, not sufficient, and "
              "the visible points `gradekit check` prints are not your grade. Code the course "
              "gives is never charged to you, and a bug costs the tests of the function it is "
              "in, not every test of the code built on it."]
    return lines


def _accuracy_lines(pack: AssignmentPack, course_root: Path) -> list[str]:
    accuracy = pack.data.get("accuracy", {})
    if pack.rubric is None and not pack.rubrics:
        return []
    from gradekit.harness.rubrics import make_rubric
    from gradekit.plugin_manager import create_plugin_manager

    pm = create_plugin_manager(course_root)
    models = [f"`{a}` of `{spec.path}`" for spec in pack.notebooks for a in spec.artifacts]
    lines = ["", "### Accuracy", "",
             f"The graders run your notebooks and score the models they leave "
             f"({', '.join(models) or 'none are named'}) on "
             f"{accuracy.get('held_out', 'images held out from the data your notebook reads')}"
             ": images whose labels your code never sees (the notebook's `X_test` then holds "
             "other images, and a warning says so)."]
    if pack.rubric is not None:
        rubric = make_rubric(pm, pack.rubric).description
        shown = (f"`{rubric}`, X being the accuracy in percent" if isinstance(pack.rubric, str)
                 else rubric)
        note = f". {accuracy['note'][0].upper()}{accuracy['note'][1:]}" if accuracy.get(
            "note") else ""
        lines += ["", f"Accuracy credit: {shown}, never below 0 nor above full credit{note}."]
    if pack.rubrics:
        lines += ["", "Further accuracy targets, each for one test:", ""]
    for name, spec in pack.rubrics.items():
        params = {k: v for k, v in spec.items() if k != "note"} if isinstance(spec, dict) else spec
        note = f"; {spec['note']}" if isinstance(spec, dict) and spec.get("note") else ""
        lines.append(f"- `{name}`: {make_rubric(pm, params).description}{note}")
    return lines


def _notebook_lines(pack: AssignmentPack) -> list[str]:
    if not pack.notebooks:
        return []
    lines = ["", "### Notebooks", "",
             "The graders run each notebook from the top, in a sandbox with no network, "
             "within these time budgets:", ""]
    lines += [f"- `{spec.path}`: {spec.cell_timeout:g} s per cell, {spec.timeout:g} s in all"
              for spec in pack.notebooks]
    lines += ["", "A cell that raises is reported and the next cells still run; a cell that "
                  "overruns is interrupted, and a notebook that overruns its whole budget stops "
                  "there. Train within the budget."]
    return lines


def _keyword_line(component: str, canonical: str, spec: Mapping[str, Any],
                  dropout_p: str) -> str:
    name = spec.get("as", canonical)
    where = f"`{component.rsplit('.', 1)[-1]}`"
    if spec.get("dropout"):
        reading = {"keep": "the probability of keeping a unit",
                   "drop": "the probability of dropping a unit (0: no dropout)",
                   "either": "the dropout probability, read as keep or drop as `p` is"}
        instead = f" instead of `{canonical}`" if name != canonical else ""
        text = f"{where} takes `{name}`{instead}: {reading.get(dropout_p, dropout_p)}"
    elif "values" in spec:
        shown = ", ".join(f"`{name}={_value(v)}` for `{canonical}={_value(k)}`"
                          for k, v in spec["values"].items())
        text = f"{where} takes `{name}` in place of `{canonical}`: {shown}"
    else:
        text = f"{where} takes `{name}`"
    if "only" in spec:
        text += (f"; only `{canonical}=" + f"`, `{canonical}=".join(
            _value(v) for v in spec["only"]) + "` is graded")
    return f"- {text}"


def _convention_lines(pack: AssignmentPack) -> list[str]:
    conventions = pack.conventions
    lines = ["", "### Conventions", "",
             "The graders call your code this way; where a docstring of the starter says "
             "otherwise, this list is right for this version:", ""]
    dropout_p = conventions.get("dropout_p", "keep")
    absent = set(pack.absent_components)
    # the CS231n layer and update-rule conventions, for packs whose modules have them
    if "layers" in pack.modules and "layers.dropout_forward" not in absent:
        lines.append(f"- dropout: {DROPOUT_P[dropout_p]}")
    first_t = conventions.get("adam_first_t", 0)
    if "optim" in pack.modules and "optim.adam" not in absent:
        lines.append(f"- Adam: when `config` has no `t`, it starts at {first_t} and is "
                     "incremented before the bias correction, so the first step uses "
                     f"`t = {first_t + 1}`")
    for rule, keys in conventions.get("state_keys", {}).items():
        shown = ", ".join(f"the {STATE_MEANINGS.get(k, k)} as `config['{v}']`"
                          for k, v in keys.items())
        lines.append(f"- `{rule}` keeps {shown}")
    for component, keywords in conventions.get("keywords", {}).items():
        lines += [_keyword_line(component, canonical, spec, dropout_p)
                  for canonical, spec in keywords.items()]
    if conventions.get("shapes") == "lenient":
        lines.append("- shapes: a `(1, D)` result where `(D,)` is expected passes, as the "
                     "notebooks' `rel_error` lets it")
    for key, what in (("regularization", "regularization"), ("weight_init", "weights")):
        if conventions.get(key):
            lines.append(f"- {what}: `{conventions[key]}`")
    return lines


def _limit_lines(pack: AssignmentPack) -> list[str]:
    if not pack.limits:
        return []
    lines = ["", "### Limits", "", "Your code runs in a sandbox with these limits; going over "
             "one costs the tests it hits, with a message saying which:", ""]
    for key, (what, unit) in LIMITS.items():
        if key in pack.limits:
            lines.append(f"- {what}: {pack.limits[key]:g}{' ' + unit if unit else ''}")
    return lines


def release_readme(pack: AssignmentPack, course_root: Path, *,
                   install: str | None = None) -> str:
    """The README.md of ``pack``'s student release; ``install`` is what ``pip install`` takes
    to install gradekit where the course publishes it (a URL, a wheel, ``gradekit==X``)."""
    graded, ungraded = _work(pack, course_root)
    intro = (f"This folder is the starter code of the assignment `{pack.name}`: the package "
             f"`{pack.package}/` with gaps for you to fill, "
             + (f"the notebook{'s' * (len(pack.notebooks) > 1)} "
                f"{_code(s.path for s in pack.notebooks)}, " if pack.notebooks else "")
             + "the visible tests in `tests/`, and `assignment.toml`, which tells `gradekit "
               "check` what to check. Submit the package"
             + (f" and the notebook{'s' * (len(pack.notebooks) > 1)}" if pack.notebooks else "")
             + " as your course says.")
    sections = [
        [f"# {pack.title}", "", *([pack.description, ""] if pack.description else []), intro],
        _what_to_implement(pack, graded, ungraded),
        _given(pack, graded, ungraded),
        _install_lines(install) + _data_lines(pack),
        _check_lines(pack),
        _parts_lines(pack) + _accuracy_lines(pack, course_root) + _notebook_lines(pack)
        + _convention_lines(pack) + _limit_lines(pack),
    ]
    return "\n\n".join("\n".join(section) for section in sections) + "\n"
