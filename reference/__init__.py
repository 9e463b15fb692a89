"""Instructor-only reference solutions, registered with gradekit as a plugin.

This package never ships to students (the wheel and the student release leave it out).
gradekit imports it from the course repository and registers :data:`plugin`. Each package
folder here is the reference of one assignment API, named after it (``cs231n/``: the CS231n
layered API; ``dlvc/``: the feature-major functions of the MNIST course; ``theta/``: the
theta-named nets). Every module of a folder is served under its path
(``cs231n/classifiers/fc_net.py`` as ``classifiers.fc_net``): a new module or API needs no
entry here.
"""

from pathlib import Path

from gradekit.providers import ApiProviders

plugin = ApiProviders.of_folders(__name__, Path(__file__).parent)
