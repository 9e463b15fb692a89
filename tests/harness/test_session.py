"""End to end: a student package, a marked-up test module, run_tests, every outcome."""

from __future__ import annotations

import os
import sys

import numpy as np
import pytest

from gradekit.harness.session import TestSuiteError, run_tests

STUDENT = """
import numpy as np

def scale(x):
    return 2.0 * x

def relu(x):
    return np.abs(x)          # wrong for negative inputs

def divide(x):
    return x / 0 if x.ndim else 1 // 0
"""

TESTS = """
import numpy as np
import pytest

from gradekit.harness.checks import assert_rel_close

X = np.array([[-1.0, 0.5, 2.0], [3.0, -4.0, 0.0]])


@pytest.mark.points(2)
@pytest.mark.part("basics")
def test_scale(impl, ref):
    assert_rel_close(impl.layers.scale(X), ref.layers.scale(X), 1e-9, what="scale(X)")


@pytest.mark.points(3)
@pytest.mark.part("basics")
def test_relu(impl, ref):
    assert_rel_close(impl.layers.relu(X), ref.layers.relu(X), 1e-9, what="relu(X)")


def test_softmax(impl, ref):
    assert_rel_close(impl.layers.softmax(X), ref.layers.softmax(X), 1e-9)


@pytest.mark.points(4)
def test_half_credit(impl, credit):
    credit.award(0.5, "only the easy half")


def test_divide(impl):
    impl.layers.divide(np.float64(3.0))


@pytest.mark.visibility("hidden")
def test_hidden(mixed):
    assert mixed.layers.softmax(X).shape == X.shape
"""


@pytest.fixture
def graded(make_pm, write_tests):
    folder = write_tests("test_layers.py", TESTS)
    return run_tests([folder], make_pm(STUDENT), submission_id="alice", assignment="demo")


def by_name(result):
    return {t.name.split("::")[1]: t for t in result.tests}


def test_every_outcome_becomes_a_scored_result(graded):
    tests = by_name(graded)
    summary = {name: (t.status, t.score, t.max_score) for name, t in tests.items()}
    assert summary == {
        "test_scale": ("passed", 2.0, 2.0),
        "test_relu": ("failed", 0.0, 3.0),
        "test_softmax": ("failed", 0.0, 1.0),
        "test_half_credit": ("partial", 2.0, 4.0),
        "test_divide": ("error", 0.0, 1.0),
        "test_hidden": ("passed", 1.0, 1.0),
    }


def test_messages_say_what_went_wrong(graded):
    tests = by_name(graded)
    assert tests["test_scale"].message == ""
    assert tests["test_relu"].message.startswith("relu(X): relative error 1.0e+00 exceeds 1e-09")
    assert tests["test_softmax"].message == "not implemented: layers.softmax"
    assert tests["test_half_credit"].message == "only the easy half"
    assert tests["test_divide"].message == "ZeroDivisionError: integer division or modulo by zero"


def test_parts_visibility_and_totals(graded):
    tests = by_name(graded)
    assert tests["test_scale"].part == "basics"
    assert tests["test_softmax"].part == "layers"  # defaults to the module, minus test_
    assert tests["test_hidden"].visibility == "hidden"
    assert tests["test_scale"].name == "test_layers.py::test_scale"
    assert graded.parts["basics"].score == 2.0 and graded.parts["basics"].max_score == 5.0
    assert (graded.score, graded.max_score) == (5.0, 12.0)
    assert (graded.submission, graded.assignment) == ("alice", "demo")


def test_each_result_names_the_components_its_test_asked_the_submission_for(graded):
    tests = by_name(graded)
    assert tests["test_scale"].components == ("layers.scale",)
    assert tests["test_half_credit"].components == ()
    assert tests["test_hidden"].components == ()  # mixed: the reference may answer
    assert not tests["test_scale"].isolated


def test_a_run_can_stop_at_its_first_lost_point_and_run_chosen_tests_first(make_pm,
                                                                           write_tests):
    folder = write_tests("test_layers.py", TESTS)
    result = run_tests([folder], make_pm(STUDENT), stop_at_first_loss=True,
                       first=["test_layers.py::test_divide"])
    assert [t.name.split("::")[1] for t in result.tests] == ["test_divide"]


