"""/edit (a modal), /cubby pause|resume|status|expiry|import|retention on Discord, on the wire."""

from __future__ import annotations

import json
from typing import Any

from tests.loopback.discord_gateway import snowflake
from tests.loopback.discord_harness import ALICE, BOB, GUILD_ID, DiscordSession, Sent

MANAGE_GUILD = str(1 << 5)


async def cubby_command(
    cubby: DiscordSession,
    person: Any,
    sub: str,
    options: list[dict[str, Any]] | None = None,
    *,
    resolved: dict[str, Any] | None = None,
    permissions: str = "0",
) -> Sent:
    data: dict[str, Any] = {
        "id": cubby.command_ids().get("cubby", snowflake()),
        "name": "cubby",
        "type": 1,
        "guild_id": GUILD_ID,
        "options": [{"name": sub, "type": 1, "options": options or []}],
    }
    if resolved:
        data["resolved"] = resolved
    return await cubby._interact(person, 2, data, in_dm=False, permissions=permissions)


async def said(cubby: DiscordSession, sent: Sent) -> str:
    replies = await cubby.replies_to(sent)
    return replies[0].content


async def test_edit_opens_a_prefilled_modal_and_the_submission_replaces_the_text(
    cubby: DiscordSession,
) -> None:
    [record] = await cubby.memory(ALICE).add("my bike lock is 3-1-4")
    opened = await cubby.reply_to(await cubby.slash(ALICE, "edit", memory=record.id))
    assert opened.body["type"] == 9  # a modal
    modal = opened.body["data"]
    text_input = modal["components"][0]["components"][0]
    assert text_input["value"] == "my bike lock is 3-1-4"
    submit = {
        "custom_id": modal["custom_id"],
        "components": [
            {
                "type": 1,
                "components": [
                    {"type": 4, "custom_id": text_input["custom_id"], "value": "my bike lock is 2-7-1"}
                ],
            }
        ],
    }
    reply = await cubby.reply_to(await cubby._interact(ALICE, 5, submit, in_dm=False))
    assert "I now remember: my bike lock is 2-7-1" in reply.content and reply.flags & 64
    assert [r.text for r in await cubby.memory(ALICE).get_all()] == ["my bike lock is 2-7-1"]


async def test_edit_of_someone_elses_id_opens_nothing_and_changes_nothing(cubby: DiscordSession) -> None:
    [bobs] = await cubby.memory(BOB).add("bob's locker is 12")
    reply = await cubby.reply_to(await cubby.slash(ALICE, "edit", memory=bobs.id))
    assert reply.body["type"] == 4 and "no memory with that id" in reply.content
    assert [r.text for r in await cubby.memory(BOB).get_all()] == ["bob's locker is 12"]


async def test_remember_with_a_duration_and_a_past_one(cubby: DiscordSession) -> None:
    ok = await cubby.reply_to(await cubby.slash(ALICE, "remember", text="standup moved to 10 for 2 weeks"))
    assert "I'll erase it on" in ok.content
    past = await cubby.reply_to(await cubby.slash(ALICE, "remember", text="old news until 2001-01-01"))
    assert "already passed" in past.content
    [record] = await cubby.memory(ALICE).get_all()
    assert record.expires_at is not None and record.source is not None
    assert record.source.workspace == GUILD_ID and record.source.how == "typed"


async def test_pause_status_resume_and_default_expiry(cubby: DiscordSession) -> None:
    assert "I'm paused" in await said(cubby, await cubby_command(cubby, ALICE, "pause"))
    assert "I'm paused" in await said(cubby, await cubby_command(cubby, ALICE, "status"))
    assert "I'm learning" in await said(cubby, await cubby_command(cubby, ALICE, "resume"))
    duration = [{"name": "duration", "type": 3, "value": "30 days"}]
    assert "expire 30 days" in await said(cubby, await cubby_command(cubby, ALICE, "expiry", duration))


def _attachment(cubby: DiscordSession, content: bytes) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    attachment_id = snowflake()
    cubby.fake.attachments[attachment_id] = content
    url = f"{cubby.fake.api_base}/attachments/{attachment_id}"
    info = {"id": attachment_id, "filename": "mine.json", "size": len(content), "url": url, "proxy_url": url}
    return [{"name": "file", "type": 11, "value": attachment_id}], {"attachments": {attachment_id: info}}


async def test_import_of_an_attachment_is_idempotent_and_foreign_files_are_refused(
    cubby: DiscordSession,
) -> None:
    alice, bob = cubby.memory(ALICE), cubby.memory(BOB)
    await alice.add("I like oat milk")
    own = json.dumps(await alice.export()).encode()
    await alice.erase_everything()
    options, resolved = _attachment(cubby, own)
    assert "Imported 1 memory." in await said(
        cubby, await cubby_command(cubby, ALICE, "import", options, resolved=resolved)
    )
    options, resolved = _attachment(cubby, own)
    assert "1 I already had" in await said(
        cubby, await cubby_command(cubby, ALICE, "import", options, resolved=resolved)
    )
    await bob.add("bob's note")
    options, resolved = _attachment(cubby, json.dumps(await bob.export()).encode())
    assert "belongs to someone else" in await said(
        cubby, await cubby_command(cubby, ALICE, "import", options, resolved=resolved)
    )
    options, resolved = _attachment(cubby, b"{not json")
    assert "not a Cubby export" in await said(
        cubby, await cubby_command(cubby, ALICE, "import", options, resolved=resolved)
    )
    assert [r.text for r in await alice.get_all()] == ["I like oat milk"]


async def test_retention_needs_manage_server_and_shows_only_counts(cubby: DiscordSession) -> None:
    await cubby.reply_to(await cubby.slash(BOB, "remember", text="bob's private plan"))
    days = [{"name": "days", "type": 4, "value": 30}]
    refused = await said(cubby, await cubby_command(cubby, ALICE, "retention", days))
    assert "manage this server" in refused
    allowed = await said(
        cubby, await cubby_command(cubby, ALICE, "retention", days, permissions=MANAGE_GUILD)
    )
    assert "Retention is 30 days" in allowed and "erased 0" in allowed
    status = await said(cubby, await cubby_command(cubby, ALICE, "retention", permissions=MANAGE_GUILD))
    assert "0 memories made here are older" in status and "plan" not in status
    assert await cubby.memory(BOB).count() == 1
