"""Assignment packs: parsing assignment.toml, discovery, choosing one, helpful errors."""

import shutil
import zipfile
from pathlib import Path

import pytest

from gradekit.packs import (
    AssignmentPack,
    PackChoiceError,
    PackError,
    detect_pack,
    find_packs,
    get_pack,
    pack_fit,
    submission_files,
)
from gradekit.plugin_manager import create_plugin_manager

MINIMAL = """
title = "T"
api = "cs231n"
package = "cs231n"
[modules]
layers = "layers.py"
[[parts]]
name = "layers"
points = 10
"""


def test_the_fc_nets_pack_is_discovered_and_parsed():
    packs = find_packs(create_plugin_manager(entry_points=False))
    pack = packs["fc_nets"]
    assert pack.api == "cs231n" and pack.package == "cs231n"
    assert pack.modules["classifiers.fc_net"] == "classifiers/fc_net.py"
    assert pack.max_score == sum(p.points for p in pack.parts) > 0
    assert pack.conventions["dropout_p"] == "keep"
    assert pack.visible_tests.is_dir()


def test_minimal_pack(tmp_path):
    (tmp_path / "assignment.toml").write_text(MINIMAL)
    pack = AssignmentPack.load(tmp_path)
    assert pack.name == tmp_path.name and pack.part("layers").title == "layers"
    with pytest.raises(PackError, match="has no part 'optim'"):
        pack.part("optim")
    assert get_pack(str(tmp_path)).name == pack.name


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (MINIMAL.replace('api = "cs231n"\n', ""), "'api' must be a str"),
        (MINIMAL + '[[parts]]\nname = "layers"\npoints = 1\n', "part names must be unique"),
        ("title = ", "assignment.toml"),
    ],
)
def test_malformed_packs_name_the_problem(tmp_path, text, message):
    (tmp_path / "assignment.toml").write_text(text)
    with pytest.raises(PackError, match=message):
        AssignmentPack.load(tmp_path)


def test_unknown_pack_lists_the_available_ones():
    with pytest.raises(PackError, match=r"available: .*fc_nets"):
        get_pack("no_such_pack", create_plugin_manager(entry_points=False))


# -- choosing a pack: registered names, folders written as paths, detection by file names --

FC = {"layers": "layers.py", "layer_utils": "layer_utils.py", "optim": "optim.py",
      "classifiers.fc_net": "classifiers/fc_net.py"}
CNN = {"layers": "layers.py", "layer_utils": "layer_utils.py",
       "fast_layers": "fast_layers.py", "classifiers.cnn": "classifiers/cnn.py"}


def write_pack(folder: Path, modules: dict[str, str]) -> AssignmentPack:
    folder.mkdir(parents=True)
    table = "".join(f'"{prefix}" = "{rel}"\n' for prefix, rel in modules.items())
    (folder / "assignment.toml").write_text(
        MINIMAL.replace('layers = "layers.py"\n', table))
    return AssignmentPack.load(folder)


@pytest.fixture
def packs(tmp_path) -> list[AssignmentPack]:
    return [write_pack(tmp_path / "packs" / "fc", FC), write_pack(tmp_path / "packs" / "cnn", CNN)]


def submission(folder: Path, *files: str) -> Path:
    """A submission folder holding ``files`` (paths inside it), each a one-line module."""
    for rel in files:
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_text("x = 1\n")
    return folder


FC_WORK = ("cs231n/layers.py", "cs231n/optim.py", "cs231n/classifiers/fc_net.py")
CNN_WORK = ("cs231n/layers.py", "cs231n/fast_layers.py", "cs231n/classifiers/cnn.py",
            "cs231n/layer_utils.py")


def test_the_pack_whose_module_files_the_submission_holds_is_chosen(tmp_path, packs):
    fc = submission(tmp_path / "alice", *FC_WORK)
    cnn = submission(tmp_path / "bob", *CNN_WORK)
    assert detect_pack([fc], packs).name == "fc"
    assert detect_pack([cnn], packs).name == "cnn"