def test_a_run_can_leave_tests_out_and_skip_a_part_once_it_lost_points(make_pm,
                                                                       write_tests):
    folder = write_tests("test_layers.py", TESTS)
    result = run_tests([folder], make_pm(STUDENT), one_loss_per_part=True,
                       skip=["test_layers.py::test_hidden"])
    ran = by_name(result)
    assert "test_hidden" not in ran and "test_relu" in ran
    layers = [name for name, t in ran.items() if t.part == "layers"]
    assert layers == ["test_softmax"]  # the part lost there: its later tests did not run


def test_the_tests_of_a_part_the_version_cannot_grade_do_not_run(make_pm, write_tests):
    from gradekit.versions import Version

    folder = write_tests("test_layers.py", TESTS)
    result = run_tests([folder], make_pm(STUDENT),
                       version=Version(parts_not_graded=frozenset({"layers"})))
    assert result.tests and not [t for t in result.tests if t.part == "layers"]


def test_visible_only_run_leaves_hidden_tests_out(make_pm, write_tests):
    folder = write_tests("test_layers.py", TESTS)
    result = run_tests([folder], make_pm(STUDENT), visibility=("visible",))
    assert "test_hidden" not in by_name(result)
    assert len(result.tests) == 5


def test_declared_part_points_scale_the_part(make_pm, write_tests):
    folder = write_tests("test_layers.py", TESTS)
    result = run_tests([folder], make_pm(STUDENT), part_points={"basics": 10})
    assert result.parts["basics"].score == pytest.approx(4.0)  # 2 of 5 raw points
    assert result.parts["basics"].max_score == 10


def test_a_test_module_that_cannot_import_is_reported(make_pm, write_tests):
    folder = write_tests("test_broken.py", "import not_a_module_anywhere\n")
    with pytest.raises(TestSuiteError, match=r"cannot collect test_broken\.py"):
        run_tests([folder], make_pm(STUDENT))


def test_missing_test_folder_says_what_to_pass(make_pm, tmp_path):
    with pytest.raises(FileNotFoundError, match="pass the folders or files"):
        run_tests([tmp_path / "nope"], make_pm(STUDENT))


def test_each_run_reads_its_own_test_files(make_pm, write_tests):
    pm = make_pm(STUDENT)
    first = run_tests([write_tests("test_layers.py", "def test_first():\n    pass\n")], pm)
    second = run_tests([write_tests("test_layers.py", "def test_second():\n    pass\n")], pm)
    assert [t.name for t in first.tests] == ["test_layers.py::test_first"]
    assert [t.name for t in second.tests] == ["test_layers.py::test_second"]


SANDBOXED_STUDENT = """
import time
import numpy as np

def relu(x):
    return np.maximum(0, x)

def scale(x):
    time.sleep(3)
    return 2.0 * x
"""

SANDBOXED_TESTS = """
import numpy as np
import pytest

from gradekit.harness.checks import assert_rel_close

X = np.linspace(-1, 1, 12).reshape(3, 4)


@pytest.mark.timeout(0.5)
def test_scale(impl):
    impl.layers.scale(X)


def test_relu(impl, ref):
    assert_rel_close(impl.layers.relu(X), ref.layers.relu(X), 1e-12, what="relu(X)")


def test_relu_again(impl, ref):
    assert_rel_close(impl.layers.relu(-X), ref.layers.relu(-X), 1e-12, what="relu(-X)")
"""


@pytest.mark.parametrize("sandbox", ["none", "auto"])
@pytest.mark.filterwarnings("ignore::RuntimeWarning")  # no bubblewrap: plain subprocess
def test_through_the_sandbox_a_timeout_does_not_desynchronise_later_calls(
    make_pm, write_tests, tmp_path, sandbox
):
    from gradekit.sandbox import SubmissionPlugin, WorkerClient

    pm = make_pm("")
    pm.unregister(name="submission:alice")
    package = tmp_path / "upload" / "cs231n"
    package.mkdir(parents=True)
    (package / "__init__.py").touch()
    (package / "layers.py").write_text(SANDBOXED_STUDENT)
    with WorkerClient(package.parent, {"layers": "cs231n.layers"}, sandbox=sandbox) as client:
        SubmissionPlugin(client, "bob").register(pm)
        result = run_tests([write_tests("test_layers.py", SANDBOXED_TESTS)], pm)
    assert [(t.status, t.message) for t in result.tests] == [
        ("failed", "timed out after 0.5 s"), ("passed", ""), ("passed", "")]


