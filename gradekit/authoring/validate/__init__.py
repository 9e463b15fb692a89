"""``gradekit author validate``: prove a pack's tests strong before students see them.

:mod:`.operators` writes single-bug variants of the reference, :mod:`.mutants` turns them and
a pack's named real bugs into edits of the correct submission, :mod:`.run` grades the
reference, the starter and every mutant through the sandbox, :mod:`.equivalence` tells an
equivalent survivor from a real one, and :mod:`.report` prints and writes the verdicts.
"""
