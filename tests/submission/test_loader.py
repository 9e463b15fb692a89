from pathlib import Path

import pytest
from submission_builders import (
    CS231N_FILES,
    make_zip,
    snapshot,
    symlink_info,
    write_package,
    zip_folder,
)

from gradekit.submission import (
    CS231N_MODULES,
    FindingKind,
    Limits,
    SubmissionError,
    load_submission,
)
from gradekit.submission.loader import MARKER, submission_id

FC_NETS = {k: v for k, v in CS231N_MODULES.items() if k != "classifiers.cnn"}


def kinds(submission) -> list[FindingKind]:
    return [f.kind for f in submission.findings]


def assert_importable_layout(submission) -> None:
    """Every mapped module is a file under ``root`` at the path its dotted name says."""
    for module in submission.modules.values():
        assert (submission.root / (module.replace(".", "/") + ".py")).is_file(), module


def test_folder_with_cs231n_package(tmp_path):
    write_package(tmp_path / "alice")
    sub = load_submission(tmp_path / "alice", tmp_path / "work")
    assert sub.id == "alice"
    assert sub.source == tmp_path / "alice"
    assert sub.package == "cs231n"
    assert sub.modules == {
        "layers": "cs231n.layers",
        "layer_utils": "cs231n.layer_utils",
        "optim": "cs231n.optim",
        "classifiers.fc_net": "cs231n.classifiers.fc_net",
        "classifiers.cnn": "cs231n.classifiers.cnn",
    }
    assert sub.findings == []
    assert sub.root == tmp_path / "work" / "alice" / "files"
    assert_importable_layout(sub)


def test_umass_cs682_nested_in_a_gradescope_upload_dir(tmp_path):
    upload = tmp_path / "submission"
    write_package(upload / "assignment2", "cs682",
                  ("layers.py", "layer_utils.py", "optim.py", "solver.py", "data_utils.py",
                   "gradient_check.py", "classifiers/fc_net.py"))
    (upload / "assignment2" / "FullyConnectedNets.ipynb").write_text("{}")
    sub = load_submission(upload, tmp_path / "work", expected=FC_NETS)
    assert sub.package == "cs682"
    assert sub.modules == {
        "layers": "cs682.layers",
        "layer_utils": "cs682.layer_utils",
        "optim": "cs682.optim",
        "classifiers.fc_net": "cs682.classifiers.fc_net",
    }
    assert sub.findings == []
    assert sub.root.name == "assignment2"
    assert (sub.root / "FullyConnectedNets.ipynb").is_file()
    assert_importable_layout(sub)


def test_ucla_nndl_layout(tmp_path):
    write_package(tmp_path / "hw4", "nndl", ("layers.py", "layer_utils.py", "fc_net.py",
                                             "optim.py", "layer_tests.py"))
    write_package(tmp_path / "hw4", "utils", ("data_utils.py", "gradient_check.py", "solver.py"))
    sub = load_submission(tmp_path / "hw4", tmp_path / "work", expected=FC_NETS)
    assert sub.package == "nndl"
    assert sub.modules["classifiers.fc_net"] == "nndl.fc_net"
    assert sub.modules["optim"] == "nndl.optim"
    assert sub.findings == []
    assert (sub.root / "utils" / "solver.py").is_file()
    assert_importable_layout(sub)


def test_cv7062610_package_with_its_extras(tmp_path):
    package = write_package(tmp_path / "a2", "CV7062610", (*CS231N_FILES, "fast_layers.py",
                            "solver.py", "data_utils.py", "gradient_check.py", "vis_utils.py",
                            "setup.py"))
    (package / "datasets").mkdir()
    (package / "datasets" / "get_datasets.sh").write_text("echo\n")
    sub = load_submission(tmp_path / "a2", tmp_path / "work")
    assert sub.package == "CV7062610"
    assert sub.modules["classifiers.cnn"] == "CV7062610.classifiers.cnn"
    assert sub.findings == []
    assert_importable_layout(sub)


def test_gradescope_upload_dir_holding_a_zip(tmp_path):
    write_package(tmp_path / "build", "cs231n")
    upload = tmp_path / "submission"
    upload.mkdir()
    zip_folder(tmp_path / "build", upload / "hw2.zip", under="assignment2")
    sub = load_submission(upload, tmp_path / "work")
    assert sub.package == "cs231n"
    assert sub.findings == []
    assert sub.root.parts[-2:] == ("hw2.zip", "assignment2")
    assert not (sub.root.parent.parent / "hw2.zip").is_file()
    assert_importable_layout(sub)