def test_an_exact_path_beats_a_flattened_module_of_the_same_name(tmp_path, packs):
    # both packs find layers.py and a file named like one of theirs; only cnn's sits at its path
    flat = submission(tmp_path / "carol", "cs231n/layers.py", "cs231n/fc_net.py",
                      "cs231n/classifiers/cnn.py")
    assert [pack_fit(p, submission_files(flat)) for p in packs] == [(2, 1), (2, 2)]
    assert detect_pack([flat], packs).name == "cnn"


def test_a_submission_fitting_two_packs_equally_is_a_usage_error(tmp_path, packs):
    shared = submission(tmp_path / "dave", "cs231n/layers.py", "cs231n/layer_utils.py")
    with pytest.raises(PackChoiceError, match="no pack's module files are in the submission, "
                                              "or several packs fit it equally well"):
        detect_pack([shared], packs)


def test_no_module_files_is_a_usage_error_that_lists_the_packs(tmp_path, packs):
    notebook_only = submission(tmp_path / "erin", "notes.py")
    (notebook_only / "FullyConnectedNets.ipynb").write_text("{}")
    with pytest.raises(PackChoiceError) as raised:
        detect_pack([notebook_only], packs)
    message = str(raised.value)
    assert "Pass --assignment NAME" in message
    assert "cnn: layers.py, layer_utils.py, fast_layers.py, classifiers/cnn.py" in message
    assert "fc: layers.py, layer_utils.py, optim.py, classifiers/fc_net.py" in message


def test_what_a_submission_says_about_itself_is_ignored(tmp_path, packs):
    # its own pack file claims the cnn assignment and its tests import cnn's modules
    fc = submission(tmp_path / "frank", *FC_WORK)
    (fc / "assignment.toml").write_text((packs[1].path / "assignment.toml").read_text())
    (fc / "tests").mkdir()
    (fc / "tests" / "conftest.py").write_text("from cs231n.classifiers.cnn import *\n")
    assert detect_pack([fc], packs).name == "fc"


def test_one_hostile_submission_cannot_switch_the_pack_of_a_batch(tmp_path, packs):
    honest = [submission(tmp_path / name, *FC_WORK) for name in ("gina", "hank", "ivy")]
    hostile = submission(tmp_path / "mallory", *CNN_WORK)  # shaped to fit the other pack
    assert detect_pack([hostile], packs).name == "cnn"
    assert detect_pack([*honest, hostile], packs).name == "fc"
    # next to a single honest submission it can only make the choice a tie, never cnn
    with pytest.raises(PackChoiceError, match=r"split between packs \(1 for \w+, 1 for \w+\)"):
        detect_pack([honest[0], hostile], packs)


def test_zipped_submissions_are_matched_by_their_member_names(tmp_path, packs):
    archive = tmp_path / "judy.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        for rel in CNN_WORK:
            zf.writestr(f"work/{rel}", "x = 1\n")
        zf.writestr("__MACOSX/work/cs231n/optim.py", "")
    upload = tmp_path / "upload"  # a Gradescope upload folder holding the zip
    upload.mkdir()
    shutil.copy(archive, upload / "submission.zip")
    assert sorted(submission_files(archive)) == sorted(f"work/{rel}" for rel in CNN_WORK)
    assert detect_pack([archive], packs).name == "cnn"
    assert detect_pack([upload], packs).name == "cnn"


def test_a_bare_name_never_means_a_folder_in_the_working_directory(tmp_path, monkeypatch):
    pm = create_plugin_manager(entry_points=False)
    registered = find_packs(pm)["fc_nets"]
    impostor = write_pack(tmp_path / "fc_nets", FC)
    monkeypatch.chdir(tmp_path)
    assert get_pack("fc_nets", pm).path == registered.path != impostor.path
    assert get_pack("./fc_nets", pm).path == impostor.path  # written as a path: that folder
    assert get_pack(str(impostor.path), pm).path == impostor.path
    write_pack(tmp_path / "mine", FC)
    with pytest.raises(PackChoiceError, match=r"write it as a path, \./mine"):
        get_pack("mine", pm)
    with pytest.raises(PackChoiceError, match=r"has no assignment\.toml"):
        get_pack("./nowhere", pm)


