from gradekit.submission.findings import FindingKind
from gradekit.submission.syntax import check_syntax, parse_error


def test_parse_error_names_line_and_message():
    assert parse_error(b"x = 1\ndef f(:\n    pass\n") == (2, "invalid syntax")
    assert parse_error(b"x = 1\n") is None


def test_parse_error_reports_what_ast_cannot_read():
    error = parse_error(b"x = 1\x00\n")  # ValueError on 3.11, SyntaxError from 3.12
    assert error is not None
    assert "null bytes" in error[1] or "could not be parsed (ValueError)" in error[1]


def test_check_syntax_says_which_tests_a_broken_file_costs(tmp_path):
    package = tmp_path / "cs682"
    package.mkdir()
    (package / "__init__.py").write_text("import (\n")
    (package / "optim.py").write_text("def adam(w, dw, config=None):\n  return w +\n")
    (package / "solver.py").write_text("class Solver(:\n")
    (package / "layers.py").write_text("x = 1\n")
    files = ["cs682/__init__.py", "cs682/layers.py", "cs682/optim.py", "cs682/solver.py"]
    findings = check_syntax(tmp_path, files, {"cs682/optim.py": "optim"}, "cs682")
    by_path = {f.path: f for f in findings}
    assert set(by_path) == {"cs682/__init__.py", "cs682/optim.py", "cs682/solver.py"}
    assert all(f.kind is FindingKind.SYNTAX_ERROR for f in findings)
    optim = by_path["cs682/optim.py"]
    assert (optim.prefix, optim.line) == ("optim", 2)
    assert optim.message.startswith("cs682/optim.py line 2: ")
    assert "the optim tests will score 0" in optim.message
    assert "no module of the package" in by_path["cs682/__init__.py"].message
    assert by_path["cs682/solver.py"].prefix is None
