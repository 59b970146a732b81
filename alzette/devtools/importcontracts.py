"""An import-linter contract for modules that must stay free of the web framework.

import-linter's built-in ``forbidden`` contract sees external packages only as
whole packages ("django"), so it cannot forbid ``django.http`` while allowing
``django.db``. This contract reads the import statements of the source modules,
and of every project module they import directly or indirectly, and fails on
any import of a forbidden external submodule.
"""

from __future__ import annotations

import ast
import importlib.util
from collections.abc import Iterator

from grimp import ImportGraph
from importlinter.application import output
from importlinter.domain import fields
from importlinter.domain.contract import Contract, ContractCheck
from importlinter.domain.helpers import module_expressions_to_modules


def _imports_of(module: str) -> Iterator[tuple[str, int]]:
    """(imported module, line number) for every import statement in ``module``."""
    spec = importlib.util.find_spec(module)
    if spec is None or not spec.origin or not spec.origin.endswith(".py"):
        return
    with open(spec.origin, encoding="utf-8") as source:
        tree = ast.parse(source.read(), filename=spec.origin)
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            yield node.module, node.lineno
            for alias in node.names:  # "from django import http" imports django.http
                yield f"{node.module}.{alias.name}", node.lineno


def _is_forbidden(imported: str, forbidden: set[str]) -> str | None:
    for prefix in forbidden:
        if imported == prefix or imported.startswith(prefix + "."):
            return prefix
    return None


class FrameworkFreeContract(Contract):
    """Source modules (and what they import) must not import the forbidden modules.

    Options: ``source_modules`` (module expressions, wildcards allowed) and
    ``forbidden_modules`` (dotted names, external submodules allowed).
    """

    type_name = "framework_free"

    source_modules = fields.ListField(subfield=fields.ModuleExpressionField())
    forbidden_modules = fields.ListField(subfield=fields.StringField())

    def check(self, graph: ImportGraph, verbose: bool) -> ContractCheck:
        forbidden = set(self.forbidden_modules)  # type: ignore[arg-type]
        sources = module_expressions_to_modules(graph, self.source_modules)  # type: ignore[arg-type]
        violations = []
        for source in sorted(module.name for module in sources):
            reachable = {source} | graph.find_upstream_modules(source)
            for module in sorted(reachable):
                for imported, line in _imports_of(module):
                    if _is_forbidden(imported, forbidden):
                        violations.append(
                            {"source": source, "module": module, "imported": imported, "line": line}
                        )
        return ContractCheck(kept=not violations, metadata={"violations": violations})

    def render_broken_contract(self, check: ContractCheck) -> None:
        for violation in check.metadata["violations"]:
            via = (
                ""
                if violation["module"] == violation["source"]
                else f" (via {violation['module']})"
            )
            output.print_error(
                f"{violation['source']}{via} imports {violation['imported']} "
                f"(l.{violation['line']})",
                bold=False,
            )
            output.new_line()
