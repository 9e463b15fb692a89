import pytest

from gradekit.data.locate import DataNotFoundError, find_dataset, locate, search_path
from gradekit.data.registry import CIFAR10


def make_copy(folder):
    """A folder with every file CIFAR-10 needs (empty: only their presence is checked)."""
    folder.mkdir(parents=True)
    for name in CIFAR10.contents:
        (folder / name).touch()


def test_search_path_is_env_then_cache(data_roots):
    env_root, cache = data_roots
    assert search_path() == [env_root, cache]


def test_env_may_list_several_roots_like_path(data_roots, tmp_path, monkeypatch):
    env_root, cache = data_roots
    other = tmp_path / "other"
    monkeypatch.setenv("GRADEKIT_DATA", f"{env_root}:{other}:")
    assert search_path() == [env_root, other, cache]
    make_copy(other / "cifar-10-subset")
    assert locate(CIFAR10) == other / "cifar-10-subset"


def test_unset_or_empty_env_leaves_only_the_cache(data_roots, monkeypatch):
    _, cache = data_roots
    monkeypatch.setenv("GRADEKIT_DATA", "")
    assert search_path() == [cache]
    monkeypatch.delenv("GRADEKIT_DATA")
    assert search_path() == [cache]


def test_env_root_wins_over_cache(data_roots):
    env_root, cache = data_roots
    make_copy(cache / "cifar-10-batches-py")
    make_copy(env_root / "cifar-10-subset")
    assert locate(CIFAR10) == env_root / "cifar-10-subset"


def test_full_data_set_preferred_over_subset_in_one_root(data_roots):
    env_root, _ = data_roots
    make_copy(env_root / "cifar-10-subset")
    make_copy(env_root / "cifar-10-batches-py")
    assert locate(CIFAR10) == env_root / "cifar-10-batches-py"


def test_cache_is_used_when_env_has_nothing(data_roots):
    _, cache = data_roots
    make_copy(cache / "cifar-10-batches-py")
    assert locate(CIFAR10) == cache / "cifar-10-batches-py"


def test_a_file_with_the_folder_name_is_not_a_data_set(data_roots):
    env_root, _ = data_roots
    (env_root / "cifar-10-batches-py").write_text("not a folder")
    assert find_dataset(CIFAR10) is None


def test_incomplete_folder_is_skipped_for_a_complete_one(data_roots):
    env_root, cache = data_roots
    make_copy(env_root / "cifar-10-batches-py")
    (env_root / "cifar-10-batches-py" / "data_batch_3").unlink()
    make_copy(cache / "cifar-10-subset")
    assert locate(CIFAR10) == cache / "cifar-10-subset"


def test_incomplete_folder_is_named_in_the_error(data_roots):
    env_root, _ = data_roots
    make_copy(env_root / "cifar-10-batches-py")
    (env_root / "cifar-10-batches-py" / "test_batch").unlink()
    with pytest.raises(DataNotFoundError, match="cifar-10-batches-py is incomplete"
                                                r" \(no test_batch\)"):
        locate(CIFAR10)


def test_missing_data_names_both_places_and_the_fetch_command(data_roots):
    env_root, cache = data_roots
    with pytest.raises(DataNotFoundError) as info:
        locate(CIFAR10)
    message = str(info.value)
    assert str(env_root) in message
    assert str(cache) in message
    assert "GRADEKIT_DATA" in message
    assert "gradekit data fetch cifar10" in message


@pytest.mark.usefixtures("data_roots")
def test_missing_data_says_when_env_is_unset(monkeypatch):
    monkeypatch.delenv("GRADEKIT_DATA")
    with pytest.raises(FileNotFoundError, match=r"\$GRADEKIT_DATA \(not set\)"):
        locate(CIFAR10)
