"""The global NumPy random state: adopted only when it is a real MT19937 state."""

from __future__ import annotations

import numpy as np
import pytest

from gradekit.sandbox.rng import adopt, global_state


def test_a_real_state_is_adopted() -> None:
    np.random.seed(5)
    state = global_state()
    expected = np.random.randn(3)
    np.random.seed(6)
    assert adopt(state)
    assert np.array_equal(np.random.randn(3), expected)


@pytest.mark.parametrize("mangle", [
    lambda s: ("PCG64", *s[1:]),
    lambda s: (s[0], s[1][:10], *s[2:]),
    lambda s: (s[0], s[1].astype(np.int64), *s[2:]),
    lambda s: (*s[:2], 9999, *s[3:]),
    lambda s: (*s[:4], float("nan")),
    lambda s: s[:3],
    lambda s: "not a state",
])
def test_malformed_states_are_ignored(mangle) -> None:
    np.random.seed(7)
    before = global_state()
    assert not adopt(mangle(before))
    after = global_state()
    assert np.array_equal(after[1], before[1]) and after[2] == before[2]
