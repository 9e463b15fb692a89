"""Imported by the batch's fork server (:mod:`gradekit.fork_server`), which can only be told
modules to import: importing this one imports everything a grading process uses."""

from gradekit.fork_server import preload

preload()
