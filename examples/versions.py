"""Correct submissions written to each pack version's API, and single-bug mutants of them.

A version's correct example is the reference solution (canonical API) with a short adapter
appended to each module whose API the version changes, written from the version's data in
``assignment.toml``: ``FullyConnectedNet(use_batchnorm=..., dropout=<drop probability>)``,
Adam keeping ``'v'``/``'a'``, a ``dropout_forward`` reading ``p`` as a drop probability, a
step counter starting at 1. The adapter is what a student of that year would have written
in place of the canonical signature, so the example exercises the grader's translation
end to end without sharing its code.

:data:`MUTANTS` are single bugs, each with the parts it may cost (none for a bug in code the
course gave or that the version does not grade); :data:`READINGS` are correct examples in
a version's other allowed reading. ``python -m examples.versions OUT`` writes every
version's correct example.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

from gradekit.authoring.solution import write_solution
from gradekit.course import find_course_root
from gradekit.packs import AssignmentPack, find_packs

VERSIONS = ("fc_nets", "cs231n_2016", "cs231n_2017", "cs231n_2018", "cs231n_2020",
            "cs231n_2021", "cs682", "ucla_hw4", "conv_nets")


def write_version_example(pack: AssignmentPack, root: Path, dest: Path,
                          reading: str | None = None) -> Path:
    """A correct submission to ``pack``'s version under ``dest``; returns its package."""
    return write_solution(pack, root, dest, reading)


@dataclass(frozen=True)
class Mutant:
    """One bug in a version's correct example, and the parts it may cost."""

    name: str
    version: str
    module: str           # component prefix of the file the bug is in
    edits: tuple[tuple[str, str], ...]  # (text that occurs exactly once there, its bug)
    loses: frozenset[str]  # the parts that must lose points (empty: given code, not charged)

    def apply(self, pack: AssignmentPack, package: Path) -> None:
        path = package / pack.modules[self.module]
        text = path.read_text(encoding="utf-8")
        for correct, buggy in self.edits:
            if text.count(correct) != 1:
                raise RuntimeError(f"mutant {self.name}: {correct!r} is not in {path} exactly "
                                   "once; update examples/versions.py after changing the "
                                   "reference")
            text = text.replace(correct, buggy)
        path.write_text(text, encoding="utf-8")


MUTANTS = (
    Mutant("adam-t-from-0", "cs231n_2017", "optim",
           (("config.setdefault('t', 1)", "config.setdefault('t', 0)"),), frozenset({"optim"})),
    Mutant("bn-never-in-test-mode", "cs231n_2017", "classifiers.fc_net",
           (('bn_param["mode"] = mode', "bn_param[mode] = mode"),), frozenset({"fc_net"})),
    Mutant("bn-never-in-test-mode (the 2016 starter's own line: waived)", "cs231n_2016",
           "classifiers.fc_net", (('bn_param["mode"] = mode', "bn_param[mode] = mode"),),
           frozenset()),
    Mutant("softmax-without-max-shift (given)", "cs682", "layers",
           (("shifted = x - x.max(axis=1, keepdims=True)", "shifted = x"),), frozenset()),
    Mutant("svm-off-by-one (not in 2021)", "cs231n_2021", "layers",
           (("    margins[rows, y] = 0\n", ""),), frozenset()),
    Mutant("rmsprop-state-cache", "ucla_hw4", "optim",
           (("{'a': 'cache'}.get(k, k)", "{}.get(k, k)"),
            ("{'cache': 'a'}.get(k, k)", "{}.get(k, k)")),
           frozenset({"optim"})),
    Mutant("nesterov-plain-momentum", "ucla_hw4", "optim",
           (("return w - mu * v_prev + (1 + mu) * v, config", "return w + v, config"),),
           frozenset({"optim"})),
    Mutant("keepdims on dgamma and dbeta (accepted: the notebook's rel_error accepts it)",
           "cs231n_2018", "layers",
           (("    dbeta = dout.sum(axis=0)\n    dgamma = (dout * x_hat).sum(axis=0)\n"
             "    return _normalise_backward",
             "    dbeta = dout.sum(axis=0, keepdims=True)\n"
             "    dgamma = (dout * x_hat).sum(axis=0, keepdims=True)\n"
             "    return _normalise_backward"),), frozenset()),
    Mutant("relu-backward-in-place", "cs231n_2018", "layers",
           (("    return dout * (cache > 0)\n", "    dout[cache <= 0] = 0\n    return dout\n"),),
           frozenset({"layers"})),
    # seed 002's conv nets: each bug costs the conv layers or the conv net, never both
    Mutant("conv-ignores-stride", "conv_nets", "layers",
           (("top, left = i * stride, j * stride\n        window = x_pad",
             "top, left = i, j\n        window = x_pad"),), frozenset({"conv"})),
    Mutant("conv-pads-one-side", "conv_nets", "layers",
           (("(pad, pad), (pad, pad)))", "(0, 2 * pad), (0, 2 * pad)))"),), frozenset({"conv"})),
    Mutant("pool-ties-get-the-whole-gradient", "conv_nets", "layers",
           (("        row, col = np.unravel_index(np.argmax(window), window.shape)\n"
             "        dx[n, c, top + row, left + col] += dout[n, c, i, j]\n",
             "        dx[n, c, top : top + ph, left : left + pw] += "
             "(window == window.max()) * dout[n, c, i, j]\n"),), frozenset({"conv"})),
    Mutant("conv-dw-overwritten-not-summed", "conv_nets", "layers",
           (("dw[f] += dout[n, f, i, j]", "dw[f] = dout[n, f, i, j]"),), frozenset({"conv"})),
    Mutant("conv-db-averaged-over-the-batch", "conv_nets", "layers",
           (("db = dout.sum(axis=(0, 2, 3))", "db = dout.sum(axis=(0, 2, 3)) / len(dout)"),),
           frozenset({"conv"})),
    Mutant("cnn-without-same-padding", "conv_nets", "classifiers.cnn",
           (('"pad": (filter_size - 1) // 2', '"pad": 0'),), frozenset({"cnn"})),
    Mutant("cnn-penalty-twice-in-the-loss", "conv_nets", "classifiers.cnn",
           (("return loss + penalty, grads", "return loss + 2 * penalty, grads"),),
           frozenset({"cnn"})),
    Mutant("cnn-reg-read-in-the-constructor", "conv_nets", "classifiers.cnn",
           (("self.reg = reg", "self.reg = self._reg = reg"),
            ('("W1", "W2", "W3"), self.reg)', '("W1", "W2", "W3"), self._reg)')),
           frozenset({"cnn"})),
)

#: Correct examples in the other reading of a version that allows both: full marks too.
READINGS = (("ucla_hw4", "drop"),)


def main(out: Path) -> None:
    root = find_course_root()
    if root is None:
        raise SystemExit("the examples are generated from the course repository's reference")
    packs = find_packs()
    for name in VERSIONS:
        print(f"wrote {write_version_example(packs[name], root, out / name)}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("version-examples"))
