from gradekit.submission.findings import FindingKind
from gradekit.submission.syntax import parse_sources, syntax_findings


def write(folder, files: dict[str, str]) -> list[str]:
    for rel, text in files.items():
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_text(text)
    return sorted(files)


def test_parse_sources_keeps_trees_and_errors_apart(tmp_path):
    files = write(tmp_path, {"ok.py": "x = 1\n", "bad.py": "x = 1\ndef f(:\n    pass\n"})
    parsed = parse_sources(tmp_path, files)
    assert set(parsed.trees) == {"ok.py"}
    assert parsed.errors == {"bad.py": (2, "invalid syntax")}


def test_parse_sources_reports_what_ast_cannot_read(tmp_path):
    (tmp_path / "nul.py").write_bytes(b"x = 1\x00\n")  # ValueError on 3.11, SyntaxError later
    _, message = parse_sources(tmp_path, ["nul.py"]).errors["nul.py"]
    assert "null bytes" in message or "could not be parsed (ValueError)" in message


def test_syntax_findings_say_which_tests_a_broken_file_costs(tmp_path):
    files = write(tmp_path, {
        "__init__.py": "import (\n",
        "optim.py": "def adam(w, dw, config=None):\n  return w +\n",
        "solver.py": "class Solver(:\n",
        "layers.py": "x = 1\n",
    })
    errors = parse_sources(tmp_path, files).errors
    findings = syntax_findings(errors, {"optim": "optim.py", "layers": "layers.py"}, "a2/cs682")
    by_path = {f.path: f for f in findings}
    assert set(by_path) == {"a2/cs682/__init__.py", "a2/cs682/optim.py", "a2/cs682/solver.py"}
    assert all(f.kind is FindingKind.SYNTAX_ERROR for f in findings)
    optim = by_path["a2/cs682/optim.py"]
    assert (optim.prefix, optim.line) == ("optim", 2)
    assert optim.message.startswith("a2/cs682/optim.py line 2: ")
    assert "the optim tests will score 0" in optim.message
    assert "no module of the package" in by_path["a2/cs682/__init__.py"].message
    assert by_path["a2/cs682/solver.py"].prefix is None
