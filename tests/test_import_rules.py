"""House rules checked from the source: one door to mem0, adapters use only the core's public API,
and the core knows no chat platform."""

import ast
from pathlib import Path

import core

ROOT = Path(__file__).resolve().parent.parent
PLATFORM_LIBRARIES = {"slack_bolt", "slack_sdk", "discord", "aiohttp"}


def imports(path: Path) -> list[tuple[str, list[str]]]:
    """(module, names) for every import statement in a file."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.extend((alias.name, []) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.append((node.module, [alias.name for alias in node.names]))
    return found


def python_files(*folders: str) -> list[Path]:
    return [p for folder in folders for p in (ROOT / folder).rglob("*.py")]


def test_only_the_core_memory_module_imports_mem0() -> None:
    offenders = [
        str(path.relative_to(ROOT))
        for path in python_files("core", "bots", "bench")
        if any(module.split(".")[0] == "mem0" for module, _ in imports(path))
        and not path.is_relative_to(ROOT / "core" / "memory")
    ]
    assert offenders == []


def test_adapters_use_only_the_cores_public_api() -> None:
    offenders = []
    for path in python_files("bots"):
        for module, names in imports(path):
            if module.startswith("core.") or (module == "core" and not set(names) <= set(core.__all__)):
                offenders.append(f"{path.relative_to(ROOT)}: {module} {names}")
    assert offenders == []


def test_the_core_imports_no_chat_platform() -> None:
    offenders = [
        str(path.relative_to(ROOT))
        for path in python_files("core")
        if any(module.split(".")[0] in PLATFORM_LIBRARIES for module, _ in imports(path))
    ]
    assert offenders == []
