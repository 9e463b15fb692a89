"""``make demo``: the offline fallback, and the accuracy promised on the CIFAR-10 subset."""

import re
import runpy
from pathlib import Path

import platformdirs
import pytest

from gradekit.data.locate import find_dataset
from gradekit.data.registry import CIFAR10

DEMO = Path(__file__).resolve().parents[2] / "examples" / "demo.py"


def printed_test_accuracy(output: str) -> float:
    return float(re.search(r"test accuracy: (\d\.\d+)", output).group(1))


def run_demo(capsys) -> str:
    runpy.run_path(str(DEMO), run_name="__main__")
    return capsys.readouterr().out


def test_without_cifar_it_says_where_it_looked_and_trains_on_digits(
    tmp_path, monkeypatch, capsys
):
    monkeypatch.setenv("GRADEKIT_DATA", str(tmp_path / "empty"))
    monkeypatch.setattr(platformdirs, "user_cache_dir", lambda appname: str(tmp_path / appname))
    output = run_demo(capsys)
    assert str(tmp_path / "empty") in output
    assert "gradekit data fetch cifar10" in output
    assert "digits: 1297 train, 250 val, 250 test images" in output
    assert printed_test_accuracy(output) >= 0.9


@pytest.mark.slow
def test_on_cifar_it_reaches_at_least_40_percent(capsys):
    folder = find_dataset(CIFAR10)
    if folder is None:
        pytest.skip("CIFAR-10 not on the data search path; set GRADEKIT_DATA to run this")
    output = run_demo(capsys)
    assert f"CIFAR-10 ({folder})" in output
    assert printed_test_accuracy(output) >= 0.40
