"""Resolution of component names from the impl / ref / mixed sources."""

import numpy as np
import pluggy
import pytest

from gradekit.components import Components, MissingComponent
from gradekit.plugin_manager import create_plugin_manager
from gradekit.providers import ModuleProvider


def _student_module(tmp_path, monkeypatch):
    pkg = tmp_path / "studentpkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "layers.py").write_text(
        "def relu_forward(x):\n    return 'student relu', None\n"
        "def _helper():\n    return None\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    return ModuleProvider("cs231n", {"layers": "studentpkg.layers"})


@pytest.fixture
def pm(tmp_path, monkeypatch) -> pluggy.PluginManager:
    manager = create_plugin_manager(entry_points=False)
    manager.register(_student_module(tmp_path, monkeypatch), name="submission:alice")
    return manager


def test_impl_sees_only_the_submission(pm):
    impl = Components(source="impl", pm=pm)
    assert impl.get("layers.relu_forward")(1)[0] == "student relu"
    with pytest.raises(MissingComponent, match=r"does not implement 'layers\.affine_forward'"):
        impl.get("layers.affine_forward")


def test_ref_ignores_the_submission(pm):
    ref = Components(source="ref", pm=pm)
    out, _ = ref.get("layers.relu_forward")(__import__("numpy").array([-1.0, 2.0]))
    assert out.tolist() == [0.0, 2.0]


def test_mixed_prefers_student_and_falls_back_to_reference(pm):
    mixed = Components(source="mixed", pm=pm)
    assert mixed.get("layers.relu_forward")(1)[0] == "student relu"
    assert mixed.get("layers.affine_forward").__module__ == "reference.cs231n.layers"


def test_named_plugin_source(pm):
    only_ref = Components(source="plugin:reference", pm=pm)
    assert only_ref.get("optim.adam").__module__ == "reference.cs231n.optim"
    with pytest.raises(MissingComponent):
        only_ref.get("fast_layers.conv_forward_fast")  # gradekit.provided gives it


def test_attribute_paths_and_short_names(pm):
    ref = Components(source="ref", pm=pm)
    assert ref.layers.affine_forward is ref.get("layers.affine_forward")
    assert ref.adam is ref.get("optim.adam")
    assert isinstance(ref.layers, object) and "layers" in repr(ref.layers)
    with pytest.raises(AttributeError, match="no component or namespace"):
        _ = ref.no_such_thing


def test_private_and_unknown_names_are_not_components(pm):
    impl = Components(source="impl", pm=pm)
    assert "layers._helper" not in impl.names()
    with pytest.raises(MissingComponent, match="no plugin knows"):
        impl.get("layers.not_a_layer")


def test_unknown_source_is_rejected():
    with pytest.raises(ValueError, match="unknown source"):
        Components(source="student")


def test_providers_only_answer_for_their_api(pm):
    other = Components(api="asu_mlp", source="ref", pm=pm).names()
    assert "layers.affine_forward" not in other
    assert "layers.affine_forward" in Components(source="ref", pm=pm).names()
    assert "solver.Solver" in other  # what courses are given serves every API


def test_isolated_never_grades_what_it_had_the_reference_answer_for(pm):
    from gradekit.sandbox.proxies import RemoteObject

    class Requester:
        def request(self, op, target, **fields):
            return None

    answered: set[str] = set()  # one grading run's, shared by its views
    isolated = Components(source="isolated", pm=pm, answered=answered)
    impl = Components(source="impl", pm=pm, answered=answered)
    isolated.raw = lambda name: RemoteObject(Requester(), name)  # as a sandboxed submission
    isolated.names = lambda: ["layers.affine_forward", "classifiers.fc_net.FullyConnectedNet"]
    net = isolated.get("classifiers.fc_net.FullyConnectedNet")
    isolated.get("layers.affine_forward")  # declared as a stand-in, never called: gradable
    standins = object.__getattribute__(net, "_client").standins
    standins["layers.affine_forward"](np.ones((1, 2)), np.ones((2, 3)), np.zeros(3))
    with pytest.raises(MissingComponent, match="stood in for by the reference") as raised:
        isolated.get("layers.affine_forward")
    assert not raised.value.known  # a mistake in the tests, not the student's
    with pytest.raises(MissingComponent, match="may replay its answers") as raised:
        impl.get("layers.affine_forward")
    assert not raised.value.known
