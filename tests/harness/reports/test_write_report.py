import io
import json

import pytest

from gradekit import hookimpl
from gradekit.harness.reports import available_writers, write_report


def test_builtin_formats_are_served_by_the_hook(make_pm):
    assert set(available_writers(make_pm(""))) >= {"table", "json", "csv", "gradescope"}


def test_a_plugin_adds_and_overrides_formats(make_pm, results):
    class Plugin:
        @hookimpl
        def gradekit_report_writers(self):
            return {"json": lambda rs, out: out.write("custom"), "names": self.names}

        @staticmethod
        def names(rs, out):
            out.write(",".join(r.submission for r in rs))

    pm = make_pm("")
    pm.register(Plugin(), name="course-reports")
    out = io.StringIO()
    write_report(pm, "names", results, out)
    write_report(pm, "json", results, out)
    assert out.getvalue() == "alice,bobcustom"


def test_a_folder_gets_the_format_file_name(make_pm, results, tmp_path):
    write_report(make_pm(""), "gradescope", results[:1], tmp_path)
    assert json.loads((tmp_path / "results.json").read_text())["score"] == 5.5


def test_unknown_format_lists_the_known_ones(make_pm, results):
    with pytest.raises(ValueError, match="choose one of csv, gradescope, html, json, table"):
        write_report(make_pm(""), "pdf", results, io.StringIO())


def test_one_folder_per_submission(make_pm, results, tmp_path):
    from dataclasses import replace

    from gradekit.harness.reports import write_per_submission

    odd = [replace(results[0], submission="../alice smith"),
           replace(results[1], submission="alice/smith"), replace(results[1], submission="")]
    written = write_per_submission(make_pm(""), "gradescope", odd, tmp_path / "out")
    assert [p.relative_to(tmp_path / "out").as_posix() for p in written] == [
        "alice_smith/results.json", "alice_smith-2/results.json", "submission/results.json"]
    assert json.loads(written[0].read_text())["score"] == 5.5
