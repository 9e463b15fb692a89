"""Solution regions become stubs; broken markers are reported with their line."""

from pathlib import Path

import pytest

from gradekit.authoring.strip import StripError, has_solutions, strip_solutions, strip_source

SOURCE = '''\
import numpy as np


def relu_forward(x):
    """ReLU."""
    ### BEGIN SOLUTION
    out = np.maximum(x, 0)
    ### END SOLUTION
    return out, x


class Net:
    def loss(self, X):
        scores = None
        ### BEGIN SOLUTION
        ### STUB pass
        scores = X @ X.T
        ### END SOLUTION
        return scores
'''


def test_regions_become_not_implemented_stubs_named_after_their_function():
    stripped = strip_solutions(SOURCE)
    assert "np.maximum" not in stripped and "X @ X.T" not in stripped
    assert '    raise NotImplementedError("relu_forward: not implemented yet")' in stripped
    assert "        pass\n        return scores" in stripped
    assert 'NotImplementedError("Net.loss' not in stripped  # a STUB replaces the default
    assert not has_solutions(stripped) and has_solutions(SOURCE)


def test_stripped_code_runs_and_raises_not_implemented():
    namespace: dict = {}
    exec(compile(strip_solutions(SOURCE), "<starter>", "exec"), namespace)
    with pytest.raises(NotImplementedError, match="relu_forward"):
        namespace["relu_forward"](1)
    assert namespace["Net"]().loss(None) is None


@pytest.mark.parametrize(
    ("source", "message"),
    [
        ("### BEGIN SOLUTION\nx = 1\n", r"<source>:1: ### BEGIN SOLUTION is never closed"),
        ("x = 1\n### END SOLUTION\n", r"<source>:2: ### END SOLUTION without"),
        ("### BEGIN SOLUTION\n### BEGIN SOLUTION\n", r"<source>:2: nested"),
        ("if True:\n    ### BEGIN SOLUTION\n    ### STUB x = (\n    ### END SOLUTION\n",
         "not valid Python"),
    ],
)
def test_bad_markers_are_reported(source, message):
    with pytest.raises(StripError, match=message):
        strip_solutions(source)


def test_module_level_regions_disappear_and_solutions_can_be_kept():
    source = "import numpy\n### BEGIN SOLUTION\ndef _helper():\n    return 1\n### END SOLUTION\n"
    assert strip_solutions(source) == "import numpy\n"
    kept = strip_solutions(SOURCE, keep_solutions=True)
    assert "np.maximum(x, 0)" in kept and "### " not in kept and "pass" not in kept


def test_file_without_regions_is_unchanged():
    assert strip_solutions("x = 1\n") == "x = 1\n"


def test_method_stubs_are_named_with_their_class_and_helper_definitions_vanish():
    source = (
        "class Net:\n"
        "    def fit(self):\n"
        "        ### BEGIN SOLUTION\n"
        "        return self._step()\n"
        "        ### END SOLUTION\n"
        "\n"
        "    ### BEGIN SOLUTION\n"
        "    def _step(self):\n"
        "        return 1\n"
        "    ### END SOLUTION\n"
    )
    stripped = strip_solutions(source)
    assert 'raise NotImplementedError("Net.fit: not implemented yet")' in stripped
    assert "_step" not in stripped


def test_a_multi_line_stub_keeps_its_own_indentation():
    source = ("def f(xs):\n    ### BEGIN SOLUTION\n    ### STUB for x in xs:\n"
              "    ### STUB     pass\n    return sum(xs)\n    ### END SOLUTION\n")
    assert strip_solutions(source) == "def f(xs):\n    for x in xs:\n        pass\n"


def test_ipython_magics_are_allowed_where_the_caller_says_so():
    cell = "%cd CV7062610\n!python setup.py build_ext --inplace\n### BEGIN SOLUTION\nx = 1\n" \
           "### END SOLUTION\n"
    assert strip_solutions(cell, magics=True) == "%cd CV7062610\n" \
                                                 "!python setup.py build_ext --inplace\n"
    with pytest.raises(StripError, match="not valid Python"):
        strip_solutions(cell)
    continued = "print('%.3f'\n      % 0.5)\n"  # a continuation line's % is the operator
    with pytest.raises(StripError, match="not valid Python"):
        strip_solutions("print('%.3f'\n      % 0.5\n", magics=True)
    assert strip_solutions(continued, magics=True) == continued


