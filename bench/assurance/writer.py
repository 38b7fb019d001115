"""The child process of the durability check. It opens a hub on DATA_DIR, then writes for ever from a
few concurrent lanes and prints an acknowledgement line after each write returns:

    python -m bench.assurance.writer DATA_DIR ROUND SEED

``added <memory id> <lane> <n>`` after ``await memory.add(...)`` returned; ``deleting <memory id>``
before a delete is sent and ``deleted <memory id>`` after ``await memory.delete(...)`` returned True.
The parent kills it with SIGKILL at a random moment.
"""

from __future__ import annotations

import asyncio
import hashlib
import sys
from pathlib import Path

from core import ScopedMemory, UserKey, load_settings, open_hub

LANES = 3
DELETE_EVERY = 4


def written_text(seed: int, round_: int, lane: int, n: int) -> str:
    """The text of write ``n`` of ``lane`` in ``round_``, computable by the parent too."""
    digest = hashlib.sha256(f"{seed}/{round_}/{lane}/{n}".encode()).hexdigest()[:12]
    return f"durability round {round_} lane {lane} write {n} cnry{digest}"


def writer_key(round_: int) -> UserKey:
    return UserKey.cli(f"durability-{round_}")


def acknowledge(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


async def _lane(memory: ScopedMemory, seed: int, round_: int, lane: int) -> None:
    written: list[str] = []
    n = 0
    while True:
        [record] = await memory.add(written_text(seed, round_, lane, n))
        acknowledge(f"added {record.id} {lane} {n}")
        written.append(record.id)
        if n % DELETE_EVERY == DELETE_EVERY - 1:
            victim = written.pop(0)
            acknowledge(f"deleting {victim}")  # if killed before "deleted", either outcome is fine
            if await memory.delete(victim):
                acknowledge(f"deleted {victim}")
        n += 1


async def main(data_dir: Path, round_: int, seed: int) -> None:
    async with open_hub(settings=load_settings(data_dir=data_dir)) as hub:
        memory = hub.scoped(writer_key(round_))
        acknowledge("ready")
        await asyncio.gather(*(_lane(memory, seed, round_, lane) for lane in range(LANES)))


if __name__ == "__main__":
    asyncio.run(main(Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])))
