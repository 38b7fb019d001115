"""Privacy by default: no telemetry, no files outside the data dir, no memory text in logs."""

import json
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

import pytest

from core import Hub, UserKey

ROOT = Path(__file__).resolve().parent.parent

SESSION = textwrap.dedent(
    """
    import asyncio, sys
    from core import UserKey, open_hub

    async def main():
        async with open_hub(sys.argv[1]) as hub:
            alice = hub.scoped(UserKey.cli("alice"))
            await alice.add("I am vegetarian")
            await alice.search("food")
            await alice.delete_all()
        import mem0.memory.telemetry as telemetry
        print("telemetry", telemetry.MEM0_TELEMETRY)

    asyncio.run(main())
    """
)


def test_a_session_writes_only_inside_the_data_dir_and_sends_no_telemetry(tmp_path: Path) -> None:
    home, scratch, data = tmp_path / "home", tmp_path / "tmp", tmp_path / "data"
    home.mkdir()
    scratch.mkdir()
    environment = {
        "HOME": str(home),
        "TMPDIR": str(scratch),
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": str(ROOT),
    }
    qdrant_default_existed = Path("/tmp/qdrant").exists()  # mem0's default embedded store path
    finished = subprocess.run(
        [sys.executable, "-c", SESSION, str(data)],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert finished.returncode == 0, finished.stderr
    assert "telemetry False" in finished.stdout
    assert list(home.rglob("*")) == []
    assert list(scratch.rglob("*")) == []
    assert Path("/tmp/qdrant").exists() == qdrant_default_existed
    written = {p.relative_to(data).parts[0] for p in data.rglob("*")}
    assert written <= {"memories.sqlite3", "posts.sqlite3", "keys.sqlite3", "master.key", "mem0"}
    for name in written - {"mem0"}:
        assert (data / name).stat().st_mode & 0o777 == 0o600, name


# Records every attempt to resolve or reach an address that is not this machine, from the first line on.
OUTBOUND_AUDIT = textwrap.dedent(
    """
    import ipaddress, json, os, sys
    attempts = []

    def local(host):
        if host in ("localhost", "", None):
            return True
        try:
            return ipaddress.ip_address(host).is_loopback
        except ValueError:
            return False

    def audit(event, args):
        if event == "socket.getaddrinfo" and not local(args[0]):
            attempts.append(f"lookup {args[0]}")
        elif event == "socket.connect" and isinstance(args[1], tuple) and not local(args[1][0]):
            attempts.append(f"connect {args[1][0]}")
        elif event == "urllib.Request":
            attempts.append(f"request {args[0]}")

    sys.addaudithook(audit)
    """
)

INHERITED_TELEMETRY_SESSION = OUTBOUND_AUDIT + textwrap.dedent(
    """
    import asyncio
    if sys.argv[2] == "mem0-first":
        import mem0  # something else imported mem0 before Cubby could prepare its environment
    from core import UserKey, load_settings, open_hub

    async def main():
        settings = load_settings(data_dir=sys.argv[1])
        async with open_hub(settings=settings) as hub:
            alice = hub.scoped(UserKey.cli("alice"))
            for n in range(3):
                await alice.add(f"I am vegetarian {n}")
            await alice.search("food")
            await alice.delete_all()
        import mem0.memory.main as main_module
        import mem0.memory.telemetry as telemetry
        print(json.dumps({
            "telemetry": [telemetry.MEM0_TELEMETRY, main_module.MEM0_TELEMETRY],
            "posthog": telemetry.client_telemetry.posthog is not None,
            "telemetry_setting": settings.mem0_telemetry,
            "log_level": settings.log_level,
            "outbound": attempts,
        }))

    asyncio.run(main())
    """
)


@pytest.mark.parametrize("order", ["cubby-first", "mem0-first"])
def test_inherited_mem0_telemetry_stays_off_and_nothing_leaves_the_machine(
    tmp_path: Path, order: str
) -> None:
    environment = {
        "HOME": str(tmp_path),
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": str(ROOT),
        "MEM0_TELEMETRY": "true",  # inherited from the host, not Cubby's setting
        "MEM0_DIR": str(tmp_path / "elsewhere"),
        "LOG_LEVEL": "DEBUG",
    }
    finished = subprocess.run(
        [sys.executable, "-c", INHERITED_TELEMETRY_SESSION, str(tmp_path / "data"), order],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert finished.returncode == 0, finished.stderr
    seen = json.loads(finished.stdout.splitlines()[-1])
    assert seen["telemetry"] == [False, False] and seen["posthog"] is False
    assert (seen["telemetry_setting"], seen["log_level"]) == (False, "INFO")
    assert seen["outbound"] == []
    if order == "cubby-first":
        assert not (tmp_path / "elsewhere").exists()  # MEM0_DIR is Cubby's, inside the data dir


async def test_memory_text_never_appears_in_any_log_line(hub: Hub, every_log_record) -> None:
    secret = f"canary-{uuid.uuid4().hex}"
    alice = hub.scoped(UserKey.cli("alice"))
    [record] = await alice.add(f"My secret is {secret}")
    await alice.search(f"what is {secret}")
    await alice.get_all()
    await alice.delete(record.id)
    await alice.add(f"Again {secret}")
    await alice.delete_all()
    logged = [r.getMessage() for r in every_log_record]
    assert any(r.name.startswith("mem0") for r in every_log_record)  # mem0 did log, redacted
    assert [line for line in logged if secret in line] == []
