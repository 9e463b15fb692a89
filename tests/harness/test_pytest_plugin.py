"""The plugin's markers, fixtures and outcome rules, each through a real pytest run."""

from __future__ import annotations

import time

import pytest

from gradekit.harness.pytest_plugin import TestTimeout, deadline, default_part
from gradekit.harness.session import TestSuiteError, run_tests

STUDENT = """
def scale(x):
    return 2.0 * x
"""


def outcomes(make_pm, write_tests, source, **options):
    folder = write_tests("test_graded.py", source)
    result = run_tests([folder], make_pm(STUDENT), **options)
    return {t.name.split("::")[1]: (t.status, t.score, t.message) for t in result.tests}


def test_timeout_marker_stops_a_slow_test(make_pm, write_tests):
    start = time.perf_counter()
    found = outcomes(make_pm, write_tests, """
        import time
        import pytest

        @pytest.mark.timeout(0.2)
        def test_slow():
            time.sleep(5)

        def test_fast():
            pass
    """)
    assert time.perf_counter() - start < 3
    assert found == {"test_slow": ("failed", 0.0, "timed out after 0.2 s"),
                     "test_fast": ("passed", 1.0, "")}


def test_default_timeout_applies_to_unmarked_tests(make_pm, write_tests):
    found = outcomes(make_pm, write_tests, """
        import time

        def test_slow():
            time.sleep(5)
    """, default_timeout=0.1)
    assert found == {"test_slow": ("failed", 0.0, "timed out after 0.1 s")}


def test_credit_rules(make_pm, write_tests):
    found = outcomes(make_pm, write_tests, """
        import pytest
        from gradekit.harness.rubrics import formula

        @pytest.mark.points(10)
        def test_full(credit):
            credit.award(1.0, "all of it")

        def test_none(credit):
            credit.award(0, "none of it")

        def test_last_award_counts(credit):
            credit.award(0.2)
            credit.award(0.75, "most")

        def test_award_then_fail(credit):
            credit.award(0.5)
            assert False, "later check failed"

        def test_out_of_range(credit):
            credit.award(1.5)

        @pytest.mark.points(23)
        def test_accuracy(credit):
            credit.award_accuracy(0.5, formula("min(floor((X - 32%)) / 23%, 1)"))
    """)
    assert found["test_full"] == ("passed", 10.0, "all of it")
    assert found["test_none"] == ("failed", 0.0, "none of it")
    assert found["test_last_award_counts"] == ("partial", 0.75, "most")
    assert found["test_award_then_fail"] == ("failed", 0.0, "later check failed")
    assert found["test_out_of_range"][:2] == ("error", 0.0)
    assert "credit must be a fraction between 0 and 1" in found["test_out_of_range"][2]
    status, score, message = found["test_accuracy"]
    assert (status, score) == ("partial", pytest.approx(18.0))
    assert message.startswith("accuracy 50.0% earns 78% of the points")


def test_skips_setup_errors_and_unknown_components(make_pm, write_tests):
    found = outcomes(make_pm, write_tests, """
        import pytest

        @pytest.fixture
        def broken():
            raise RuntimeError("fixture exploded")

        @pytest.fixture
        def needs_softmax(impl):
            return impl.get("layers.softmax")

        @pytest.mark.skip(reason="needs the GPU")
        def test_skipped():
            pass

        def test_fixture_error(broken):
            pass

        def test_missing_in_fixture(needs_softmax):
            pass

        def test_misspelt(impl):
            impl.get("layers.sclae")

        @pytest.mark.xfail(reason="known flaky")
        def test_xfail():
            assert False
    """)
    assert found["test_skipped"] == ("skipped", 0.0, "needs the GPU")
    assert found["test_fixture_error"] == ("error", 0.0,
                                           "in test setup: RuntimeError: fixture exploded")
    assert found["test_missing_in_fixture"] == ("failed", 0.0, "not implemented: layers.softmax")
    assert found["test_misspelt"][0] == "error"
    assert found["test_misspelt"][2].startswith("the test asks for an unknown component")
    assert found["test_xfail"] == ("skipped", 0.0, "expected to fail: known flaky")


def test_reference_and_mixed_views(make_pm, write_tests):
    found = outcomes(make_pm, write_tests, """
        import numpy as np

        def test_views(impl, ref, mixed):
            assert impl.source == "impl" and ref.source == "ref"
            assert mixed.layers.softmax(np.zeros((1, 2))).tolist() == [[0.5, 0.5]]
            assert impl.layers.scale is mixed.layers.scale is not ref.layers.scale
    """)
    assert found == {"test_views": ("passed", 1.0, "")}


@pytest.mark.parametrize(
    ("marker", "problem"),
    [
        ("points(-1)", "points needs a number >= 0, got -1"),
        ("points('two')", "points needs a number >= 0, got 'two'"),
        ("visibility('secret')", "visibility must be one of"),
        ("timeout(0)", "timeout needs a positive number of seconds"),
        ("part('a', 'b')", "part takes exactly one argument"),
    ],
)
def test_bad_markers_stop_the_run_with_the_reason(make_pm, write_tests, marker, problem):
    folder = write_tests("test_marked.py", f"""
import pytest

@pytest.mark.{marker}
def test_it():
    pass
""")
    with pytest.raises(TestSuiteError, match=r"test_marked\.py::test_it") as error:
        run_tests([folder], make_pm(STUDENT))
    assert problem in str(error.value)


