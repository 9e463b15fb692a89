"""Assignment packs: parsing assignment.toml, discovery, helpful errors."""

import pytest

from gradekit.packs import AssignmentPack, PackError, find_packs, get_pack
from gradekit.plugin_manager import create_plugin_manager

MINIMAL = """
title = "T"
api = "cs231n"
package = "cs231n"
[modules]
layers = "layers.py"
[[parts]]
name = "layers"
points = 10
"""


def test_the_fc_nets_pack_is_discovered_and_parsed():
    packs = find_packs(create_plugin_manager(entry_points=False))
    pack = packs["fc_nets"]
    assert pack.api == "cs231n" and pack.package == "cs231n"
    assert pack.modules["classifiers.fc_net"] == "classifiers/fc_net.py"
    assert pack.max_score == sum(p.points for p in pack.parts) > 0
    assert pack.conventions["dropout_p"] == "keep"
    assert pack.visible_tests.is_dir()


def test_minimal_pack(tmp_path):
    (tmp_path / "assignment.toml").write_text(MINIMAL)
    pack = AssignmentPack.load(tmp_path)
    assert pack.name == tmp_path.name and pack.part("layers").title == "layers"
    with pytest.raises(PackError, match="has no part 'optim'"):
        pack.part("optim")
    assert get_pack(str(tmp_path)).name == pack.name


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (MINIMAL.replace('api = "cs231n"\n', ""), "'api' must be a str"),
        (MINIMAL + '[[parts]]\nname = "layers"\npoints = 1\n', "part names must be unique"),
        ("title = ", "assignment.toml"),
    ],
)
def test_malformed_packs_name_the_problem(tmp_path, text, message):
    (tmp_path / "assignment.toml").write_text(text)
    with pytest.raises(PackError, match=message):
        AssignmentPack.load(tmp_path)


def test_unknown_pack_lists_the_available_ones():
    with pytest.raises(PackError, match=r"available: .*fc_nets"):
        get_pack("no_such_pack", create_plugin_manager(entry_points=False))