def test_an_empty_selection_is_a_finding_not_an_error(make_pm, write_tests):
    folder = write_tests("test_layers.py", TESTS)
    pm = make_pm(STUDENT)
    result = run_tests([folder], pm, visibility="after_due_date")
    assert result.tests == [] and result.max_score == 0
    assert result.findings[0].kind == "tests"
    assert result.findings[0].message.startswith("no after_due_date tests found under ")


def test_ctrl_c_inside_the_tests_reaches_the_caller(make_pm, write_tests):
    folder = write_tests("test_stop.py", "def test_stop():\n    raise KeyboardInterrupt\n")
    with pytest.raises(KeyboardInterrupt):
        run_tests([folder], make_pm(STUDENT))


def test_a_starter_stub_reads_as_not_implemented(make_pm, write_tests):
    stub = 'def softmax(x):\n    raise NotImplementedError("softmax: not implemented yet")\n'
    student = STUDENT + "\n" + stub
    folder = write_tests("test_stub.py", "def test_softmax(impl):\n    impl.layers.softmax(1)\n")
    (result,) = run_tests([folder], make_pm(student)).tests
    assert (result.status, result.message) == ("failed", "not implemented: softmax")


DATASET_TESTS = """
def test_digits(dataset):
    data = dataset("digits", num_validation=100, num_test=100)
    assert data["X_train"].shape[1] == 64 and len(data["X_val"]) == 100
    assert dataset("digits", num_validation=100, num_test=100) is data  # loaded once

def test_missing(dataset):
    dataset("lost")

def test_unknown(dataset):
    dataset("no_such_set")
"""


def test_the_dataset_fixture_serves_registered_loaders(make_pm, write_tests):
    from gradekit import hookimpl

    class LostData:
        @hookimpl
        def gradekit_datasets(self):
            def lost(**options):
                raise FileNotFoundError("lost/ not found; run 'gradekit data fetch lost'")
            return {"lost": lost}

    pm = make_pm(STUDENT)
    pm.register(LostData())
    result = by_name(run_tests([write_tests("test_data.py", DATASET_TESTS)], pm))
    assert result["test_digits"].status == "passed"
    assert result["test_missing"].status == "error"
    assert "gradekit data fetch lost" in result["test_missing"].message
    assert "no data set 'no_such_set'" in result["test_unknown"].message


SHARED_TESTS = """
def test_counted(dataset):
    data = dataset("counted", size=3)
    assert not data["X"].flags.writeable  # no test changes what another reads
    assert data["X"].tolist() == [0.0, 1.0, 2.0]
"""


def test_a_data_set_loads_once_for_every_session_and_once_for_a_whole_batch(
        make_pm, tmp_path):
    from gradekit import hookimpl

    loads = []

    class Counted:
        @hookimpl
        def gradekit_datasets(self):
            def counted(size):
                loads.append(size)
                return {"X": np.arange(size, dtype=np.float64)}
            return {"counted": counted}

    folders = []
    for name in ("visible", "hidden"):  # two folders: two pytest sessions
        folder = tmp_path / name
        folder.mkdir()
        (folder / f"test_{name}.py").write_text(SHARED_TESTS)
        folders.append(folder)
    pm = make_pm(STUDENT)
    pm.register(Counted())
    [one, two] = run_tests(folders, pm).tests
    assert one.status == two.status == "passed", (one.message, two.message)
    assert loads == [3]
    shared = tmp_path / "batch-data"
    shared.mkdir()
    for _ in range(2):  # two submissions of a batch
        assert all(t.status == "passed" for t in run_tests(folders, pm,
                                                           shared_data=shared).tests)
    assert loads == [3, 3]


# -- nothing but the test folders configures pytest -------------------------------------

PLANTED = """
import pathlib

pathlib.Path({marker!r}).write_text("imported")


def pytest_collection_modifyitems(items):
    for item in items:  # every test would pass without running
        item.runtest = lambda: None
"""

EXPECTED = {"test_scale": "passed", "test_relu": "failed", "test_softmax": "failed",
            "test_half_credit": "partial", "test_divide": "error", "test_hidden": "passed"}