def test_gradescope_loose_files_are_wrapped_under_the_name_their_imports_use(tmp_path):
    upload = tmp_path / "submission"
    upload.mkdir()
    for name in ("layers.py", "layer_utils.py", "optim.py"):
        (upload / name).write_text("x = 1\n")
    (upload / "fc_net.py").write_text("from cs682.layers import *\nfrom cs682 import optim\n")
    sub = load_submission(upload, tmp_path / "work", expected=FC_NETS)
    assert sub.package == "cs682"
    assert sub.modules == {
        "layers": "cs682.layers",
        "layer_utils": "cs682.layer_utils",
        "optim": "cs682.optim",
        "classifiers.fc_net": "cs682.fc_net",
    }
    assert sub.findings == []
    assert_importable_layout(sub)


def test_loose_files_without_package_imports_take_the_course_name(tmp_path):
    upload = tmp_path / "submission"
    upload.mkdir()
    (upload / "layers.py").write_text("from .layer_utils import *\n")
    sub = load_submission(upload, tmp_path / "work", expected={"layers": "layers.py"},
                          package_name="nndl")
    assert sub.package == "nndl"
    assert sub.modules == {"layers": "nndl.layers"}
    assert_importable_layout(sub)


def test_a_folder_name_python_cannot_import_is_renamed_with_a_finding(tmp_path):
    write_package(tmp_path / "up", "cs231n (1)")
    sub = load_submission(tmp_path / "up", tmp_path / "work", package_name="cs231n")
    assert sub.package == "cs231n"
    assert kinds(sub) == [FindingKind.RENAMED_PACKAGE]
    assert "'cs231n (1)'" in sub.findings[0].message
    assert_importable_layout(sub)


def test_a_folder_renamed_against_its_own_imports_is_graded_under_the_imported_name(tmp_path):
    write_package(tmp_path / "up", "cs231n_final", fc_net="from cs231n.layers import *\n")
    sub = load_submission(tmp_path / "up", tmp_path / "work")
    assert sub.package == "cs231n"
    assert sub.modules["classifiers.fc_net"] == "cs231n.classifiers.fc_net"
    [finding] = sub.findings
    assert finding.kind is FindingKind.RENAMED_PACKAGE
    assert "import it as 'cs231n'" in finding.message
    assert_importable_layout(sub)


def test_imports_of_an_existing_sibling_package_do_not_rename(tmp_path):
    write_package(tmp_path / "up", "cs231n", ("layers.py",))
    write_package(tmp_path / "up", "cs231n_v2", fc_net="from cs231n.layers import *\n")
    sub = load_submission(tmp_path / "up", tmp_path / "work")
    assert sub.package == "cs231n_v2"
    assert sub.findings == []


def test_zip_submission_with_hostile_members_keeps_the_honest_parts(tmp_path):
    members = {f"cs231n/{rel}": "def f(x):\n    return x\n" for rel in CS231N_FILES}
    members |= {
        "../evil.py": "pwned",
        str(tmp_path / "absolute.py"): "pwned",
        symlink_info("cs231n/passwd.py"): "/etc/passwd",
    }
    archive = make_zip(tmp_path / "bob.zip", members)
    sub = load_submission(archive, tmp_path / "work")
    assert sub.id == "bob"
    assert sub.modules == {p: f"cs231n.{r[:-3].replace('/', '.')}"
                           for p, r in CS231N_MODULES.items()}
    assert kinds(sub) == [FindingKind.REFUSED_MEMBER] * 3
    assert {f.path for f in sub.findings} == {
        "../evil.py", str(tmp_path / "absolute.py"), "cs231n/passwd.py"}
    assert not (tmp_path / "evil.py").exists()
    assert not (tmp_path / "absolute.py").exists()
    assert not (sub.root / "cs231n" / "passwd.py").exists()


def test_zip_bomb_member_is_refused_and_the_code_still_loads(tmp_path):
    members = {f"cs231n/{rel}": "x = 1\n" for rel in CS231N_FILES}
    members["cs231n/best_model.npz"] = b"\0" * (8 * 1024 * 1024)
    sub = load_submission(make_zip(tmp_path / "carol.zip", members), tmp_path / "work")
    assert kinds(sub) == [FindingKind.REFUSED_MEMBER]
    assert "compression bomb" in sub.findings[0].message
    assert len(sub.modules) == 5


