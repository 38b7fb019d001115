"""The terminal's commands for a person's memory in their hands: /edit, expiry, /pause, /import."""

import json
from pathlib import Path

from core import Hub, UserKey
from tests.test_terminal import run_chat

ALICE = UserKey.cli("alice")


async def test_edit_by_id_and_a_foreign_id_is_refused(hub: Hub, tmp_path: Path) -> None:
    [mine] = await hub.scoped(ALICE).add("my desk is 4B")
    [bobs] = await hub.scoped(UserKey.cli("bob")).add("bob's desk is 9C")
    script = await run_chat(
        hub, tmp_path, "alice", [f"/edit {mine.id} my desk is 5A", f"/edit {bobs.id} mine now", "/edit x"]
    )
    assert "I now remember: my desk is 5A" in script.said[1]
    assert "no memory with that id" in script.said[2]
    assert "id of the memory" in script.said[3]
    assert [r.text for r in await hub.scoped(UserKey.cli("bob")).get_all()] == ["bob's desk is 9C"]
    assert [r.text for r in await hub.scoped(ALICE).get_all()] == ["my desk is 5A"]


async def test_remember_for_a_while_and_a_past_date_is_refused(hub: Hub, tmp_path: Path) -> None:
    script = await run_chat(
        hub,
        tmp_path,
        "alice",
        ["/remember door code is 1234 for 2 weeks", "/remember x until 2001-01-01", "/recall"],
    )
    assert "I'll erase it on" in script.said[1]
    assert "already passed" in script.said[2]
    assert "expires" in script.said[3] and "you told me, cli terminal" in script.said[3]
    assert await hub.scoped(ALICE).count() == 1


async def test_default_expiry_and_status(hub: Hub, tmp_path: Path) -> None:
    script = await run_chat(
        hub, tmp_path, "alice", ["/expiry 30 days", "/status", "/expiry later", "/expiry off"]
    )
    assert "expire 30 days after" in script.said[1] and "expire 30 days after" in script.said[2]
    assert "Sorry" in script.said[3]
    assert "kept until you forget them" in script.said[4]


async def test_import_own_export_twice_adds_nothing_the_second_time(hub: Hub, tmp_path: Path) -> None:
    alice = hub.scoped(ALICE)
    await alice.add("first")
    export_path = tmp_path / "mine.json"
    export_path.write_text(json.dumps(await alice.export()))
    await alice.erase_everything()
    script = await run_chat(hub, tmp_path, "alice", [f"/import {export_path}", f"/import {export_path}"])
    assert "Imported 1 memory." in script.said[1]
    assert "Imported 0 memories. 1 I already had were skipped." in script.said[2]


async def test_a_foreign_or_malformed_import_changes_nothing(hub: Hub, tmp_path: Path) -> None:
    bob = hub.scoped(UserKey.cli("bob"))
    await bob.add("bob's")
    foreign = tmp_path / "bob.json"
    foreign.write_text(json.dumps(await bob.export()))
    broken = tmp_path / "broken.json"
    broken.write_text("{")
    big = tmp_path / "big.json"
    big.write_bytes(b" " * (5 * 1024 * 1024 + 1))
    lines = [f"/import {foreign}", f"/import {broken}", f"/import {big}", "/import /no/such/file"]
    script = await run_chat(hub, tmp_path, "alice", lines)
    assert "belongs to someone else" in script.said[1]
    assert "not a Cubby export" in script.said[2]
    assert "larger than 5 MB" in script.said[3]
    assert "no file" in script.said[4]
    assert await hub.scoped(ALICE).count() == 0
