"""A student release explains itself: its README and its starter code, read as a student."""

from __future__ import annotations

import ast
import re

import pytest

from gradekit.authoring.readme import release_readme
from gradekit.authoring.release import build_release
from gradekit.course import find_course_root
from gradekit.packs import get_pack

COURSE = find_course_root()
PACKS = ("fc_nets", "conv_nets", "cs231n_2017")


@pytest.fixture(scope="module", params=PACKS)
def release(request, tmp_path_factory):
    if COURSE is None:
        pytest.skip("needs the course repository")
    pack = get_pack(request.param)
    out = build_release(pack, COURSE, tmp_path_factory.mktemp(pack.name) / "release")
    return pack, out, (out / "README.md").read_text(encoding="utf-8")


def _starter_files(pack, out):
    return sorted((out / pack.package).rglob("*.py"))


def _stubs(path) -> list[tuple[str, int]]:
    """Dotted names of the definitions in ``path`` whose body raises NotImplementedError,
    with the line of that raise: read from the released file itself."""
    found = []

    def visit(node, prefix):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.ClassDef):
                visit(child, f"{prefix}{child.name}.")
            elif isinstance(child, ast.FunctionDef):
                for stmt in child.body:
                    if (isinstance(stmt, ast.Raise) and isinstance(stmt.exc, ast.Call)
                            and getattr(stmt.exc.func, "id", "") == "NotImplementedError"):
                        found.append((prefix + child.name, stmt.lineno))

    visit(ast.parse(path.read_text(encoding="utf-8")), "")
    return found


def test_the_readme_names_every_gap_of_the_starter_under_its_file(release):
    pack, out, readme = release
    absent = set(pack.absent_components)
    gaps = 0
    for path in _starter_files(pack, out):
        rel = path.relative_to(out).as_posix()
        prefix = path.relative_to(out / pack.package).with_suffix("").as_posix().replace("/", ".")
        line = next((ln for ln in readme.splitlines() if ln.startswith(f"- `{rel}`: ")), "")
        for name, _ in _stubs(path):
            gaps += 1
            if f"{prefix}.{name.split('.')[0]}" in absent:
                assert f"`{prefix}.{name.split('.')[0]}`" in readme
            else:
                assert f"`{name}`" in line, (rel, name)
    assert gaps > 10


def test_the_readme_lists_every_part_with_its_points_and_what_is_not_graded(release):
    pack, _, readme = release
    for part in pack.parts:
        assert f"| `{part.name}` | {part.title} | {part.points:g} |" in readme
    for part, why in pack.not_applicable.items():
        assert f"| `{part}` | not in this version: {why} | 0 |" in readme
    assert f"| total | | {pack.max_score:g} |" in readme
    for component in pack.absent_components:
        assert f"`{component}`" in readme
    for component in pack.given_components:
        assert f"`{component}`" in readme


def test_the_readme_says_how_to_install_check_and_how_grading_works(release):
    pack, _, readme = release
    for command in ("python -m pip install gradekit-0.1.0.tar.gz", "gradekit check ",
                    "gradekit check --notebooks", f'gradekit.check("{pack.parts[0].name}")',
                    "gradekit data fetch cifar10", "hidden tests"):
        assert command in readme
    accuracy = pack.data["accuracy"]
    assert accuracy["held_out"] in readme
    assert accuracy.get("note", "").lower() in readme.lower()
    for name, spec in pack.rubrics.items():
        assert f"- `{name}`: " in readme and spec.get("note", "") in readme
    for spec in pack.notebooks:
        assert f"`{spec.path}`: {spec.cell_timeout:g} s per cell, {spec.timeout:g} s in all" \
            in readme
    assert f"memory: {pack.limits['memory_mb']:g} MB" in readme
    assert not re.search(r"<[a-zA-Z/!][^>]*>", readme)  # plain Markdown, no HTML


def test_the_readme_states_the_versions_own_conventions():
    assert COURSE is not None
    canonical = release_readme(get_pack("fc_nets"), COURSE)
    assert "probability of KEEPING a unit" in canonical and "uses `t = 1`" in canonical
    old = release_readme(get_pack("cs231n_2017"), COURSE)
    assert "probability of DROPPING a unit" in old and "uses `t = 2`" in old
    assert "`use_batchnorm=True` for `normalization='batchnorm'`" in old
    assert "takes `dropout` instead of `dropout_keep_ratio`" in old
    ucla = release_readme(get_pack("ucla_hw4"), COURSE)
    assert "the first moment as `config['v']`, the second moment as `config['a']`" in ucla
    conv = release_readme(get_pack("conv_nets"), COURSE)
    assert "- dropout:" not in conv and "- Adam:" not in conv  # neither is graded there


def test_the_readme_is_deterministic_and_takes_the_courses_install_command():
    assert COURSE is not None
    pack = get_pack("conv_nets")
    assert release_readme(pack, COURSE) == release_readme(pack, COURSE)
    custom = release_readme(pack, COURSE, install="https://course.example/gradekit.tar.gz")
    assert "python -m pip install https://course.example/gradekit.tar.gz\n" in custom
    assert "gradekit-0.1.0.tar.gz" not in custom


def test_no_starter_file_speaks_of_the_reference(release):
    pack, out, readme = release
    for path in [*_starter_files(pack, out), *out.glob("*.ipynb")]:
        assert "reference" not in path.read_text(encoding="utf-8").lower(), path
    assert "reference" not in readme.lower()


def test_every_gap_has_a_todo_at_its_indentation_and_no_gap_is_blank(release):
    pack, out, _ = release
    for path in _starter_files(pack, out):
        lines = path.read_text(encoding="utf-8").splitlines()
        for name, line in _stubs(path):
            raise_line = lines[line - 1]
            indent = raise_line[: len(raise_line) - len(raise_line.lstrip())]
            above = line - 2
            while lines[above].startswith(indent + "#  "):  # a wrapped TODO's continuation
                above -= 1
            assert lines[above] == f"{indent}# TODO: implement {name}" or lines[
                above].startswith(f"{indent}# TODO: implement {name} ("), (path, name)
        assert "\n\n\n\n" not in "\n".join(lines), path
        compile("\n".join(lines), str(path), "exec")