def test_too_many_files_refuses_the_whole_submission(tmp_path):
    members = {f"cs231n/{rel}": "x = 1\n" for rel in CS231N_FILES}
    members |= {f"data/{i}.txt": "" for i in range(20)}
    sub = load_submission(make_zip(tmp_path / "dave.zip", members), tmp_path / "work",
                          limits=Limits(max_files=10))
    assert sub.package is None and sub.modules == {}
    assert kinds(sub) == [FindingKind.REFUSED_SUBMISSION]
    assert "more than the 10 allowed" in sub.findings[0].message
    assert list(sub.root.iterdir()) == []


def test_a_missing_module_is_a_finding_with_its_prefix(tmp_path):
    files = tuple(f for f in CS231N_FILES if f != "optim.py")
    write_package(tmp_path / "erin", "cs231n", files)
    (tmp_path / "erin" / "optim.py").write_text("x = 1\n")
    sub = load_submission(tmp_path / "erin", tmp_path / "work")
    assert "optim" not in sub.modules
    [finding] = sub.findings
    assert (finding.kind, finding.path, finding.prefix) == (
        FindingKind.MISSING_MODULE, "cs231n/optim.py", "optim")
    assert finding.message == (
        "cs231n/optim.py is missing (found optim.py; move it there): "
        "the optim tests will score 0."
    )


def test_a_syntax_error_is_a_finding_with_the_line(tmp_path):
    write_package(tmp_path / "frank", "cs231n",
                  layers="def affine_forward(x, w, b):\n    out = x.dot(w) +\n")
    sub = load_submission(tmp_path / "frank", tmp_path / "work")
    assert sub.modules["layers"] == "cs231n.layers"  # still mapped; its tests fail with a reason
    [finding] = sub.findings
    assert (finding.kind, finding.prefix, finding.line) == (
        FindingKind.SYNTAX_ERROR, "layers", 2)
    assert finding.message.startswith("cs231n/layers.py line 2: invalid syntax")


def test_two_candidate_packages_give_an_ambiguity_finding(tmp_path):
    write_package(tmp_path / "gina", "cs231n")
    write_package(tmp_path / "gina", "cs231n_old")
    sub = load_submission(tmp_path / "gina", tmp_path / "work")
    assert sub.package == "cs231n"
    assert kinds(sub) == [FindingKind.AMBIGUOUS_PACKAGE]


def test_notebook_only_submission(tmp_path):
    notebook = tmp_path / "FullyConnectedNets.ipynb"
    notebook.write_text('{"cells": []}')
    sub = load_submission(notebook, tmp_path / "work", package_name="cs682")
    assert (sub.package, sub.modules) == (None, {})
    assert kinds(sub) == [FindingKind.NOTEBOOK_ONLY]
    assert "cs682" in sub.findings[0].message
    assert (sub.root / notebook.name).read_text() == '{"cells": []}'


def test_an_upload_dir_with_only_notebooks_is_notebook_only(tmp_path):
    upload = tmp_path / "submission"
    (upload / ".ipynb_checkpoints").mkdir(parents=True)
    (upload / ".ipynb_checkpoints" / "BatchNorm-checkpoint.ipynb").write_text("{}")
    (upload / "BatchNorm.ipynb").write_text("{}")
    (upload / "Dropout.ipynb").write_text("{}")
    sub = load_submission(upload, tmp_path / "work")
    assert (sub.package, sub.modules) == (None, {})
    [finding] = sub.findings
    assert finding.kind is FindingKind.NOTEBOOK_ONLY
    assert "(BatchNorm.ipynb, Dropout.ipynb)" in finding.message


def test_an_unreadable_zip_in_an_upload_dir_is_left_out_not_fatal(tmp_path):
    upload = tmp_path / "submission"
    write_package(upload)
    (upload / "backup.zip").write_text("truncated upload")
    (upload / "._backup.zip").write_bytes(b"\0\5\26\7")  # macOS resource fork
    sub = load_submission(upload, tmp_path / "work")
    assert sub.package == "cs231n" and len(sub.modules) == 5
    [finding] = sub.findings
    assert (finding.kind, finding.path) == (FindingKind.REFUSED_MEMBER, "backup.zip")
    assert "not a readable zip archive" in finding.message


