"""Data sets for the assignments: CIFAR-10, MNIST and scikit-learn's bundled digits.

``registry`` says what each data set is and where to download it, ``locate`` where it lives
on disk (``$GRADEKIT_DATA``, then the cache dir), ``fetch`` downloads and unpacks it safely;
``cifar10`` and ``digits`` (scikit-learn's) load theirs in the notebooks' dict shape, and
``mnist`` reads MNIST's idx files into what the ASU course's ``digits.get_mnist`` returns
(the course's ``digits`` module is served from ``mnist``, not from ``digits``). ``view``
builds what a sandbox reads: each data set without the images that earn accuracy credit.
"""