def _plant_conftest(here, plugins, marker, monkeypatch):
    (here / "conftest.py").write_text(PLANTED.format(marker=str(marker)))


def _plant_ini(here, plugins, marker, monkeypatch):
    (plugins / "planted.py").write_text(PLANTED.format(marker=str(marker)))
    (here / "pytest.ini").write_text("[pytest]\naddopts = -p planted -k test_scale\n")


def _plant_addopts(here, plugins, marker, monkeypatch):
    (plugins / "planted.py").write_text(PLANTED.format(marker=str(marker)))
    monkeypatch.setenv("PYTEST_ADDOPTS", "-p planted -k test_scale")


def _plant_plugins(here, plugins, marker, monkeypatch):
    (plugins / "planted.py").write_text(PLANTED.format(marker=str(marker)))
    monkeypatch.setenv("PYTEST_PLUGINS", "planted")


@pytest.mark.parametrize("plant", [_plant_conftest, _plant_ini, _plant_addopts, _plant_plugins],
                         ids=["cwd-conftest", "cwd-pytest-ini", "PYTEST_ADDOPTS", "PYTEST_PLUGINS"])
def test_the_working_directory_and_environment_do_not_configure_pytest(
    make_pm, write_tests, tmp_path, monkeypatch, plant
):
    here, plugins, marker = tmp_path / "here", tmp_path / "plugins", tmp_path / "loaded"
    here.mkdir()
    plugins.mkdir()
    monkeypatch.syspath_prepend(str(plugins))  # importable, as a real plugin would be
    monkeypatch.delitem(sys.modules, "planted", raising=False)
    plant(here, plugins, marker, monkeypatch)
    before = {k: v for k, v in os.environ.items() if k.startswith("PYTEST_")}
    monkeypatch.chdir(here)
    result = run_tests([write_tests("test_layers.py", TESTS)], make_pm(STUDENT))
    assert not marker.exists(), marker.read_text()
    assert {name: t.status for name, t in by_name(result).items()} == EXPECTED
    assert {k: v for k, v in os.environ.items() if k.startswith("PYTEST_")} == before


def test_conftests_load_from_the_test_folders_and_never_from_above(make_pm, tmp_path):
    # two test folders (a pack's and the hidden ones) with a planted conftest where they meet
    course, marker = tmp_path / "course", tmp_path / "loaded"
    (course / "visible").mkdir(parents=True)
    (course / "hidden").mkdir()
    (course / "conftest.py").write_text(PLANTED.format(marker=str(marker)))
    (course / "visible" / "test_visible.py").write_text(
        "def test_relu(impl):\n    assert impl.layers.relu(-1.0) == 0\n")
    (course / "hidden" / "conftest.py").write_text(
        "import pytest\n\n\n@pytest.fixture\ndef seed():\n    return 7\n")
    (course / "hidden" / "test_hidden.py").write_text(
        "def test_seeded(seed):\n    assert seed == 7\n")
    result = run_tests([course / "visible", course / "hidden"], make_pm(STUDENT))
    assert not marker.exists()
    assert {name: t.status for name, t in by_name(result).items()} == {
        "test_relu": "failed", "test_seeded": "passed"}  # the course's own conftest still works


def test_tests_with_stand_ins_run_after_every_other_test_of_every_session(make_pm, tmp_path):
    # a derived pack's hidden tests run before its base's: their isolated tests must still
    # wait for the base's tests of the components the reference may have answered for
    order = tmp_path / "order.txt"
    record = (f"def _seen(name):\n    with open({str(order)!r}, 'a') as f:\n"
              "        f.write(name + '\\n')\n")
    for folder, tests in (("derived", "isolated_net own_conv"),
                          ("base", "isolated_fc own_affine")):
        (tmp_path / folder).mkdir()
        body = record
        for test in tests.split():
            fixture = "isolated" if test.startswith("isolated") else "impl"
            body += f"\n\ndef test_{test}({fixture}):\n    _seen({test!r})\n"
        (tmp_path / folder / f"test_{folder}.py").write_text(body)
    result = run_tests([tmp_path / "derived", tmp_path / "base"], make_pm(STUDENT))
    assert {t.status for t in result.tests} == {"passed"}
    ran = order.read_text().split()
    assert set(ran[:2]) == {"own_conv", "own_affine"}
    assert set(ran[2:]) == {"isolated_net", "isolated_fc"}