def _pack(folder: Path, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "assignment.toml").write_text(text)
    return folder


def test_a_version_merges_tables_replaces_arrays_and_inherits_tests(tmp_path):
    base = _pack(tmp_path / "base", MINIMAL + '[conventions]\ndropout_p = "keep"\n'
                 '[conventions.state_keys]\nadam = { m = "m" }\n')
    (base / "tests").mkdir()
    version = _pack(tmp_path / "v2", 'extends = "base"\ndescription = "year two"\n'
                    'package = "nndl"\n[conventions.state_keys]\nrmsprop = { cache = "a" }\n'
                    '[[parts]]\nname = "layers"\npoints = 4\n')
    pack = AssignmentPack.load(version)
    assert pack.name == "v2" and pack.extends == "base" and pack.family == "base"
    assert pack.package == "nndl" and pack.title == "T" and pack.description == "year two"
    assert pack.conventions["dropout_p"] == "keep"
    assert pack.conventions["state_keys"] == {"adam": {"m": "m"}, "rmsprop": {"cache": "a"}}
    assert pack.part_points == {"layers": 4.0}
    assert pack.visible_tests == base.resolve() / "tests"
    assert [name for name, _ in pack.lineage] == ["v2", "base"]


@pytest.mark.parametrize(("text", "message"), [
    ('extends = "base"\ntittle = "typo"\n', "unknown key 'tittle'"),
    ('extends = "base"\n[conventions]\ndropout = "keep"\n', "unknown key 'conventions.dropout'"),
    ('extends = "base"\n[[parts]]\nname = "x"\npoints = 1\nweight = 2\n',
     "unknown key 'parts.weight'"),
    ('extends = "nowhere"\n', "extends 'nowhere', but there is no pack"),
    ('extends = "../base"\n', "'extends' must name a pack beside it"),
    ('extends = "base"\n[waivers]\n"t.py::x" = 3\n', r"'\[waivers\]' maps a test"),
])
def test_a_mistake_in_a_version_names_the_key(tmp_path, text, message):
    _pack(tmp_path / "base", MINIMAL)
    with pytest.raises(PackError, match=message):
        AssignmentPack.load(_pack(tmp_path / "v", text))


def test_extends_in_a_circle_is_an_error(tmp_path):
    _pack(tmp_path / "a", 'extends = "b"\n' + MINIMAL)
    _pack(tmp_path / "b", 'extends = "a"\n')
    with pytest.raises(PackError, match="goes round in a circle"):
        AssignmentPack.load(tmp_path / "a")


def test_versions_of_one_family_tie_to_their_root_unless_the_package_names_one(tmp_path):
    packs = list(find_packs(create_plugin_manager(entry_points=False)).values())
    canonical = ["cs231n/layers.py", "cs231n/optim.py", "cs231n/classifiers/fc_net.py"]
    assert detect_pack([_files(tmp_path / "s", canonical)], packs).name == "fc_nets"
    cs682 = [f.replace("cs231n/", "cs682/") for f in canonical]
    assert detect_pack([_files(tmp_path / "t", cs682)], packs).name == "cs682"
    nndl = ["nndl/layers.py", "nndl/optim.py", "nndl/fc_net.py", "nndl/layer_utils.py"]
    assert detect_pack([_files(tmp_path / "u", nndl)], packs).name == "ucla_hw4"


def _files(folder: Path, names: list[str]) -> Path:
    for name in names:
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text("")
    return folder


def test_versions_that_tie_with_no_base_among_them_are_for_staff_to_choose(tmp_path):
    packs = [p for p in find_packs(create_plugin_manager(entry_points=False)).values()
             if p.name in ("cs231n_2017", "cs231n_2018")]
    canonical = ["cs231n/layers.py", "cs231n/optim.py", "cs231n/classifiers/fc_net.py"]
    with pytest.raises(PackChoiceError, match="several packs fit it equally well"):
        detect_pack([_files(tmp_path / "s", canonical)], packs)


