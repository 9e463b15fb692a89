from submission_builders import write_package

from gradekit.submission.findings import FindingKind
from gradekit.submission.loader import CS231N_MODULES
from gradekit.submission.package import (
    dotted,
    find_package,
    imported_package,
    is_package_name,
    python_files,
)
from gradekit.submission.syntax import parse_sources


def test_cs231n_layout_matches_exactly(tmp_path):
    write_package(tmp_path, "cs231n")
    match = find_package(tmp_path, CS231N_MODULES)
    assert match.directory == "cs231n"
    assert match.layout == CS231N_MODULES
    assert match.exact == 5
    assert match.findings == []


def test_ucla_nndl_layout_accepts_flattened_classifiers(tmp_path):
    write_package(tmp_path, "nndl", ("layers.py", "layer_utils.py", "fc_net.py", "optim.py",
                                     "layer_tests.py"))
    write_package(tmp_path, "utils", ("data_utils.py", "gradient_check.py", "solver.py"))
    match = find_package(tmp_path, CS231N_MODULES)
    assert match.directory == "nndl"
    assert match.layout == {
        "layers": "layers.py",
        "layer_utils": "layer_utils.py",
        "optim": "optim.py",
        "classifiers.fc_net": "fc_net.py",
    }
    assert match.exact == 3


def test_an_exact_path_beats_a_flattened_copy_in_the_same_package(tmp_path):
    write_package(tmp_path, "cs231n", ("classifiers/fc_net.py", "fc_net.py"))
    match = find_package(tmp_path, CS231N_MODULES)
    assert match.layout == {"classifiers.fc_net": "classifiers/fc_net.py"}


def test_the_folder_with_most_modules_wins_without_ambiguity(tmp_path):
    write_package(tmp_path / "a2", "cs682")
    write_package(tmp_path, "scratch", ("layers.py",))
    match = find_package(tmp_path, CS231N_MODULES)
    assert match.directory == "a2/cs682"
    assert match.findings == []


def test_tied_packages_are_flagged_and_chosen_deterministically(tmp_path):
    write_package(tmp_path / "old", "cs231n")
    write_package(tmp_path, "cs231n_backup")
    write_package(tmp_path, "cs231n")
    match = find_package(tmp_path, CS231N_MODULES)
    assert match.directory == "cs231n"  # shallowest first, then alphabetical
    [finding] = match.findings
    assert finding.kind is FindingKind.AMBIGUOUS_PACKAGE
    assert "'cs231n_backup'" in finding.message and "'old/cs231n'" in finding.message
    assert "'cs231n' was graded" in finding.message


def test_no_expected_file_means_no_package(tmp_path):
    write_package(tmp_path, "mycode", ("helpers.py",))
    assert find_package(tmp_path, CS231N_MODULES) is None


def test_python_files_skip_clutter(tmp_path):
    write_package(tmp_path, "cs231n", ("layers.py",))
    write_package(tmp_path / "cs231n", ".ipynb_checkpoints", ("layers.py",))
    assert python_files(tmp_path) == ["cs231n/__init__.py", "cs231n/layers.py"]


def test_imported_package_reads_the_students_own_imports(tmp_path):
    write_package(tmp_path, "loose", ("layers.py", "optim.py", "fc_net.py"),
                  fc_net="try:\n    from cs682.layers import *\nexcept ImportError:\n    pass\n"
                         "def build():\n    import cs682.optim\n    return 1 + 2\n"
                         "import numpy as np\nfrom . import layers\n")
    package = tmp_path / "loose"
    assert imported_package(parse_sources(package, python_files(package)).trees) == "cs682"


def test_imported_package_ignores_unrelated_imports(tmp_path):
    """``numpy.optim`` or ``json.layers`` are libraries the grader has, not the homework."""
    write_package(tmp_path, "loose", ("layers.py", "optim.py"),
                  layers="import numpy.linalg\nfrom numpy import optim\nimport json.layers\n")
    package = tmp_path / "loose"
    assert imported_package(parse_sources(package, python_files(package)).trees) is None


def test_names():
    assert dotted("classifiers/fc_net.py") == "classifiers.fc_net"
    assert is_package_name("CV7062610")
    assert not is_package_name("cs231n (1)")
    assert not is_package_name("class")