def test_regions_of_the_components_a_version_gives_stay_solved():
    source = ("def softmax_loss(x):\n    ### BEGIN SOLUTION\n    return x\n    ### END SOLUTION\n"
              "\n\ndef relu(x):\n    ### BEGIN SOLUTION\n    return x\n    ### END SOLUTION\n")
    stripped = strip_solutions(source, keep=frozenset({"softmax_loss"}))
    assert "def softmax_loss(x):\n    return x\n" in stripped
    assert 'raise NotImplementedError("relu: not implemented yet")' in stripped


def test_a_gap_without_stubs_says_what_to_write_at_its_indentation():
    stripped = strip_solutions(SOURCE).splitlines()
    at = stripped.index('    raise NotImplementedError("relu_forward: not implemented yet")')
    assert stripped[at - 1] == "    # TODO: write this part of relu_forward"  # `return` follows
    whole = strip_solutions("def f(x):\n    ### BEGIN SOLUTION\n    return x\n"
                            "    ### END SOLUTION\n")
    assert whole == ("def f(x):\n    # TODO: implement f\n"
                     '    raise NotImplementedError("f: not implemented yet")\n')
    assert "TODO" not in strip_solutions(SOURCE).split("class Net")[1]  # a STUB says it all


def test_a_constructors_todo_names_the_attributes_the_solution_sets():
    source = ("class Net:\n    def __init__(self, reg, dims):\n        ### BEGIN SOLUTION\n"
              "        self.reg = reg\n        for d in dims:\n            self.hidden = d\n"
              "        self.params: dict = {}\n        self.reg += 0\n"
              "        ### END SOLUTION\n")
    lines = strip_solutions(source).splitlines()
    assert lines[2] == "        # TODO: implement Net.__init__ (set self.reg, self.params)"


def test_a_long_todo_is_wrapped_to_the_line_length():
    names = "".join(f"        self.attribute_number_{i} = {i}\n" for i in range(12))
    source = ("class Net:\n    def __init__(self):\n        ### BEGIN SOLUTION\n" + names
              + "        ### END SOLUTION\n")
    stripped = strip_solutions(source)
    todo = [ln for ln in stripped.splitlines() if ln.strip().startswith("#")]
    assert len(todo) > 1 and all(len(ln) <= 100 for ln in todo)
    assert todo[0].startswith("        # TODO: implement Net.__init__")
    assert all(ln.startswith("        #       self.") for ln in todo[1:])
    assert "self.attribute_number_11)" in todo[-1]


def test_vanished_regions_close_up_to_the_widest_gap_around_them():
    source = ("import numpy as np\n\n# --- section\n\n\n"
              "### BEGIN SOLUTION\ndef _a():\n    return 1\n### END SOLUTION\n\n\n"
              "### BEGIN SOLUTION\ndef _b():\n    return 2\n### END SOLUTION\n\n\n"
              "def public():\n    return 3\n\n\nclass Net:\n    def f(self):\n        return 1\n\n"
              "    ### BEGIN SOLUTION\n    def _g(self):\n        return 2\n"
              "    ### END SOLUTION\n\n\nx = 1\n")
    assert strip_solutions(source) == ("import numpy as np\n\n# --- section\n\n\n"
                                       "def public():\n    return 3\n\n\nclass Net:\n"
                                       "    def f(self):\n        return 1\n\n\nx = 1\n")


def test_keeping_solutions_only_drops_the_marker_lines():
    for path in sorted((Path(__file__).parents[2] / "reference" / "cs231n").rglob("*.py")):
        source = path.read_text(encoding="utf-8")
        markers = ("### BEGIN SOLUTION", "### END SOLUTION", "### STUB")
        expected = [ln for ln in source.splitlines() if not ln.strip().startswith(markers)]
        assert strip_solutions(source, keep_solutions=True).splitlines() == expected, path


def test_strip_source_names_the_definitions_left_for_students_in_file_order():
    source = ("def softmax(x):\n    ### BEGIN SOLUTION\n    return x\n    ### END SOLUTION\n\n\n"
              "### BEGIN SOLUTION\ndef _helper():\n    return 1\n### END SOLUTION\n\n\n"
              "class Net:\n    def loss(self):\n        ### BEGIN SOLUTION\n        return 1\n"
              "        ### END SOLUTION\n\n    def fit(self):\n        ### BEGIN SOLUTION\n"
              "        ### STUB pass\n        return 2\n        ### END SOLUTION\n")
    assert strip_source(source).stubbed == ("softmax", "Net.loss", "Net.fit")
    assert strip_source(source, keep=frozenset({"softmax"})).stubbed == ("Net.loss", "Net.fit")
    assert strip_source(source, keep_solutions=True).stubbed == ()
