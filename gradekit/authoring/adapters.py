"""A version's API around the canonical code: what the starter and the solution of a version
append to the modules whose API it changes.

The reference speaks gradekit's canonical API. A version whose course wrote other keywords
(``FullyConnectedNet(use_batchnorm=..., dropout=<drop probability>)``), other optimizer state
keys (Adam keeping ``'v'``/``'a'``), a step counter starting at 1, or a ``dropout_forward``
reading ``p`` as a drop probability gets a short adapter at the end of each such module,
written from the version's data in ``assignment.toml``, so the starter takes the calls the
version's notebooks and graders make, and the solution answers them (``gradekit author
validate`` grades it; the example submissions are built from it).
"""

from __future__ import annotations

import ast
from pathlib import Path

from gradekit.packs import AssignmentPack
from gradekit.versions import Keyword, Version


def _course_value(keyword: Keyword, canonical: object, reading: str) -> object:
    if keyword.dropout:
        return canonical if reading == "keep" else 1 - canonical
    if keyword.values is None:
        return canonical
    return keyword.values["none" if canonical is None else str(canonical)]


def _defaults(source: str, cls: str, wanted: set[str]) -> dict[str, object]:
    """The defaults of the keywords ``wanted`` of ``cls.__init__`` in ``source`` (read,
    never imported)."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ClassDef) and node.name == cls:
            for item in node.body:
                if isinstance(item, ast.FunctionDef) and item.name == "__init__":
                    args = item.args
                    named = args.args[len(args.args) - len(args.defaults):]
                    pairs = [*zip(named, args.defaults, strict=True),
                             *zip(args.kwonlyargs, args.kw_defaults, strict=True)]
                    return {a.arg: ast.literal_eval(d) for a, d in pairs
                            if d is not None and a.arg in wanted}
    raise LookupError(f"no class {cls} with an __init__ in the reference; the version's "
                      "[conventions.keywords] name a class the reference does not define")


def _keyword_adapter(name: str, defaults: dict[str, object], keywords: dict[str, Keyword],
                     reading: str) -> str:
    """Source of a subclass of ``name`` taking the course's keywords."""
    signature, body = [], []
    for canonical, keyword in keywords.items():
        default = _course_value(keyword, defaults[canonical], reading)
        signature.append(f"{keyword.name}={default!r}")
        if keyword.dropout:
            keep = keyword.name if reading == "keep" else f"1 - {keyword.name}"
            body.append(f"        kwargs[{canonical!r}] = {keep}")
        elif keyword.values is None:
            body.append(f"        kwargs[{canonical!r}] = {keyword.name}")
        else:
            back = {value: None if key == "none" else key for key, value in keyword.values.items()}
            body.append(f"        kwargs[{canonical!r}] = {back!r}[{keyword.name}]")
    dropout = next((k.name for k in keywords.values() if k.dropout), None)
    return "\n".join([
        f"\n\nclass {name}({name}):",
        f'    """{name} as this course writes it."""',
        "",
        f"    def __init__(self, *args, {', '.join(signature)}, **kwargs):",
        *body,
        "        super().__init__(*args, **kwargs)",
        *(["        if self.use_dropout:  # this course's dropout_forward drops a share p",
           f"            self.dropout_param['p'] = {dropout}"]
          if dropout and reading == "drop" else []),
        "",
    ])


def _state_adapter(rule: str, keys: dict[str, str], first_t: int) -> str:
    """Source of ``rule`` keeping its state under the course's names."""
    back = {course: canonical for canonical, course in keys.items()}
    start = f"\n    config.setdefault('t', {first_t})" if first_t and rule == "adam" else ""
    return (f"\n\n_canonical_{rule} = {rule}\n\n\n"
            f"def {rule}(w, dw, config=None):\n"
            f'    """{rule} with this course\'s state keys."""\n'
            f"    config = {{}} if config is None else config{start}\n"
            f"    ours = {{{back!r}.get(k, k): v for k, v in config.items()}}\n"
            f"    next_w, ours = _canonical_{rule}(w, dw, ours)\n"
            f"    theirs = {{{keys!r}.get(k, k): v for k, v in ours.items()}}\n"
            f"    config.clear()  # the notebooks read the state from the dict they passed\n"
            f"    config.update(theirs)\n"
            f"    return next_w, config\n")


_DROP_READING = (
    "\n\n_keep_dropout_forward = dropout_forward\n\n\n"
    "def dropout_forward(x, dropout_param):\n"
    '    """Inverted dropout where p is the probability of DROPPING a unit."""\n'
    "    ours = dict(dropout_param)\n"
    "    if 'p' in ours:\n"
    "        ours['p'] = 1 - ours['p']\n"
    "    return _keep_dropout_forward(x, ours)\n")


def adapters(pack: AssignmentPack, package: Path, reading: str | None = None) -> dict[str, str]:
    """Module prefix -> source to append to the solution ``package`` so it speaks ``pack``'s
    API. ``reading`` picks how ``dropout_forward`` reads ``p`` when the version allows either.
    """
    version = Version.of(pack)
    reading = reading or ("keep" if version.dropout_p == "either" else version.dropout_p)
    out: dict[str, str] = {}
    for component, keywords in version.keywords.items():
        module, name = component.rsplit(".", 1)
        source = (package / pack.modules[module]).read_text(encoding="utf-8")
        out[module] = out.get(module, "") + _keyword_adapter(
            name, _defaults(source, name, set(keywords)), dict(keywords), reading)
    rules = dict(version.state_keys)
    if version.adam_first_t:
        rules.setdefault("adam", {})
    for rule, keys in rules.items():
        out["optim"] = out.get("optim", "") + _state_adapter(rule, dict(keys),
                                                             version.adam_first_t)
    if reading == "drop":
        out["layers"] = out.get("layers", "") + _DROP_READING
    return out
