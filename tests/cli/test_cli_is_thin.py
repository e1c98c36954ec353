"""``molgen/cli.py`` holds parsing and reporting only: each subcommand hands its options to
one library entry point.

Read from the source: every ``*_command`` function calls exactly one of the entry points
below (parsing helpers, config constructors and reporting calls aside), and the module
imports molgen at module level only for the settings classes (whose defaults its options
show); everything else is imported inside the commands.
"""

from __future__ import annotations

import ast

from tests.conftest import REPO_ROOT

ENTRY_POINTS = {
    "run_checks",
    "run_backbone_sampling",
    "run_conformer_sampling",
    "run_scoring",
    "train_backbone",
    "train_conformer",
    "prepare_chain_set",
}
TOP_LEVEL_IMPORTS = {"molgen.errors", "molgen.sample.config", "molgen.score"}


def _tree() -> ast.Module:
    path = REPO_ROOT / "molgen" / "cli.py"
    return ast.parse(path.read_text(), str(path))


def _called(node: ast.AST) -> list[str]:
    names = []
    for call in ast.walk(node):
        if isinstance(call, ast.Call) and isinstance(call.func, ast.Name):
            names.append(call.func.id)
    return names


def test_each_subcommand_calls_one_entry_point():
    """Every *_command calls exactly one library entry point."""
    commands = [
        node
        for node in _tree().body
        if isinstance(node, ast.FunctionDef) and node.name.endswith("_command")
    ]
    assert len(commands) == 7
    for command in commands:
        entry = [name for name in _called(command) if name in ENTRY_POINTS]
        assert len(entry) == 1, (command.name, entry)


def test_module_level_imports_are_the_settings_only():
    """At module level cli.py imports typer, the standard library and the settings classes."""
    imported = {
        node.module
        for node in _tree().body
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("molgen")
    }
    assert imported <= TOP_LEVEL_IMPORTS
