"""Operator commands: ``cubby memories export|forget|import --user KEY`` for data requests,
``cubby memories reembed --model NAME`` to move the store to another embedding model, and
``cubby keys rotate`` for the master key.

They open the same data dir as the running bots; the store's WAL mode makes that safe. They never
create a store: pointed at a folder with no Cubby data, they say so and exit non-zero, instead of
answering "no memories" for someone whose memories are somewhere else. A forget also deletes the
DM posts Cubby made that quoted the memories, where a bot token is at hand (see
:mod:`bots.operator_posts`)."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path

from bots.operator_posts import delete_posts
from core import (
    InvalidInput,
    Settings,
    UserKey,
    commands,
    imports,
    open_hub,
    reembed,
    replies,
    rotate_master_key,
    storage,
)

# How long ``forget`` waits for another process's reader before it reports the erasure unflushed.
FLUSH_WAIT_SECONDS = 30.0


async def export_memories(settings: Settings, user: str, output: Path | None) -> int:
    key = UserKey.parse(user)
    storage.require_existing_store(settings)
    async with open_hub(settings=settings) as hub:
        document = await hub.scoped(key).export()
    text = json.dumps(document, ensure_ascii=False, indent=2)
    if output is None:
        print(text)
    else:
        storage.write_new_private_file(output, (text + "\n").encode("utf-8"))
        print(f"wrote {document['count']} memories of {key} to {output}", file=sys.stderr)
    return 0


async def forget_memories(
    settings: Settings, user: str, *, assume_yes: bool, ask: Callable[[str], str] = input
) -> int:
    key = UserKey.parse(user)
    storage.require_existing_store(settings)
    async with open_hub(settings=settings) as hub:
        memory = hub.scoped(key)
        count = await memory.count()
        if count == 0:
            storage.erase_exports(storage.exports_dir(settings.data_dir, key))
            print(f"{key} has no memories in {settings.data_dir}.", file=sys.stderr)
            return 0
        if not assume_yes:
            try:
                answer = ask(f"Erase all {count} memories of {key}? Type the user key to confirm: ")
            except EOFError:
                raise InvalidInput("no confirmation (end of input); nothing was erased; use --yes") from None
            if answer.strip() != str(key):
                print("Not confirmed; nothing was erased.", file=sys.stderr)
                return 1
        erased = await memory.erase_everything()
        flushed = await hub.settle_erasure(FLUSH_WAIT_SECONDS)
    storage.erase_exports(storage.exports_dir(settings.data_dir, key))
    print(replies.forgotten(erased.count), file=sys.stderr)
    for line in (await delete_posts(settings, key, erased.posts)).lines():
        print(line, file=sys.stderr)
    if not flushed:
        print(
            f"ERROR: the erasure is not flushed: another process has held a read open for over "
            f"{FLUSH_WAIT_SECONDS:.0f} s. The key is destroyed, so nothing of {key} can be read; old "
            "page images stay in the WAL until that reader ends. The next Cubby process to open the "
            "data dir completes the flush; run this command again to wait for it.",
            file=sys.stderr,
        )
        return 2
    return 0


def rotate_keys(settings: Settings, new_key_file: Path | None) -> int:
    """Re-wrap every person key under a new master key (no memory is re-encrypted)."""
    count, path = rotate_master_key(settings, new_key_file)
    print(f"re-wrapped {count} person keys under a new master key, now in {path}", file=sys.stderr)
    if settings.master_key is not None:
        print(
            f"set CUBBY_MASTER_KEY_FILE={path} (or CUBBY_MASTER_KEY to its contents) on every worker, "
            "then destroy the old key",
            file=sys.stderr,
        )
    return 0


async def reembed_store(
    settings: Settings, model: str, *, assume_yes: bool, ask: Callable[[str], str] = input
) -> int:
    """Re-embed every vector of the store with ``model``, after the operator confirms that every bot
    and worker on it is stopped (one still running the old model would mix the two)."""
    storage.require_existing_store(settings)
    if not assume_yes:
        where = settings.data_dir if settings.backend == "embedded" else "the database"
        question = (
            f"Re-embed every memory in {where} with the {model!r} model? "
            "Stop every Cubby bot and worker on it first. Type the model name: "
        )
        try:
            answer = ask(question)
        except EOFError:
            raise InvalidInput("no confirmation (end of input); nothing was changed; use --yes") from None
        if answer.strip() != model:
            print("Not confirmed; nothing was changed.", file=sys.stderr)
            return 1
    done = await reembed(settings, model)
    if done.rows == 0 and done.was == done.now:
        print(f"The store already uses the {done.now!r} model; nothing was changed.", file=sys.stderr)
    else:
        print(f"Re-embedded {done.rows} rows from {done.was!r} to {done.now!r}.", file=sys.stderr)
        print(f"Now run Cubby with CUBBY_EMBEDDING_MODEL={done.now}.", file=sys.stderr)
    return 0


async def import_memories(settings: Settings, user: str, source: Path) -> int:
    """Import a Cubby export into ``user``'s memory, whoever's export it was (an operator moves a
    person's data in, e.g. from another Cubby); every memory lands under ``user`` only. Importing
    the same file again adds nothing."""
    key = UserKey.parse(user)
    storage.require_existing_store(settings)
    try:
        if source.stat().st_size > imports.MAX_IMPORT_BYTES:
            raise InvalidInput(f"{source} is larger than {imports.MAX_IMPORT_BYTES // (1024 * 1024)} MB")
        content = source.read_bytes()
    except OSError:
        raise InvalidInput(f"{source} cannot be read") from None
    async with open_hub(settings=settings) as hub:
        result = await commands.import_export(hub.scoped(key), content, own_only=False)
    print(f"{key}: " + replies.imported(result), file=sys.stderr)
    return 0
