"""One of the two Cubby processes of ``test_two_cubby_processes_write_and_read_the_same_people_at_once``.

Run as ``python -m tests.backends.shared_database_worker <a|b> <data dir>`` with ``CUBBY_BACKEND=postgres``
and ``CUBBY_DATABASE_URL`` set. Both processes write notes for the same six people at the same time,
reading back after every write; then each waits to see the other's notes, process ``a`` forgets the
first person and process ``b`` waits to see that happen. The last line printed is a JSON report.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

from core import ScopedMemory, UserKey, load_settings, open_hub

ROUNDS = 8
PEOPLE = 6


async def eventually(condition: Callable[[], Awaitable[bool]], seconds: float = 60.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if await condition():
            return True
        await asyncio.sleep(0.05)
    return False


async def counts_are(people: list[ScopedMemory], expected: int) -> bool:
    return all([await person.count() == expected for person in people])


async def main(name: str, data_dir: Path) -> dict[str, object]:
    async with open_hub(settings=load_settings(data_dir=data_dir)) as hub:
        people = [hub.scoped(UserKey.cli(f"shared-{i}")) for i in range(PEOPLE)]
        foreign = 0
        for round_ in range(ROUNDS):
            for index, person in enumerate(people):
                await person.add(f"process {name} round {round_} note for person {index}")
                seen = await person.search("a note for this person", limit=20) + await person.get_all()
                foreign += sum(1 for record in seen if not record.text.endswith(f"for person {index}"))
        # Process b never erases, so process a can wait for the first person too.
        watched = people if name == "a" else people[1:]
        saw_the_other = await eventually(lambda: counts_are(watched, 2 * ROUNDS))
        if name == "a":
            await people[0].delete_all()
            saw_the_erasure = await people[0].count() == 0
        else:
            saw_the_erasure = await eventually(lambda: counts_are(people[:1], 0))
    return {"foreign": foreign, "saw_the_other_process": saw_the_other and saw_the_erasure}


if __name__ == "__main__":
    print(json.dumps(asyncio.run(main(sys.argv[1], Path(sys.argv[2])))))
