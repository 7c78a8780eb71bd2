"""The simulator's dialect packages import cleanly on their own and never import the server."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import server.simulator.dialects as dialects_package

DIALECTS = Path(dialects_package.__file__).parent

# Imports every module of the dialect packages in a fresh interpreter, each from a clean slate,
# and reports which ones pulled in the simulator's server (or failed to import).
PROBE = """
import importlib, json, sys
report = {}
for name in sys.argv[1:]:
    for loaded in [m for m in sys.modules if m.startswith("server.simulator")]:
        del sys.modules[loaded]
    try:
        importlib.import_module(name)
    except Exception as error:
        report[name] = f"import failed: {error!r}"
        continue
    if "server.simulator.server" in sys.modules:
        report[name] = "imports server.simulator.server"
print(json.dumps(report))
"""


def dialect_modules() -> list[str]:
    names = []
    for path in sorted(DIALECTS.rglob("*.py")):
        parts = path.relative_to(DIALECTS).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        names.append(".".join(("server.simulator.dialects", *parts)))
    return names


def test_every_dialect_module_imports_alone_without_the_server() -> None:
    modules = dialect_modules()
    assert "server.simulator.dialects.binance.orders" in modules
    assert "server.simulator.dialects.okx" in modules
    result = subprocess.run(
        [sys.executable, "-c", PROBE, *modules], capture_output=True, text=True, check=True
    )
    assert json.loads(result.stdout) == {}


def test_no_two_parts_of_a_dialect_define_the_same_name() -> None:
    """A dialect assembled from one class per module (Binance, Bybit, OKX): a name defined in
    two of them would silently shadow the other. Dialects built as one class over helper
    modules have nothing to shadow."""
    from server.simulator.dialects.base import Dialect
    from server.simulator.server import all_dialects

    for dialect in all_dialects():
        parts = [c for c in dialect.__mro__ if issubclass(c, Dialect) and c is not Dialect]
        if len(parts) == 1:
            continue
        owners: dict[str, list[str]] = {}
        for part in parts:
            for name in vars(part):
                if not name.startswith(("__", "_abc_")):
                    owners.setdefault(name, []).append(part.__name__)
        shared = {name: where for name, where in owners.items() if len(where) > 1}
        assert shared == {}, dialect.__name__
