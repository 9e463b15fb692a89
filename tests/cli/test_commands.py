"""The top-level command line: usage errors exit 2, and a mistyped command gets a suggestion."""

from __future__ import annotations

from click.testing import CliRunner

from gradekit.cli import main


def test_a_mistyped_command_is_a_usage_error_with_a_suggestion() -> None:
    result = CliRunner().invoke(main, ["grdae", "submissions/"])
    assert result.exit_code == 2
    assert "No such command 'grdae'. Did you mean 'grade'?" in result.output


def test_an_unknown_command_lists_the_commands() -> None:
    result = CliRunner().invoke(main, ["frobnicate"])
    assert result.exit_code == 2
    assert "No such command 'frobnicate'. Commands: assignments, author, check" in result.output


def test_an_unknown_pack_is_a_usage_error(tmp_path) -> None:
    result = CliRunner().invoke(main, ["grade", str(tmp_path), "-a", "no_such_pack"])
    assert result.exit_code == 2
    assert "no_such_pack" in result.output


def test_known_commands_and_help_still_work() -> None:
    assert CliRunner().invoke(main, ["--help"]).exit_code == 0
    assert CliRunner().invoke(main, ["assignments", "--help"]).exit_code == 0
