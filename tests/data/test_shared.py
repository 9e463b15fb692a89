"""Data sets shared by a batch's grading processes: loaded once, memory-mapped read-only."""

from __future__ import annotations

import multiprocessing
import time
from pathlib import Path

import numpy as np
import pytest

from gradekit.data.shared import load_shared


class CountingLoader:
    """A loader that notes each load in a file (so that other processes' loads count)."""

    def __init__(self, log: Path, seconds: float = 0.0, extra: object = "first 1000") -> None:
        self.log, self.seconds, self.extra = log, seconds, extra

    def __call__(self, num_training: int = 3) -> dict:
        with self.log.open("a") as log:
            log.write("load\n")
        time.sleep(self.seconds)
        return {"X_train": np.arange(num_training * 4, dtype=np.float64).reshape(num_training, 4),
                "y_train": np.arange(num_training), "held_out": self.extra}

    @property
    def loads(self) -> int:
        return len(self.log.read_text().split()) if self.log.exists() else 0


def test_without_a_folder_each_call_loads_and_the_arrays_are_read_only(tmp_path):
    loader = CountingLoader(tmp_path / "log")
    for _ in range(2):
        data = load_shared("toy", {}, loader, None)
        with pytest.raises(ValueError, match="read-only"):
            data["X_train"][0, 0] = 1.0
    assert loader.loads == 2


def test_a_folder_loads_once_and_maps_the_arrays_read_only(tmp_path):
    loader = CountingLoader(tmp_path / "log")
    first = load_shared("toy", {"num_training": 5}, loader, tmp_path)
    again = load_shared("toy", {"num_training": 5}, loader, tmp_path)
    other = load_shared("toy", {"num_training": 2}, loader, tmp_path)
    assert loader.loads == 2  # one per option set
    np.testing.assert_array_equal(again["X_train"], first["X_train"])
    assert again["X_train"].shape == (5, 4) and other["X_train"].shape == (2, 4)
    assert again["held_out"] == "first 1000" and again["y_train"].dtype == np.int64
    assert type(again["X_train"]) is np.ndarray and not again["X_train"].flags.writeable
    with pytest.raises(ValueError, match="read-only"):
        again["X_train"][0, 0] = 1.0


def _load_in_another_process(log: str, folder: str) -> None:
    load_shared("toy", {}, CountingLoader(Path(log), seconds=0.5), Path(folder))


def test_processes_asking_at_once_load_it_once(tmp_path):
    context = multiprocessing.get_context("spawn")
    processes = [context.Process(target=_load_in_another_process,
                                 args=(str(tmp_path / "log"), str(tmp_path)))
                 for _ in range(2)]
    for process in processes:
        process.start()
    for process in processes:
        process.join(60)
    assert [p.exitcode for p in processes] == [0, 0]
    assert CountingLoader(tmp_path / "log").loads == 1


def test_a_data_set_with_values_json_cannot_hold_is_loaded_not_shared(tmp_path):
    loader = CountingLoader(tmp_path / "log", extra=object())
    for _ in range(2):
        data = load_shared("toy", {}, loader, tmp_path)
        assert not data["X_train"].flags.writeable
    assert loader.loads == 2


def test_a_copy_left_half_written_by_a_dead_process_is_written_again(tmp_path):
    loader = CountingLoader(tmp_path / "log")
    (tmp_path / "one").mkdir()
    load_shared("toy", {}, loader, tmp_path / "one")  # learn the folder's name
    [written] = [p for p in (tmp_path / "one").iterdir() if p.is_dir()]
    broken = tmp_path / written.name
    broken.with_name(f"{broken.name}.building").mkdir()  # died while writing
    (broken.with_name(f"{broken.name}.building") / "X_train.npy").write_bytes(b"half")
    data = load_shared("toy", {}, loader, tmp_path)
    assert data["X_train"].shape == (3, 4) and loader.loads == 2
