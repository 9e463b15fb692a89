"""Telling an equivalent mutant from a survivor: the correct code runs beside it, call by call."""

from __future__ import annotations

import numpy as np
import pytest

from gradekit.authoring.validate.equivalence import Twin, _twin, same


@pytest.mark.parametrize(("a", "b", "expected"), [
    (np.arange(3.0), np.arange(3.0), True),
    (np.arange(3.0), np.arange(3.0).astype(np.float32), False),   # dtype matters
    (np.arange(3.0), np.arange(3.0).reshape(1, 3), False),         # shape matters
    (np.array([np.nan]), np.array([np.nan]), True),
    ({"W1": np.ones(2), "t": 1}, {"W1": np.ones(2), "t": 1}, True),
    ({"W1": np.ones(2)}, {"W1": np.ones(2), "t": 1}, False),
    ((1.0, [2, 3]), (1.0, [2, 3]), True),
    (1.0, 1.0 + 1e-16, True),
    (1.0, 1.0000001, False),
    (1, 1.0, False),
])
def test_outcomes_are_compared_exactly(a, b, expected):
    assert same(a, b) is expected


def _double(x):
    return 2 * x


def test_a_mutant_that_returns_the_same_on_every_call_is_equivalent():
    twin = Twin()
    wrapped = _twin(lambda x: x + x, _double, twin)
    for value in (np.ones(3), np.arange(4.0)):
        np.testing.assert_array_equal(wrapped(value), 2 * value)
    assert twin.equivalent and twin.calls == 2


def test_one_differing_call_is_enough_to_tell_them_apart():
    twin = Twin()
    wrapped = _twin(lambda x: np.maximum(x, 0) * 2, _double, twin)
    wrapped(np.ones(3))
    assert twin.equivalent
    wrapped(-np.ones(3))
    assert not twin.equivalent and twin.difference == "returned another value"


def test_writing_into_an_argument_is_a_difference():
    def in_place(x):
        x *= 2
        return x

    twin = Twin()
    _twin(in_place, _double, twin)(np.ones(3))
    assert twin.difference == "left its arguments (or object) in another state"


def test_other_random_draws_are_a_difference_and_the_mutants_draws_go_on():
    twin = Twin()
    wrapped = _twin(lambda n: np.random.rand(n + 1)[:n], lambda n: np.random.rand(n), twin)
    np.random.seed(0)
    wrapped(3)
    after = np.random.rand()
    np.random.seed(0)
    np.random.rand(4)
    assert after == np.random.rand()  # the run goes on as the mutant left the state
    assert twin.difference == "drew other random numbers"


def test_a_method_is_compared_on_a_copy_of_its_object_run_as_the_correct_class():
    class Correct:
        def __init__(self):
            self.scale = 3

        def loss(self, x):
            return self.scale * x

    class Mutant(Correct):
        def loss(self, x):
            self.scale += 1
            return 3 * x

    twin = Twin()
    Mutant.loss = _twin(Mutant.loss, Correct.loss, twin, Correct)
    model = Mutant()
    assert model.loss(2) == 6 and model.scale == 4
    assert twin.difference == "left its arguments (or object) in another state"


def _classes(extra: int):
    class Correct:
        def __init__(self, layers):
            self.params = {"W": np.arange(float(layers))}
            self.bn_params = [{} for _ in range(layers - 1)]

        def loss(self, x):
            return float(self.params["W"].sum() * x)

    class Mutant(Correct):
        def __init__(self, layers):
            self.params = {"W": np.arange(float(layers + extra))}
            self.bn_params = [{} for _ in range(layers + 1)]  # never read: no bug

    import weakref

    objects = weakref.WeakKeyDictionary()
    twin = Twin()
    Mutant.__init__ = _twin(Mutant.__init__, Correct.__init__, twin, Correct, objects)
    Mutant.loss = _twin(Correct.loss, Correct.loss, twin, Correct, objects)
    return Mutant, twin


def test_what_a_constructor_stores_counts_only_through_what_the_object_returns():
    harmless, twin = _classes(extra=0)
    model = harmless(3)
    assert model.loss(2.0) == 6.0 and model.loss(1.0) == 3.0
    assert twin.equivalent, twin.difference
    wrong, twin = _classes(extra=1)
    wrong(3).loss(2.0)
    assert twin.difference == "returned another value than the object the correct " \
                              "constructor built"


def test_an_object_the_test_changed_is_compared_on_its_own_state_only():
    wrong, twin = _classes(extra=1)
    model = wrong(3)
    model.params["W"] = np.arange(3.0)  # the test sets the weights itself
    model.loss(2.0)
    assert twin.equivalent, twin.difference


def test_no_call_means_no_verdict():
    assert not Twin().equivalent


def test_state_a_method_keeps_counts_through_what_later_calls_return():
    class Correct:
        def __init__(self):
            self.calls = 0

        def step(self, x):
            self.calls += 1
            return x * self.calls

    class Harmless(Correct):
        def step(self, x):
            self.scratch = x  # kept, never read
            self.calls += 1
            return x * self.calls

    import weakref

    objects, twin = weakref.WeakKeyDictionary(), Twin()
    Harmless.__init__ = _twin(Correct.__init__, Correct.__init__, twin, Correct, objects)
    Harmless.step = _twin(Harmless.step, Correct.step, twin, Correct, objects)
    model = Harmless()
    assert [model.step(2) for _ in range(3)] == [2, 4, 6]
    assert twin.equivalent, twin.difference
