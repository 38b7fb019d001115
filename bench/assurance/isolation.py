"""Isolation: many randomized probes through the public API, counting every record returned to
someone it does not belong to.

Searches are the expensive probe (each distinct query is embedded once, then cached), so queries come
from a pool and cheap probes are mixed in: by-id reads and deletes of other people's memory ids,
listings, adversarial keys, filters smuggled into calls, malformed ids and workspace listings. The
mix is printed with the figure. After the probes every person must still hold exactly what they had.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections import Counter
from collections.abc import Awaitable, Callable

from bench.assurance.keys import FIXED_ADVERSARIAL, adversarial_key
from bench.assurance.population import Population, populate, query_pool
from bench.assurance.report import Figure, percent_mix
from core import CubbyError, Hub, InvalidUserKey, ScopedMemory, UserKey

WEIGHTS = {
    "search": 40,
    "get by id": 14,
    "delete foreign id": 8,
    "list/count/export": 10,
    "adversarial key": 20,
    "smuggled filter": 4,
    "malformed id": 3,
    "workspace listing": 1,
}
BATCH = 32
MALFORMED_IDS = ("", "*", "%", " ", "' OR 1=1 --", "../../etc/passwd", "00000000-0000-4000-8000-00000000000")


class Probes:
    """One probe per call of :meth:`run`; tallies what came back."""

    def __init__(self, hub: Hub, population: Population, queries: list[str], rng: random.Random) -> None:
        self.hub = hub
        self.population = population
        self.queries = queries
        self.rng = rng
        self.kinds: Counter[str] = Counter()
        self.records_returned = 0
        self.foreign = 0
        self.refused = 0
        self.accepted_foreign_deletes = 0
        self.keys_refused = 0
        self.keys_naming_another_person = 0
        self.unexpected: Counter[str] = Counter()
        self.probes: dict[str, Callable[[], Awaitable[None]]] = {
            "search": self.probe_search,
            "get by id": self.probe_get,
            "delete foreign id": self.probe_delete,
            "list/count/export": self.probe_list,
            "adversarial key": self.probe_adversarial,
            "smuggled filter": self.probe_smuggled,
            "malformed id": self.probe_malformed,
            "workspace listing": self.probe_workspace,
        }
        self.kind_names = list(WEIGHTS)
        self.kind_weights = list(WEIGHTS.values())

    def person(self) -> tuple[str, ScopedMemory]:
        key = self.rng.choice(self.population.keys)
        return key, self.population.people[key]

    def check(self, key: str, records: list) -> None:
        self.records_returned += len(records)
        self.foreign += self.population.foreign(key, records)

    async def run(self) -> None:
        kind = self.rng.choices(self.kind_names, self.kind_weights)[0]
        self.kinds[kind] += 1
        try:
            await self.probes[kind]()
        except CubbyError:
            self.refused += 1
        except Exception as error:  # a crash of the public API is a finding, not a refusal
            self.unexpected[type(error).__name__] += 1

    async def probe_search(self) -> None:
        key, memory = self.person()
        self.check(
            key, await memory.search(self.rng.choice(self.queries), limit=self.rng.choice([1, 5, 100]))
        )

    async def probe_get(self) -> None:
        key, memory = self.person()
        memory_id = self.rng.choice(self.population.memory_ids)
        record = await memory.get(memory_id)
        mine = self.population.owner_of[memory_id] == key
        if record is None:
            if mine:
                self.unexpected["own memory not found by id"] += 1
        else:
            self.check(key, [record])

    async def probe_delete(self) -> None:
        key, memory = self.person()
        memory_id = self.rng.choice(self.population.memory_ids)
        if self.population.owner_of[memory_id] == key:
            return  # the population must stay intact; a foreign id is the point of this probe
        if await memory.delete(memory_id):
            self.accepted_foreign_deletes += 1

    async def probe_list(self) -> None:
        key, memory = self.person()
        action = self.rng.randrange(3)
        if action == 0:
            self.check(key, await memory.get_all())
        elif action == 1:
            if await memory.count() != len(self.population.texts[key]):
                self.unexpected["count differs from what the person holds"] += 1
        else:
            document = await memory.export()
            if document["user"] != key:
                self.foreign += 1
            for item in document["memories"]:
                self.records_returned += 1
                own = self.population.texts[key]
                if item["id"] not in own or item["text"] != own[item["id"]]:
                    self.foreign += 1

    async def probe_adversarial(self) -> None:
        source_key = self.rng.choice(self.population.keys)
        raw = self.rng.choice(FIXED_ADVERSARIAL) if self.rng.random() < 0.05 else None
        raw = raw if raw is not None else adversarial_key(self.rng, source_key)
        try:
            self.hub.scoped(raw)  # type: ignore[arg-type]  # a plain string is always refused
            self.unexpected["hub.scoped accepted a plain string"] += 1
        except InvalidUserKey:
            pass
        try:
            key = UserKey.parse(raw)
        except InvalidUserKey:
            self.keys_refused += 1
            raise
        # A canonical key is exactly the person it names - perhaps someone in the population.
        self.keys_naming_another_person += 1
        memory = self.hub.scoped(key)
        self.check(str(key), await memory.search(self.rng.choice(self.queries)))
        self.check(str(key), await memory.get_all())

    async def probe_smuggled(self) -> None:
        _, memory = self.person()
        target = self.rng.choice(self.population.keys)
        attempts: list[Callable[[], object]] = [
            lambda: memory.search("food", filters={"user_id": "*"}),  # type: ignore[call-arg]
            lambda: memory.search("food", user_id=target),  # type: ignore[call-arg]
            lambda: memory.get_all(filters={"user_id": target}),  # type: ignore[call-arg]
            lambda: memory.delete_all(user_id="*"),  # type: ignore[call-arg]
            lambda: memory.add("x", user_id=target),  # type: ignore[call-arg]
            lambda: ScopedMemory(self.hub, UserKey.parse(target)),
            lambda: UserKey("slack", ("T1", "*")),
            lambda: UserKey("cli", ("*",)),
        ]
        try:
            outcome = self.rng.choice(attempts)()
        except (TypeError, InvalidUserKey):
            self.refused += 1
            return
        if asyncio.iscoroutine(outcome):
            outcome.close()
        self.unexpected["a smuggled user or filter was accepted"] += 1

    async def probe_malformed(self) -> None:
        key, memory = self.person()
        foreign_id = self.rng.choice(self.population.memory_ids)
        memory_id = self.rng.choice(
            [*MALFORMED_IDS, foreign_id.upper(), f" {foreign_id}", foreign_id + "*", foreign_id[:-1] + "%"]
        )
        record = await memory.get(memory_id)
        if record is not None:
            self.check(key, [record])
        if await memory.delete(memory_id):
            self.accepted_foreign_deletes += 1

    async def probe_workspace(self) -> None:
        key = self.rng.choice(self.population.keys)
        prefix = self.rng.choice([key.rsplit(":", 1)[0] + ":", key.rsplit(":", 1)[0], "slack:", "*:", ""])
        for found in await self.hub.users_in_workspace(prefix):
            if not str(found).startswith(prefix):
                self.foreign += 1


async def _intact(population: Population) -> int:
    """People whose memories are no longer exactly what they were given."""
    disturbed = 0
    for key, memory in population.people.items():
        held = {record.id: record.text for record in await memory.get_all()}
        disturbed += held != population.texts[key]
    return disturbed


async def check_isolation(hub: Hub, *, probes: int, people: int, queries: int, seed: int) -> Figure:
    started = time.perf_counter()
    rng = random.Random(seed)
    population = await populate(hub, people, rng)
    pool = query_pool(population, rng, queries)
    runner = Probes(hub, population, pool, rng)
    done = 0
    while done < probes:
        batch = min(BATCH, probes - done)
        await asyncio.gather(*(runner.run() for _ in range(batch)))
        done += batch
    disturbed = await _intact(population)
    unexpected = sum(runner.unexpected.values())
    passed = (
        runner.foreign == 0 and runner.accepted_foreign_deletes == 0 and disturbed == 0 and not unexpected
    )
    return Figure(
        guarantee="isolation",
        volume=f"{probes:,} probes",
        mix=f"{people} people, {len(pool):,} queries; " + percent_mix(dict(runner.kinds)),
        result=(
            f"foreign records: {runner.foreign}  foreign deletes accepted: "
            f"{runner.accepted_foreign_deletes}  people disturbed: {disturbed}  errors: {unexpected}"
        ),
        passed=passed,
        data={
            "probes": probes,
            "people": people,
            "memories": len(population.owner_of),
            "query_pool": len(pool),
            "seed": seed,
            "mix": dict(runner.kinds),
            "records_returned": runner.records_returned,
            "refused": runner.refused,
            "adversarial_keys_refused": runner.keys_refused,
            "adversarial_keys_naming_another_person": runner.keys_naming_another_person,
            "foreign_records": runner.foreign,
            "foreign_deletes_accepted": runner.accepted_foreign_deletes,
            "people_disturbed": disturbed,
            "unexpected_errors": dict(runner.unexpected),
        },
        seconds=round(time.perf_counter() - started, 1),
    )
