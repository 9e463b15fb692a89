import pytest

from gradekit import hookimpl
from gradekit.harness.rubrics import Rubric, formula, linear, make_rubric, threshold

SEED = "min(floor((X - 32%)) / 23%, 1)"


@pytest.mark.parametrize(
    ("accuracy", "credit"),
    [(0.31, 0.0), (0.32, 0.0), (0.50, 18 / 23), (0.549, 22 / 23), (0.55, 1.0), (0.80, 1.0)],
)
def test_seed_rubric_table(accuracy, credit):
    assert formula(SEED)(accuracy) == pytest.approx(credit)


def test_floating_point_percentages_floor_honestly():
    # 0.57 * 100 == 56.99999999999999; floor must still see 57 points
    assert formula("floor(X)")(0.57) == 1.0
    assert formula("floor(X) / 100")(0.57) == pytest.approx(0.57)


def test_never_below_zero_never_above_one():
    assert formula("X - 100")(0.2) == 0.0
    assert formula("X")(0.9) == 1.0


def test_threshold_and_linear():
    assert [threshold(50)(a) for a in (0.499, 0.5, 0.9)] == [0.0, 1.0, 1.0]
    assert [linear("32%", "55%")(a) for a in (0.2, 0.435, 0.6)] == pytest.approx([0, 0.5, 1])
    with pytest.raises(ValueError, match="zero < full"):
        linear(55, 32)


def test_accuracy_must_be_a_fraction():
    with pytest.raises(ValueError, match=r"for 56\.4% pass 0\.564"):
        threshold(50)(56.4)


def test_pack_specs_go_through_the_hook(make_pm):
    pm = make_pm("")
    assert make_rubric(pm, SEED)(0.5) == pytest.approx(18 / 23)
    assert make_rubric(pm, {"kind": "threshold", "at": 50})(0.5) == 1.0
    assert str(make_rubric(pm, {"kind": "linear", "zero": 32, "full": 55})) == \
        "linear from 32% to 55%"


def test_a_plugin_adds_a_rubric_kind(make_pm):
    class Steps:
        @hookimpl
        def gradekit_rubrics(self):
            return {"steps": lambda at: Rubric(f"steps at {at}", lambda x: (x >= at) / 2)}

    pm = make_pm("")
    pm.register(Steps(), name="course-rubrics")
    assert make_rubric(pm, {"kind": "steps", "at": 40})(0.45) == 0.5


def test_spec_errors_say_what_to_fix(make_pm):
    pm = make_pm("")
    with pytest.raises(ValueError, match="unknown rubric kind 'step'; declare one of formula"):
        make_rubric(pm, {"kind": "step"})
    with pytest.raises(ValueError, match=r"rubric 'threshold'.*check its parameters"):
        make_rubric(pm, {"kind": "threshold", "cutoff": 50})
