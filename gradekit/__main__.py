"""``python -m gradekit`` runs the command line.

``python -m`` puts the working directory first on ``sys.path``, and the grader is often
started inside a folder of student files: their ``click.py`` or ``numpy.py`` would be
imported in the grader's place. That entry goes before the command line is imported, which
then drops any other entry naming the working directory.
"""

import os
import sys

if sys.path and sys.path[0] == os.getcwd():
    del sys.path[0]

from gradekit.cli import main

if __name__ == "__main__":
    main()
