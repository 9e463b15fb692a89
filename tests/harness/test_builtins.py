from gradekit.harness.reports import available_writers
from gradekit.harness.rubrics import available_rubrics
from gradekit.plugin_manager import create_plugin_manager


def test_every_plugin_manager_offers_the_builtin_rubrics_and_formats():
    pm = create_plugin_manager(entry_points=False)
    assert pm.has_plugin("gradekit.harness")
    assert sorted(available_rubrics(pm)) == ["formula", "linear", "threshold"]
    assert sorted(available_writers(pm)) == ["csv", "gradescope", "html", "json", "table"]
