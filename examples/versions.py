"""Every pack version's correct example: the reference written to that version's API
(:func:`gradekit.authoring.release.write_solution`).

:data:`VERSIONS` are the versions the examples cover and :data:`READINGS` the correct
examples in a version's other allowed reading; each version's single-bug mutants are its
pack's ``mutants.toml`` (``gradekit author validate``). ``python -m examples.versions OUT``
writes every version's correct example.
"""

from __future__ import annotations

import sys
from pathlib import Path

from gradekit.authoring.release import write_solution
from gradekit.course import find_course_root
from gradekit.packs import find_packs

VERSIONS = ("fc_nets", "cs231n_2016", "cs231n_2017", "cs231n_2018", "cs231n_2020",
            "cs231n_2021", "cs682", "ucla_hw4", "conv_nets")

#: Correct examples in the other reading of a version that allows both: full marks too.
READINGS = (("ucla_hw4", "drop"),)


def main(out: Path) -> None:
    root = find_course_root()
    if root is None:
        raise SystemExit("the examples are generated from the course repository's reference")
    packs = find_packs()
    for name in VERSIONS:
        print(f"wrote {write_solution(packs[name], root, out / name)}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("version-examples"))
