"""Plugin registration: built-ins, the course's reference, entry points, ordering."""

import importlib.metadata
from types import SimpleNamespace

import pytest

import gradekit
from gradekit.components import Components
from gradekit.course import find_course_root
from gradekit.plugin_manager import create_plugin_manager, load_reference


def test_builtins_and_reference_are_registered():
    pm = create_plugin_manager(entry_points=False)
    names = {name for name, _ in pm.list_name_plugin()}
    assert {"gradekit.provided", "reference", "gradekit.course-packs"} <= names


def test_reference_provides_every_graded_component():
    names = set(Components(source="ref", pm=create_plugin_manager(entry_points=False)).names())
    expected = {
        "layers.affine_forward", "layers.batchnorm_backward_alt", "layers.layernorm_forward",
        "layers.dropout_forward", "layers.conv_forward_naive", "layers.max_pool_backward_naive",
        "layers.spatial_batchnorm_forward", "layers.spatial_groupnorm_backward",
        "layer_utils.affine_relu_forward", "layer_utils.conv_relu_pool_backward",
        "optim.sgd", "optim.sgd_momentum", "optim.sgd_nesterov_momentum", "optim.rmsprop",
        "optim.adam", "gradient_check.eval_numerical_gradient", "gradient_check.rel_error",
    }
    assert expected <= names, sorted(expected - names)


def test_entry_point_plugins_are_loaded_and_asked_first(monkeypatch):
    class AltReference:
        @gradekit.hookimpl
        def gradekit_implementation(self, api, name):
            return "alternative" if name == "optim.adam" else None

    class FakeEntryPoint:
        name, group, value = "alt", "gradekit", "alt:plugin"

        def load(self):
            return AltReference()

    dist = SimpleNamespace(entry_points=[FakeEntryPoint()], metadata={"name": "alt-plugin"})
    monkeypatch.setattr(importlib.metadata, "distributions", lambda: [dist])
    pm = create_plugin_manager()
    assert pm.has_plugin("alt")
    ref = Components(source="ref", pm=pm)
    assert ref.get("optim.adam") == "alternative"
    assert ref.get("optim.sgd").__module__ == "reference.cs231n.optim"


def test_course_root_from_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("GRADEKIT_COURSE", str(tmp_path))
    with pytest.raises(FileNotFoundError, match="has no reference/ package"):
        find_course_root()
    (tmp_path / "reference").mkdir()
    (tmp_path / "reference" / "__init__.py").write_text("")
    assert find_course_root() == tmp_path.resolve()


def test_course_root_walks_up_from_the_working_directory(tmp_path, monkeypatch):
    monkeypatch.delenv("GRADEKIT_COURSE", raising=False)
    (tmp_path / "reference").mkdir()
    (tmp_path / "reference" / "__init__.py").write_text("")
    deep = tmp_path / "a" / "b"
    deep.mkdir(parents=True)
    assert find_course_root(deep) == tmp_path.resolve()


def test_a_second_reference_package_is_refused(tmp_path):
    other = tmp_path / "elsewhere"
    (other / "reference").mkdir(parents=True)
    (other / "reference" / "__init__.py").write_text("plugin = None\n")
    load_reference(find_course_root())  # the checkout's own reference is loaded
    with pytest.raises(ImportError, match="different 'reference' package"):
        load_reference(other)
