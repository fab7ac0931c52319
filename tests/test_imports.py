"""Dependencies between nc's packages run one way (docs/ARCHITECTURE.md), at module level and inside functions."""

import ast
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src" / "nc"
# Each package may import the ones of lower layers only.
LAYERS = [
    {"methods", "io", "metrics"},
    {"records", "sections"},
    {"coding"},
    {"data"},
    {"models"},
    {"train"},
    {"eval"},
    {"pipeline", "analysis"},
    {"cli"},
]
LAYER_OF = {name: i for i, layer in enumerate(LAYERS) for name in layer}


def imports_of(path: Path) -> set[str]:
    """The nc packages / modules a file imports (absolute imports; relative ones stay in its package)."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and not node.level and node.module:
            names = [node.module] if node.module != "nc" else [f"nc.{a.name}" for a in node.names]
        else:
            continue
        found |= {n.split(".")[1] for n in names if n.startswith("nc.")}
    return found


def test_every_package_has_a_layer():
    packages = {p.name if p.is_dir() else p.stem for p in SRC.iterdir() if p.name != "__init__.py"}
    packages -= {"__pycache__"}
    assert packages <= set(LAYER_OF), sorted(packages - set(LAYER_OF))


def test_imports_run_one_way():
    upward = []
    for path in sorted(SRC.rglob("*.py")):
        parts = path.relative_to(SRC).parts
        own = parts[0] if len(parts) > 1 else path.stem
        for target in imports_of(path) - {own}:
            if LAYER_OF[target] >= LAYER_OF[own]:
                upward.append(f"{path.relative_to(SRC)} imports nc.{target}")
    assert not upward, upward
