"""Conversation: DMs and mentions get an answer; in a server, every answer about someone's memory (even
"I know nothing about that") goes to them by DM and the channel only sees a pointer - the help text is
the one reply posted there; nothing Cubby sends can ping anyone."""

from __future__ import annotations

from bots.discord.cogs.conversation import SENT_BY_DM
from tests.loopback.discord_harness import ALICE, BOT_USER, CHANNEL_ID, OTHER_BOT, DiscordSession


async def test_a_dm_is_answered_in_the_dm_from_the_persons_memories(cubby: DiscordSession) -> None:
    await cubby.memory(ALICE).add("I am vegetarian")
    mark = cubby.fake.mark()

    message_id = await cubby.say(ALICE, "what food do I like?", in_dm=True)
    [reply] = await cubby.messages_in(ALICE.dm_channel_id, after=mark)

    assert "I am vegetarian" in reply.content
    assert reply.body["allowed_mentions"] == {"parse": [], "replied_user": False}
    assert str(reply.body["message_reference"]["message_id"]) == message_id


async def test_a_mention_whose_answer_uses_memories_is_answered_by_dm_with_a_pointer_in_the_channel(
    cubby: DiscordSession,
) -> None:
    await cubby.memory(ALICE).add("My locker code is 4512")
    mark = cubby.fake.mark()

    await cubby.say(ALICE, "what is my locker code?", mention_bot=True)
    [dm] = await cubby.messages_in(ALICE.dm_channel_id, after=mark)
    [pointer] = await cubby.messages_in(CHANNEL_ID, after=mark)

    assert dm.content.startswith(f"About your message in <#{CHANNEL_ID}>:")
    assert "My locker code is 4512" in dm.content
    assert pointer.content == SENT_BY_DM
    assert pointer.body["allowed_mentions"] == {"parse": [], "replied_user": False}
    channel_text = " ".join(
        r.content for r in cubby.fake.requests[mark:] if r.path.endswith(f"{CHANNEL_ID}/messages")
    )
    assert "4512" not in channel_text


async def test_a_mention_from_someone_whose_dms_are_closed_gets_a_pointer_to_recall_and_no_memories(
    cubby: DiscordSession,
) -> None:
    await cubby.memory(ALICE).add("My locker code is 4512")
    cubby.fake.users_refusing_dms.add(ALICE.id)
    mark = cubby.fake.mark()

    await cubby.say(ALICE, "what is my locker code?", mention_bot=True)
    [pointer] = await cubby.messages_in(CHANNEL_ID, after=mark)

    assert "I can't DM you" in pointer.content and "/recall" in pointer.content
    assert "4512" not in pointer.content


async def test_a_mention_cubby_knows_nothing_about_is_still_answered_by_dm(cubby: DiscordSession) -> None:
    """ "I know nothing about that" says something about the person too, so the channel never sees it."""
    mark = cubby.fake.mark()

    await cubby.say(ALICE, "what is my favourite colour?", mention_bot=True)
    [dm] = await cubby.messages_in(ALICE.dm_channel_id, after=mark)
    [pointer] = await cubby.messages_in(CHANNEL_ID, after=mark)

    assert dm.content.endswith("I don't remember anything about that yet. Tell me with /remember <text>.")
    assert pointer.content == SENT_BY_DM
    assert pointer.body["allowed_mentions"] == {"parse": [], "replied_user": False}


async def test_a_bare_mention_gets_the_help_text(cubby: DiscordSession) -> None:
    mark = cubby.fake.mark()

    await cubby.say(ALICE, "", mention_bot=True)
    [reply] = await cubby.messages_in(CHANNEL_ID, after=mark)

    assert reply.content.startswith("I keep a private memory for you. Commands:")


async def test_a_remembered_mention_is_shown_as_text_and_pings_nobody(cubby: DiscordSession) -> None:
    await cubby.memory(ALICE).add("Ask <@1200000000000000102> and @everyone about the party")
    mark = cubby.fake.mark()

    await cubby.say(ALICE, "who do I ask about the party?", in_dm=True)
    [reply] = await cubby.messages_in(ALICE.dm_channel_id, after=mark)

    assert "<@\u200b1200000000000000102>" in reply.content and "@\u200beveryone" in reply.content
    assert reply.body["allowed_mentions"]["parse"] == []


async def test_server_messages_without_a_mention_bots_webhooks_and_cubby_itself_are_ignored(
    cubby: DiscordSession,
) -> None:
    await cubby.memory(ALICE).add("I am vegetarian")
    mark = cubby.fake.mark()
    cubby_itself = type(ALICE)(BOT_USER["id"], "Cubby", bot=True)

    await cubby.say(ALICE, "lunch anyone? I am vegetarian")
    await cubby.say(OTHER_BOT, "what food do I like?", mention_bot=True)
    await cubby.say(OTHER_BOT, "what food do I like?", in_dm=True)
    await cubby.say(cubby_itself, "what food do I like?", mention_bot=True)
    await cubby.say(ALICE, "what food do I like?", mention_bot=True, webhook=True)
    await cubby.say(ALICE, "what food do I like?", mention_bot=True, message_type=6)  # a pin notice
    # Events are handled in order: once this DM is answered, every message above has been dealt with.
    await cubby.say(ALICE, "what food do I like?", in_dm=True)
    await cubby.messages_in(ALICE.dm_channel_id, after=mark)

    assert [r.path for r in cubby.fake.requests[mark:]] == [f"/channels/{ALICE.dm_channel_id}/messages"]


async def test_an_answer_longer_than_one_message_is_split_within_the_limit(cubby: DiscordSession) -> None:
    for number in range(3):
        await cubby.memory(ALICE).add(f"travel note {number}: " + "luggage " * 200)
    mark = cubby.fake.mark()

    await cubby.say(ALICE, "travel notes luggage", in_dm=True)
    replies = await cubby.messages_in(ALICE.dm_channel_id, after=mark, count=2)

    assert all(len(reply.content) <= 2000 for reply in replies)
    assert all(reply.body["allowed_mentions"]["parse"] == [] for reply in replies)
