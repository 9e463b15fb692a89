"""The grading harness: run pytest tests against a submission and turn outcomes into scores.

* :mod:`~gradekit.harness.pytest_plugin` — markers (points, part, visibility, timeout) and
  fixtures (``impl``, ``ref``, ``mixed``, ``credit``) for instructors' ordinary pytest tests;
* :mod:`~gradekit.harness.session` — :func:`run_tests`, one pytest run per submission;
* :mod:`~gradekit.harness.checks` — assertions for what these assignments check;
* :mod:`~gradekit.harness.scoring`, :mod:`~gradekit.harness.rubrics` — points and credit;
* :mod:`~gradekit.harness.results` — the data every report renders;
* :mod:`~gradekit.harness.reports` — table, JSON, CSV and Gradescope writers.
"""
