"""``python -m gradekit`` runs the command line."""

from gradekit.cli import main

main()
