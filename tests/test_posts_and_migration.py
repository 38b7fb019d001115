"""What Cubby posted is forgotten with the memories it quoted; a workspace that joins Enterprise Grid
keeps its people's memories under their new key. On every backend."""

from __future__ import annotations

import asyncio
import os
import stat

import pytest

from core import Hub, InvalidInput, InvalidUserKey, PostRef, Settings, UserKey

pytestmark = pytest.mark.every_backend

ALICE = UserKey.slack("T0NORTH", "U0ALICE")
BOB = UserKey.slack("T0NORTH", "U0BOB")
CAROL_BEFORE = UserKey.slack("T0GRIDWS", "W0CAROL")
CAROL = UserKey.slack("E0GRID", "W0CAROL")


def dm_answer(number: int) -> PostRef:
    return PostRef("slack", "message", "DU0ALICE", f"{number}.000100")


EXPORT_FILE = PostRef("slack", "file", "", "F0EXPORT")


async def test_forgetting_everything_hands_back_every_post_and_keeps_no_reference(hub: Hub) -> None:
    alice = hub.scoped(ALICE)
    [jazz] = await alice.add("I like jazz")
    [tea] = await alice.add("I drink green tea")
    assert await alice.record_post(dm_answer(1), [jazz.id])
    assert await alice.record_post(EXPORT_FILE, [jazz.id, tea.id])
    assert set(await alice.posts()) == {dm_answer(1), EXPORT_FILE}

    erased = await alice.erase_everything()

    assert erased.count == 2 and set(erased.posts) == {dm_answer(1), EXPORT_FILE}
    assert await alice.posts() == [] and await alice.count() == 0


async def test_forgetting_one_memory_hands_back_only_the_posts_that_quoted_it(hub: Hub) -> None:
    alice = hub.scoped(ALICE)
    [jazz] = await alice.add("I like jazz")
    [tea] = await alice.add("I drink green tea")
    await alice.record_post(dm_answer(1), [jazz.id])
    await alice.record_post(dm_answer(2), [tea.id])
    await alice.record_post(EXPORT_FILE, [jazz.id, tea.id])

    erased = await alice.erase_one(jazz.id)

    assert erased.count == 1 and set(erased.posts) == {dm_answer(1), EXPORT_FILE}
    assert await alice.posts() == [dm_answer(2)]


async def test_a_post_recorded_after_its_memory_was_forgotten_is_refused_for_deletion(hub: Hub) -> None:
    alice = hub.scoped(ALICE)
    [jazz] = await alice.add("I like jazz")
    await alice.delete_all()

    assert await alice.record_post(dm_answer(1), [jazz.id]) is False
    assert await alice.posts() == []


async def test_delete_all_erases_the_references_with_the_person(hub: Hub) -> None:
    alice = hub.scoped(ALICE)
    [jazz] = await alice.add("I like jazz")
    await alice.record_post(dm_answer(1), [jazz.id])
    assert await alice.delete_all() == 1
    assert await alice.posts() == []


async def test_nobody_can_tag_a_post_with_someone_elses_memory_or_take_their_posts(hub: Hub) -> None:
    [secret] = await hub.scoped(ALICE).add("my PIN hint is the dog's birthday")
    await hub.scoped(ALICE).record_post(dm_answer(1), [secret.id])
    bob = hub.scoped(BOB)

    assert await bob.record_post(dm_answer(9), [secret.id]) is False
    assert (await bob.erase_one(secret.id)).posts == []
    assert (await bob.erase_everything()).posts == []
    assert await hub.scoped(ALICE).posts() == [dm_answer(1)]


@pytest.mark.parametrize(
    "make",
    [
        lambda: PostRef("slack", "message", "D1", "1.2; DROP TABLE"),
        lambda: PostRef("email", "message", "D1", "1"),
        lambda: PostRef("slack", "thread", "D1", "1"),
        lambda: PostRef("slack", "message", "D*", "1"),
    ],
)
def test_a_malformed_post_reference_is_refused(make) -> None:
    with pytest.raises(InvalidInput):
        make()


async def test_the_reference_file_is_private_and_holds_no_text(hub: Hub, settings: Settings) -> None:
    alice = hub.scoped(ALICE)
    [jazz] = await alice.add("I like jazz")
    await alice.record_post(dm_answer(1), [jazz.id])
    if settings.backend == "embedded":
        path = settings.data_dir / "posts.sqlite3"
        assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
        assert b"jazz" not in path.read_bytes()


async def test_a_grid_migration_keeps_the_memories_and_then_erases_them(hub: Hub) -> None:
    before = hub.scoped(CAROL_BEFORE)
    [jazz] = await before.add("I like jazz")
    await before.add("I drink green tea")
    await before.record_post(dm_answer(1), [jazz.id])

    assert await hub.migrate(CAROL_BEFORE, CAROL) == 2

    carol = hub.scoped(CAROL)
    assert [r.text for r in await carol.get_all()] == ["I like jazz", "I drink green tea"]
    assert [r.text for r in await carol.search("music")][:1] == ["I like jazz"]
    assert await before.count() == 0 and await before.posts() == []
    assert await carol.posts() == [dm_answer(1)]
    assert await hub.migrate(CAROL_BEFORE, CAROL) == 0  # nothing left to move

    moved_jazz = next(r for r in await carol.get_all() if r.text == "I like jazz")
    assert (await carol.erase_one(moved_jazz.id)).posts == [dm_answer(1)]
    assert (await carol.erase_everything()).count == 1
    assert await carol.count() == 0 and await before.count() == 0


async def test_concurrent_migrations_move_each_memory_once(hub: Hub) -> None:
    await hub.scoped(CAROL_BEFORE).add("I like jazz")
    moved = await asyncio.gather(*(hub.migrate(CAROL_BEFORE, CAROL) for _ in range(3)))
    assert sorted(moved) == [0, 0, 1]
    assert await hub.scoped(CAROL).count() == 1


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (BOB, CAROL),  # another user id
        (ALICE, UserKey.slack("T0SOUTH", "U0ALICE")),  # team to team
        (CAROL, CAROL_BEFORE),  # enterprise back to team
        (UserKey.discord(81234567890123456), UserKey.slack("E0GRID", "81234567890123456")),
    ],
)
async def test_a_migration_only_moves_a_slack_team_person_to_their_own_enterprise_key(
    hub: Hub, old: UserKey, new: UserKey
) -> None:
    await hub.scoped(old).add("something private")
    with pytest.raises(InvalidUserKey):
        await hub.migrate(old, new)
    assert await hub.scoped(old).count() == 1
