"""The Gradescope autograder bundle, run as Gradescope runs it, in a simulated /autograder."""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
import sys
import zipfile
from importlib import resources
from pathlib import Path

import jsonschema
import pytest

from gradekit.authoring.gradescope import build_bundle
from gradekit.authoring.release import build_starter
from gradekit.course import find_course_root
from gradekit.packs import get_pack

COURSE = find_course_root()


def gradescope_schema() -> dict:
    schema = resources.files("gradekit.harness.reports") / "schemas/gradescope-results.schema.json"
    return json.loads(schema.read_text())


@pytest.fixture(scope="module")
def bundle(tmp_path_factory) -> Path:
    assert COURSE is not None
    return build_bundle(get_pack("fc_nets"), COURSE, tmp_path_factory.mktemp("ag") / "ag.zip")


def test_the_bundle_has_gradescopes_two_scripts_the_course_and_no_other_material(bundle):
    with zipfile.ZipFile(bundle) as archive:
        names = set(archive.namelist())
        modes = {i.filename: i.external_attr >> 16 for i in archive.infolist()}
        run = archive.read("run_autograder").decode()
    assert {"setup.sh", "run_autograder", "gradekit/pyproject.toml",
            "course/reference/__init__.py", "course/assignments/fc_nets/assignment.toml",
            "course/hidden_tests/fc_nets/test_fc_net.py"} <= names
    assert all(modes[n] & stat.S_IXUSR for n in ("setup.sh", "run_autograder"))
    assert not [n for n in names if n.startswith("course/hidden_tests/conv_nets")]
    assert not [n for n in names if n.startswith("course/reference/notebooks/conv_nets")]
    assert not [n for n in names if "__pycache__" in n or n.endswith(".so")]
    assert "--pack fc_nets" in run
    again = build_bundle(get_pack("fc_nets"), COURSE, bundle.with_name("again.zip"))
    assert again.read_bytes() == bundle.read_bytes()  # the same upload for the same material


HOSTILE = '''
import json as _json, os as _os
for _target in ({results!r}, "/autograder/results/results.json"):
    try:  # a student who knows where Gradescope reads the grade from
        with open(_target, "w") as _out:
            _json.dump({{"score": 1000000, "tests": []}}, _out)
    except OSError:
        pass
print(_json.dumps({{"score": 1000000}}))
'''


def run_autograder(bundle: Path, tmp: Path, submission: Path) -> dict:
    root = tmp / "autograder"
    with zipfile.ZipFile(bundle) as archive:
        archive.extractall(root / "source")
    shutil.copytree(submission, root / "submission")
    script = root / "source" / "run_autograder"
    script.chmod(0o755)
    env = dict(os.environ, GRADEKIT_AUTOGRADER_ROOT=str(root), GRADEKIT_PYTHON=sys.executable)
    env.pop("GRADEKIT_COURSE", None)
    run = subprocess.run([str(script), "--no-notebooks"], env=env, capture_output=True,
                         text=True, timeout=600)
    assert run.returncode == 0, run.stderr
    document = json.loads((root / "results" / "results.json").read_text())
    jsonschema.validate(document, gradescope_schema())
    return document


@pytest.mark.slow
@pytest.mark.parametrize("kind", ["correct", "starter", "hostile"])
def test_run_autograder_writes_a_valid_results_json_for_each_kind(bundle, tmp_path, kind):
    pack = get_pack("fc_nets")
    upload = tmp_path / "upload"
    package = build_starter(pack, COURSE, upload, keep_solutions=kind != "starter")
    if kind == "hostile":
        results = str(tmp_path / "autograder" / "results" / "results.json")
        with (package / "layers.py").open("a") as layers:
            layers.write(HOSTILE.format(results=results))
    document = run_autograder(bundle, tmp_path, upload)
    graded = sum(t["max_score"] for t in document["tests"]
                 if not t["name"].startswith("Best model"))
    if kind == "starter":
        assert document["score"] == 0
    else:  # every point but the accuracy test's, which needs the notebook run
        assert document["score"] == pytest.approx(graded) and document["score"] < 100
    assert all(t["visibility"] in ("hidden", "visible") for t in document["tests"])
    assert document["stdout_visibility"] == "hidden"
    # the pack's leaderboard column: the held-out accuracy, none measured without notebooks
    assert document["leaderboard"] == [{"name": "Held-out accuracy", "value": 0.0,
                                        "order": "desc"}]
