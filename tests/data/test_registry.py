import pytest

from gradekit.data.registry import CIFAR10, RemoteFile, get_dataset


def test_cifar10_points_at_the_official_archive():
    (archive,) = get_dataset("cifar10").files
    assert archive.url == "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
    assert archive.md5 == "c58f30108f718f92721af3b95e74349a"
    assert archive.is_archive
    assert CIFAR10.folders[0] == "cifar-10-batches-py"


def test_plain_files_are_not_archives():
    remote = RemoteFile("https://example.org/mnist/train-labels-idx1-ubyte.gz", "0" * 32)
    assert remote.filename == "train-labels-idx1-ubyte.gz"
    assert not remote.is_archive


def test_unknown_name_lists_the_known_ones():
    with pytest.raises(KeyError, match="known data sets: cifar10"):
        get_dataset("imagenet")
