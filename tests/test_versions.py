"""A version's dialect: the canonical calls of the tests, in the version's own API."""

from __future__ import annotations

import numpy as np
import pytest

from gradekit.versions import Dialect, Keyword, NotInVersion, Version


def _net(*args, **kwargs):
    return kwargs


def _adam_ucla(w, dw, config=None):
    """A UCLA-keyed Adam: 'v' first moment, 'a' second; writes its state in place."""
    config = {} if config is None else config
    config.setdefault("t", 0)
    config["v"] = 0.9 * config.get("v", 0) + 0.1 * dw
    config["a"] = 0.999 * config.get("a", 0) + 0.001 * dw**2
    config["t"] += 1
    return w - config["v"], config


UCLA = Version(name="ucla", dropout_p="either",
               state_keys={"adam": {"m": "v", "v": "a"}},
               keywords={"classifiers.fc_net.FullyConnectedNet": {
                   "normalization": Keyword("use_batchnorm", {"none": False, "batchnorm": True}),
                   "dropout_keep_ratio": Keyword("dropout", dropout=True)}},
               given=frozenset({"layers.softmax_loss"}),
               absent=frozenset({"layers.layernorm_forward"}))


def test_keywords_are_translated_and_an_option_the_version_lacks_is_not_applicable():
    dialect = Dialect(UCLA, probe=lambda: "drop")
    build = dialect.student("classifiers.fc_net.FullyConnectedNet", _net)
    assert build([5], normalization="batchnorm", dropout_keep_ratio=0.75, reg=0.1) == {
        "use_batchnorm": True, "dropout": 0.25, "reg": 0.1}
    with pytest.raises(NotInVersion, match="normalization='layernorm' is not part of"):
        build([5], normalization="layernorm")


def test_the_dropout_reading_is_asked_once_and_only_when_the_version_allows_both():
    asked = []

    def probe():
        asked.append(1)
        return "keep"

    dialect = Dialect(UCLA, probe=probe)
    build = dialect.student("classifiers.fc_net.FullyConnectedNet", _net)
    assert build(dropout_keep_ratio=0.6)["dropout"] == 0.6
    build(dropout_keep_ratio=0.5)
    assert asked == [1]
    fixed = Dialect(Version(dropout_p="drop"), probe=probe)
    assert fixed.dropout_reading() == "drop" and asked == [1]


def test_state_keys_are_renamed_both_ways_including_in_place_writes():
    step = Dialect(UCLA).student("optim.adam", _adam_ucla)
    config = {"learning_rate": 1e-3, "m": np.ones(2), "v": np.full(2, 2.0), "t": 5}
    _, returned = step(np.zeros(2), np.ones(2), config)
    assert set(returned) == {"learning_rate", "m", "v", "t"}
    assert returned["m"] == pytest.approx(0.9 + 0.1) and returned["t"] == 6
    assert config["t"] == 6 and "a" not in config  # what it wrote, in the canonical names


def test_drop_probability_dropout_gets_one_minus_the_keep_share():
    seen = {}

    def forward(x, param):
        seen.update(param)
        return x, None

    call = Dialect(Version(dropout_p="drop")).student("layers.dropout_forward", forward)
    param = {"mode": "train", "p": 0.8}
    call(np.ones(3), param)
    assert seen["p"] == pytest.approx(0.2) and param["p"] == 0.8


def test_given_and_absent_components_are_not_graded():
    UCLA.check_available("layers.affine_forward", "impl")
    UCLA.check_available("layers.softmax_loss", "ref")  # a reference may still use it
    with pytest.raises(NotInVersion, match="given by the course"):
        UCLA.check_available("layers.softmax_loss", "impl")
    with pytest.raises(NotInVersion, match="not part of this version"):
        UCLA.check_available("layers.layernorm_forward", "ref")


def test_the_reference_follows_the_versions_first_adam_step():
    def adam(w, dw, config=None):
        return w, dict(config or {})

    step = Dialect(Version(adam_first_t=1)).reference("optim.adam", adam)
    assert step(0, 0)[1]["t"] == 1
    assert step(0, 0, {"t": 7})[1]["t"] == 7
    assert Dialect(Version()).reference("optim.adam", adam) is adam


@pytest.mark.parametrize(("conventions", "message"), [
    ({"dropout_p": "sometimes"}, "dropout_p must be one of"),
    ({"shapes": "loose"}, "shapes must be one of"),
    ({"keywords": {"C": {"x": 3}}}, "conventions.keywords.C.x must be"),
])
def test_a_malformed_convention_names_itself(conventions, message):
    class Pack:
        name, given_components, absent_components, data, not_applicable = "p", (), (), {}, {}
        modules, notebook_modules = {}, {}

    Pack.conventions = conventions
    with pytest.raises(ValueError, match=message):
        Version.of(Pack())


def test_a_dropout_stand_in_reads_p_as_the_students_own_layer_does():
    seen = []

    def forward(x, param):
        seen.append(param["p"])
        return x, None

    for declared, probed, handed in (("drop", "keep", 0.7), ("drop", "drop", 0.3),
                                     ("keep", "drop", 0.3), ("either", "keep", 0.7)):
        stand_in = Dialect(Version(dropout_p=declared), probe=lambda probed=probed: probed)
        stand_in.course("layers.dropout_forward", forward)(np.ones(2), {"p": 0.7})
        assert seen.pop() == pytest.approx(handed), (declared, probed)


def test_a_keyword_the_version_has_only_some_values_of():
    version = Version.of(type("Pack", (), {
        "name": "part1", "given_components": (), "absent_components": (), "data": {},
        "not_applicable": {}, "modules": {}, "notebook_modules": {},
        "conventions": {"keywords": {"classifiers.fc_net.FullyConnectedNet": {
            "normalization": {"only": ["none"]}, "dropout_keep_ratio": {"only": [1]}}}}})())
    build = Dialect(version).student("classifiers.fc_net.FullyConnectedNet", _net)
    # the option's one value is its absence: a constructor that predates the keyword works
    assert build([5], normalization=None, dropout_keep_ratio=1, reg=0.1) == {"reg": 0.1}
    with pytest.raises(NotInVersion, match=r"only has normalization=None"):
        build([5], normalization="batchnorm")
    with pytest.raises(NotInVersion, match=r"dropout_keep_ratio=0.5 is not part"):
        build([5], dropout_keep_ratio=0.5)
