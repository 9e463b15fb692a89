"""Data sets for the assignments: CIFAR-10, MNIST and scikit-learn's bundled digits.

``registry`` says what each data set is and where to download it, ``locate`` where it lives
on disk (``$GRADEKIT_DATA``, then the cache dir), ``fetch`` downloads and unpacks it safely;
``cifar10`` and ``digits`` load it in the notebooks' dict shape.
"""
