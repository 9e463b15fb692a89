"""``gradekit author``: the release's install line, and validate's options."""

from __future__ import annotations

from click.testing import CliRunner

from gradekit.cli import main


def test_a_release_says_the_install_command_the_course_gives(tmp_path) -> None:
    out = tmp_path / "release"
    made = CliRunner().invoke(main, ["author", "release", "fc_nets", "--out", str(out),
                                     "--install", "https://course.example/gradekit.tar.gz"])
    assert made.exit_code == 0, made.output
    readme = (out / "README.md").read_text(encoding="utf-8")
    assert "python -m pip install https://course.example/gradekit.tar.gz\n" in readme


def test_validate_says_what_it_proves_and_how_it_exits() -> None:
    shown = CliRunner().invoke(main, ["author", "validate", "--help"])
    assert shown.exit_code == 0
    for option in ("--mutants", "--jobs", "--report", "--component", "--notebooks"):
        assert option in shown.output
    assert "Exits 1 when the reference loses a point" in shown.output


def test_validate_refuses_a_negative_sample() -> None:
    refused = CliRunner().invoke(main, ["author", "validate", "fc_nets", "--mutants", "-1"])
    assert refused.exit_code == 2
