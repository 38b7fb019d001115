"""Privacy by default: no telemetry, no files outside the data dir, no memory text in logs."""

import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

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
    assert written <= {"memories.sqlite3", "keys.sqlite3", "master.key", "mem0"}
    for name in written - {"mem0"}:
        assert (data / name).stat().st_mode & 0o777 == 0o600, name


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
