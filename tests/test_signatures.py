"""No function of the library takes more than 8 parameters (settings travel as a config).

Every function and method of ``molgen/`` and ``equivariant/``, public or private, nested or
not, is read from the source (``self``/``cls`` not counted; ``*args`` and ``**kwargs`` count
one each). The CLI's subcommands are exempt: typer turns each of their parameters into a
command-line option, and they only hand them on to a config.
"""

from __future__ import annotations

import ast

from tests.conftest import REPO_ROOT

MAX_PARAMETERS = 8


def _count(node: ast.FunctionDef | ast.AsyncFunctionDef, is_method: bool) -> int:
    args = node.args
    names = [a.arg for a in args.posonlyargs + args.args + args.kwonlyargs]
    if is_method and names and names[0] in ("self", "cls"):
        names = names[1:]
    return len(names) + (args.vararg is not None) + (args.kwarg is not None)


def _functions(tree: ast.AST):
    def walk(node, in_class):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                yield child, in_class
                yield from walk(child, False)
            elif isinstance(child, ast.ClassDef):
                yield from walk(child, True)
            else:
                yield from walk(child, in_class)

    yield from walk(tree, False)


def test_no_function_takes_more_than_eight_parameters():
    """Parameter count <= 8 for every function outside the CLI's subcommands."""
    too_many = []
    for root in ("molgen", "equivariant"):
        for path in sorted((REPO_ROOT / root).rglob("*.py")):
            tree = ast.parse(path.read_text(), str(path))
            for node, is_method in _functions(tree):
                if path.name == "cli.py" and node.name.endswith("_command"):
                    continue
                n = _count(node, is_method)
                if n > MAX_PARAMETERS:
                    where = path.relative_to(REPO_ROOT)
                    too_many.append(f"{where}:{node.lineno} {node.name} ({n})")
    assert not too_many, "\n".join(too_many)