def test_only_the_asked_visibilities_run(make_pm, write_tests):
    source = """
        import pytest

        def test_visible():
            pass

        @pytest.mark.visibility("hidden")
        def test_hidden():
            pass

        @pytest.mark.visibility("after_due_date")
        def test_later():
            pass
    """
    assert set(outcomes(make_pm, write_tests, source, visibility=("visible",))) == \
        {"test_visible"}
    assert set(outcomes(make_pm, write_tests, source, visibility=("hidden", "after_due_date"))) \
        == {"test_hidden", "test_later"}


def test_no_output_reaches_the_terminal(make_pm, write_tests, capfd):
    outcomes(make_pm, write_tests, """
        def test_noisy():
            print("student chatter")
    """)
    captured = capfd.readouterr()
    assert captured.out == "" and captured.err == ""


def test_deadline_outside_pytest():
    with pytest.raises(TestTimeout, match=r"timed out after 0\.05 s"), deadline(0.05):
        time.sleep(1)
    with deadline(None):
        time.sleep(0.01)


def test_default_part_strips_the_test_prefix(tmp_path):
    assert default_part(tmp_path / "test_layers.py") == "layers"
    assert default_part(tmp_path / "optim_test.py") == "optim"


def test_sandbox_errors_keep_their_student_facing_message(make_pm, write_tests):
    found = outcomes(make_pm, write_tests, """
        from gradekit.sandbox.errors import CallTimeout, StudentError, WorkerCrashed

        def test_student_raised():
            raise StudentError("ZeroDivisionError", "division by zero")

        def test_worker_crashed():
            raise WorkerCrashed("the worker was killed: out of memory")

        def test_call_timeout():
            raise CallTimeout("affine_forward did not return within 5 s")
    """)
    assert found == {
        "test_student_raised": ("error", 0.0, "ZeroDivisionError: division by zero"),
        "test_worker_crashed": ("error", 0.0, "the worker was killed: out of memory"),
        "test_call_timeout": ("failed", 0.0, "affine_forward did not return within 5 s"),
    }


def test_a_returned_fraction_is_the_credit(make_pm, write_tests):
    found = outcomes(make_pm, write_tests, """
        import numpy as np
        import pytest

        @pytest.mark.points(4)
        def test_quarter():
            return 0.25

        def test_numpy_scalar():
            return np.float64(1.0)

        def test_true_is_full_credit():
            return True

        def test_with_reason(credit):
            credit.award(1.0, "a reason")
            return 0.5

        def test_not_a_number():
            return "yes"

        def test_too_much():
            return 2
    """)
    assert found["test_quarter"] == ("partial", 1.0, "25% credit")
    assert found["test_numpy_scalar"] == ("passed", 1.0, "")
    assert found["test_true_is_full_credit"] == ("passed", 1.0, "")
    assert found["test_with_reason"] == ("partial", 0.5, "a reason")
    assert found["test_not_a_number"] == (
        "error", 0.0, "TypeError: the test returned a str; return a credit fraction between 0 "
        "and 1, or nothing")
    assert found["test_too_much"][0] == "error"
    assert "credit must be a fraction between 0 and 1, got 2.0" in found["test_too_much"][2]


def test_assertion_messages_without_pytest_noise(make_pm, write_tests):
    found = outcomes(make_pm, write_tests, """
        def double(x):
            return 2 * x + 1

        def test_plain_assert():
            assert double(2) == 4

        def test_custom_message():
            assert double(2) == 4, "double(2) should be 4"

        def test_bare_assertion_error():
            raise AssertionError
    """)
    assert found["test_plain_assert"][2].startswith("assert 5 == 4\n +  where 5 = ")
    assert found["test_custom_message"][2] == "double(2) should be 4"
    assert found["test_bare_assertion_error"][2] == "assertion failed at test_graded.py:12"


def test_deadline_keeps_an_enclosing_alarm_running():
    import signal

    fired = []
    previous = signal.signal(signal.SIGALRM, lambda *_: fired.append(True))
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.3)
        with deadline(5):
            time.sleep(0.05)
        remaining, _ = signal.getitimer(signal.ITIMER_REAL)
        assert 0 < remaining < 0.3  # restored, minus the time spent inside
        time.sleep(0.4)
        assert fired == [True]
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def test_the_pack_rubric_fixture(make_pm, write_tests):
    from gradekit.harness.rubrics import linear

    source = """
        import pytest

        @pytest.mark.points(10)
        def test_accuracy(credit, rubric):
            credit.award_accuracy(0.435, rubric)
    """
    found = outcomes(make_pm, write_tests, source, rubric=linear(32, 55))
    assert found["test_accuracy"][:2] == ("partial", pytest.approx(5.0))
    found = outcomes(make_pm, write_tests, source)
    assert found["test_accuracy"][0] == "error"
    assert "declares no accuracy rubric" in found["test_accuracy"][2]
