import pytest

from gradekit.data.registry import CIFAR10, MNIST, RemoteFile, get_dataset

OFFICIAL_MNIST = {
    "train-images-idx3-ubyte.gz": "f68b3c2dcbeaaa9fbdd348bbdeb94873",
    "train-labels-idx1-ubyte.gz": "d53e105ee54ea40749a09fcbcd1e9432",
    "t10k-images-idx3-ubyte.gz": "9fb629c4189551a2d022fa330f9573f3",
    "t10k-labels-idx1-ubyte.gz": "ec29112dd5afa0611ce80d1b7f02629c",
}


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


def test_mnist_is_the_four_official_idx_files_kept_gzipped():
    mnist = get_dataset("mnist")
    assert {remote.filename: remote.md5 for remote in mnist.files} == OFFICIAL_MNIST
    assert {remote.url.removesuffix(remote.filename) for remote in mnist.files} == {
        "https://ossci-datasets.s3.amazonaws.com/mnist/"}
    assert not any(remote.is_archive for remote in mnist.files)
    assert mnist.contents == tuple(OFFICIAL_MNIST)
    assert mnist.folders == ("mnist", "mnist-subset")


def test_mnist_holds_out_test_images_with_their_labels():
    held_out = MNIST.held_out
    assert held_out.files == ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz")
    assert 0 < held_out.count < 10000
    assert f"first {held_out.count} images of MNIST's t10k" in held_out.summary


def test_the_ci_subset_holds_the_official_mnist_test_files(mnist_subset):
    listed = dict(line.split()[::-1] for line in (mnist_subset / "MD5SUMS").read_text()
                  .splitlines())
    for name in MNIST.held_out.files:
        assert listed[name] == OFFICIAL_MNIST[name]


def test_unknown_name_lists_the_known_ones():
    with pytest.raises(KeyError, match="known data sets: cifar10, mnist"):
        get_dataset("imagenet")
