import json
import zipfile
from pathlib import Path

from click.testing import CliRunner

from gradekit.cli import main

FC_NETS_PACK = Path(__file__).resolve().parents[2] / "assignments" / "fc_nets"


def run(*args: str):
    return CliRunner().invoke(main, ["inspect", *args], terminal_width=200)


def write_cs682(base: Path, *, broken_optim: bool = False) -> None:
    package = base / "cs682"
    (package / "classifiers").mkdir(parents=True)
    for rel in ("layers.py", "layer_utils.py", "classifiers/fc_net.py"):
        (package / rel).write_text("x = 1\n")
    (package / "optim.py").write_text("def sgd(:\n" if broken_optim else "x = 1\n")


def test_inspect_prints_package_modules_and_findings(tmp_path):
    write_cs682(tmp_path / "upload", broken_optim=True)
    result = run(str(tmp_path / "upload"))
    assert result.exit_code == 0, result.output
    assert "package: cs682" in result.output
    assert "cs682.classifiers.fc_net" in result.output
    assert "missing-module" in result.output and "classifiers/cnn.py is missing" in result.output
    assert "syntax-error" in result.output and "cs682/optim.py line 1" in result.output


def test_inspect_uses_a_packs_module_map(tmp_path):
    write_cs682(tmp_path / "upload")
    result = run(str(tmp_path / "upload"), "--pack", str(FC_NETS_PACK))
    assert result.exit_code == 0, result.output
    assert "no findings" in result.output
    assert "classifiers.cnn" not in result.output


def test_inspect_keeps_the_copy_in_a_given_workdir(tmp_path):
    archive = tmp_path / "hw.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("cs231n/layers.py", "x = 1\n")
        zf.writestr("../evil.py", "pwned")
    result = run(str(archive), "--workdir", str(tmp_path / "work"))
    assert result.exit_code == 0, result.output
    assert "refused-member" in result.output and "'../evil.py'" in result.output
    assert (tmp_path / "work" / "hw" / "files" / "cs231n" / "layers.py").is_file()
    assert not (tmp_path / "evil.py").exists()


def test_inspect_explains_a_path_that_is_no_submission(tmp_path):
    result = run(str(tmp_path / "nothing"))
    assert result.exit_code == 1
    assert "does not exist; pass a submission folder" in result.output


def test_inspect_json_is_machine_readable(tmp_path):
    write_cs682(tmp_path / "upload", broken_optim=True)
    result = run(str(tmp_path / "upload"), "--json")
    assert result.exit_code == 0, result.output
    report = json.loads(result.output)
    assert report["package"] == "cs682"
    assert report["modules"]["classifiers.fc_net"] == "cs682.classifiers.fc_net"
    assert {(f["kind"], f["prefix"]) for f in report["findings"]} == {
        ("missing-module", "classifiers.cnn"), ("syntax-error", "optim")}


def test_names_from_the_upload_are_shown_as_plain_text(tmp_path):
    hostile = "[bold red]OK\x1b[2J\x1b]52;c;cHduZWQ=\x07"  # markup, clear screen, clipboard
    write_cs682(tmp_path / "upload")
    (tmp_path / "upload" / "cs682").rename(tmp_path / "upload" / hostile)
    for args in ((), ("--json",)):
        result = run(str(tmp_path / "upload"), *args)
        assert result.exit_code == 0, result.output
        assert "\x1b" not in result.output and "\x07" not in result.output
    assert "[bold red]OK" in run(str(tmp_path / "upload")).output