def test_a_cs231n_submission_holding_cnn_py_is_not_the_conv_nets_course(tmp_path):
    packs = list(find_packs(create_plugin_manager(entry_points=False)).values())
    canonical = ["cs231n/layers.py", "cs231n/optim.py", "cs231n/classifiers/fc_net.py",
                 "cs231n/layer_utils.py", "cs231n/classifiers/cnn.py"]
    assert detect_pack([_files(tmp_path / "s", canonical)], packs).name == "fc_nets"
    course = [f.replace("cs231n/", "CV7062610/") for f in canonical]
    assert detect_pack([_files(tmp_path / "t", course)], packs).name == "conv_nets"


def test_a_pack_adding_to_its_base_runs_both_tests_a_nearer_module_replacing_the_base_s(
        tmp_path):
    base = _pack(tmp_path / "base", MINIMAL)
    for name in ("test_a.py", "test_b.py", "conftest.py"):
        _files(base / "tests", [name])
    version = _pack(tmp_path / "v", 'extends = "base"\n')
    _files(version / "tests", ["test_b.py", "test_c.py", "golden_cases.py"])
    pack = AssignmentPack.load(version)
    assert pack.visible_test_paths() == [version.resolve() / "tests",
                                         base.resolve() / "tests" / "test_a.py"]
    course = _files(tmp_path / "course" / "hidden_tests" / "base", ["test_h.py"])
    assert pack.hidden_test_paths(tmp_path / "course") == [course]
    assert AssignmentPack.load(base).visible_test_paths() == [base.resolve() / "tests"]


def test_not_applicable_parts_are_worth_nothing_and_pinned_files_must_be_given(tmp_path):
    _pack(tmp_path / "base", MINIMAL)
    pack = AssignmentPack.load(_pack(tmp_path / "v", 'extends = "base"\n[not_applicable]\n'
                                     'dropout = "part 2"\n[release]\ngiven = ["a.py"]\n'
                                     'pinned = ["a.py"]\n'))
    assert pack.part_points == {"layers": 10.0, "dropout": 0.0}
    assert pack.not_applicable == {"dropout": "part 2"} and pack.pinned == ("a.py",)
    with pytest.raises(PackError, match=r"'release\.pinned' may only name given files"):
        AssignmentPack.load(_pack(tmp_path / "w", 'extends = "base"\n[release]\n'
                                  'pinned = ["b.py"]\n'))
    with pytest.raises(PackError, match="not one of its"):
        AssignmentPack.load(_pack(tmp_path / "x", 'extends = "base"\n[not_applicable]\n'
                                  'layers = "declared as a part too"\n'))


def test_a_part_needing_a_framework_that_is_not_installed_is_not_applicable(tmp_path):
    text = MINIMAL + ('[[parts]]\nname = "keras"\npoints = 5\n'
                      'requires = ["numpy", "a_framework_nobody_installed"]\n'
                      '[[parts]]\nname = "numpy_only"\npoints = 3\nrequires = ["numpy"]\n')
    pack = AssignmentPack.load(_pack(tmp_path / "p", text))
    assert set(pack.not_applicable) == {"keras"}
    assert "a_framework_nobody_installed, which is not installed" in pack.not_applicable["keras"]
    assert pack.part_points == {"layers": 10.0, "keras": 0.0, "numpy_only": 3.0}
    assert pack.max_score == 13.0
    with pytest.raises(PackError, match="must be a list of module names"):
        AssignmentPack.load(_pack(tmp_path / "q", MINIMAL + '[[parts]]\nname = "k"\n'
                                  'points = 1\nrequires = "tensorflow"\n'))


def test_notebook_modules_must_map_a_module_of_the_pack_to_a_notebook(tmp_path):
    pack = AssignmentPack.load(_pack(tmp_path / "p", MINIMAL + '[notebook_modules]\n'
                                     '"layers.py" = "Layers.ipynb"\n'))
    assert pack.notebook_modules == {"layers.py": "Layers.ipynb"}
    for wrong in ('"optim.py" = "Layers.ipynb"', '"layers.py" = "layers.txt"'):
        with pytest.raises(PackError, match="notebook_modules"):
            AssignmentPack.load(_pack(tmp_path / "q", MINIMAL + f"[notebook_modules]\n{wrong}\n"))