def test_a_folder_without_the_package_says_so_once(tmp_path):
    (tmp_path / "hank").mkdir()
    (tmp_path / "hank" / "answers.txt").write_text("42")
    sub = load_submission(tmp_path / "hank", tmp_path / "work")
    assert (sub.package, sub.modules) == (None, {})
    assert kinds(sub) == [FindingKind.NO_PACKAGE]


@pytest.mark.parametrize("name", ["missing", "report.pdf"])
def test_a_path_that_is_no_submission_raises(tmp_path, name):
    if name.endswith(".pdf"):
        (tmp_path / name).write_bytes(b"%PDF-1.4")
    with pytest.raises(SubmissionError, match=r"folder, .*zip.*ipynb"):
        load_submission(tmp_path / name, tmp_path / "work")


def test_ids_are_sanitised_stable_and_distinct():
    assert submission_id(Path("/x/alice.zip")) == "alice"
    assert submission_id(Path("/autograder/submission")) == "submission"
    messy = submission_id(Path("/x/Jane Doe (2).zip"))
    assert messy.startswith("Jane-Doe-2-") and messy == submission_id(Path("/y/Jane Doe (2).zip"))
    assert submission_id(Path("/x/Jane_Doe_2.zip")) != messy
    assert submission_id(Path("/x/...zip")).startswith("submission-")


def test_reloading_replaces_the_previous_copy(tmp_path):
    write_package(tmp_path / "ivy")
    first = load_submission(tmp_path / "ivy", tmp_path / "work")
    (first.root / "stale.txt").write_text("old")
    second = load_submission(tmp_path / "ivy", tmp_path / "work")
    assert second.root == first.root
    assert not (second.root / "stale.txt").exists()
    assert (tmp_path / "work" / "ivy" / MARKER).is_file()


def test_a_foreign_folder_in_the_workdir_is_never_deleted(tmp_path):
    write_package(tmp_path / "jo")
    (tmp_path / "work" / "jo").mkdir(parents=True)
    (tmp_path / "work" / "jo" / "thesis.tex").write_text("precious")
    with pytest.raises(SubmissionError, match="not made by gradekit"):
        load_submission(tmp_path / "jo", tmp_path / "work")
    assert (tmp_path / "work" / "jo" / "thesis.tex").read_text() == "precious"


def test_two_submissions_with_the_same_id_never_overwrite_each_other(tmp_path):
    write_package(tmp_path / "a" / "submission")
    write_package(tmp_path / "b" / "submission", "cs682")
    first = load_submission(tmp_path / "a" / "submission", tmp_path / "work")
    with pytest.raises(SubmissionError, match="separate work dirs"):
        load_submission(tmp_path / "b" / "submission", tmp_path / "work")
    assert (first.root / "cs231n" / "layers.py").is_file()


def test_a_workdir_inside_the_submission_is_refused(tmp_path):
    write_package(tmp_path / "kim")
    with pytest.raises(SubmissionError, match="overlaps"):
        load_submission(tmp_path / "kim", tmp_path / "kim" / "work")


def test_nothing_outside_workdir_is_written_and_no_code_runs(tmp_path):
    """Hostile zip and folder side by side: only ``work/`` changes, and a module that would
    write a file when imported never gets the chance."""
    planted = tmp_path / "imported.txt"
    payload = f"open({str(planted)!r}, 'w').write('ran')\n"
    write_package(tmp_path / "folder", "cs231n", layers=payload)
    (tmp_path / "folder" / "cs231n" / "link.py").symlink_to("/etc/passwd")
    archive = make_zip(tmp_path / "zipped.zip", {
        "cs231n/layers.py": payload,
        "../escaped.py": "pwned",
        "../../escaped2.py": "pwned",
        str(tmp_path / "absolute.py"): "pwned",
        symlink_info("cs231n/optim.py"): "/etc/passwd",
    })
    before = snapshot(tmp_path)
    for source in (tmp_path / "folder", archive):
        load_submission(source, tmp_path / "work")
    after = {k: v for k, v in snapshot(tmp_path).items() if not k.startswith("work")}
    assert after == before
    assert not planted.exists()
    assert not (tmp_path.parent / "escaped2.py").exists()
