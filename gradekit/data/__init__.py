"""Data sets for the assignments: CIFAR-10, MNIST and scikit-learn's bundled digits."""
