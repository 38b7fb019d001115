"""The assurance benchmark's checks, at small counts: each guarantee holds on the real stack, and each
check would notice if it did not. The published figures come from ``python -m bench.assurance``."""

from __future__ import annotations

import json
import logging
import random
import sqlite3
from pathlib import Path

import pytest

from bench import assurance
from bench.assurance.badinput import check_bad_input
from bench.assurance.concurrency import check_concurrency
from bench.assurance.durability import DATABASE, kill_rounds, verify
from bench.assurance.erasure import canaries_on_disk, check_erasure
from bench.assurance.fuzz import FuzzInputs, valid_memory
from bench.assurance.isolation import check_isolation
from bench.assurance.judge import Answer, Tally, judge
from bench.assurance.keys import adversarial_key, confusable_keys
from bench.assurance.logs import check_logs
from bench.assurance.population import populate
from bench.assurance.report import CANARY, LOG_FILE, canary, stop_watching, watch_logs
from bots.terminal import TerminalChat
from core import Agent, Hub, InvalidUserKey, MemoryRecord, Settings, UserKey, load_settings

SEED = 11
FUZZ_PER_COMMAND = 24


# -- isolation ---------------------------------------------------------------------------------------
async def test_randomized_probes_through_the_public_api_return_no_foreign_record(hub: Hub) -> None:
    figure = await check_isolation(hub, probes=1_500, people=24, queries=80, seed=SEED)

    assert figure.passed, figure.line()
    assert figure.data["foreign_records"] == 0 and figure.data["people_disturbed"] == 0
    assert figure.data["records_returned"] > 500  # the probes found plenty of the caller's own
    assert figure.data["adversarial_keys_refused"] > 100
    assert set(figure.data["mix"]) == {
        "search", "get by id", "delete foreign id", "list/count/export",
        "adversarial key", "smuggled filter", "malformed id", "workspace listing",
    }  # fmt: skip


async def test_the_isolation_check_counts_a_record_that_belongs_to_someone_else(hub: Hub) -> None:
    population = await populate(hub, 12, random.Random(SEED))
    alice, bob = population.keys[:2]
    bobs_id, bobs_text = next((i, t) for i, t in population.texts[bob].items() if CANARY.search(t))
    alices_id, alices_text = next(iter(population.texts[alice].items()))

    assert population.foreign(alice, [MemoryRecord(alices_id, alices_text)]) == 0
    assert population.foreign(alice, [MemoryRecord(bobs_id, bobs_text)]) == 1
    assert population.foreign(alice, [MemoryRecord(alices_id, f"{alices_text} {bobs_text}")]) == 1


def test_the_confusable_population_has_distinct_canonical_keys() -> None:
    keys = confusable_keys(1_000)
    assert len(set(keys)) == 1_000
    assert all(str(UserKey.parse(key)) == key for key in keys)


def test_adversarial_variants_of_keys_are_refused_unless_they_are_plainly_another_key() -> None:
    rng = random.Random(SEED)
    keys = confusable_keys(24)
    accepted = []
    for _ in range(2_000):
        variant = adversarial_key(rng, rng.choice(keys))
        try:
            accepted.append(str(UserKey.parse(variant)))
        except InvalidUserKey:
            continue
    assert 0 < len(accepted) < 600  # most variants are refused; some name a real, different person
    for key in accepted:
        assert key.isascii() and not set(key) & set(" \t\n\r\x00*%?.[]'\"") and len(key) <= 80


# -- erasure -----------------------------------------------------------------------------------------
async def test_forgotten_people_leave_no_canary_in_any_file_and_the_others_are_intact(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    watch, handler = watch_logs(run_dir)
    try:
        figure = await check_erasure(
            load_settings(data_dir=run_dir / "erasure"),
            run_dir / LOG_FILE,
            people=12,
            memories_each=3,
            seed=SEED,
        )
    finally:
        stop_watching(watch, handler)

    assert figure.passed, figure.line()
    assert figure.data["forgotten_canaries_left"] == {"hub open": 0, "hub closed": 0}
    assert figure.data["kept_canaries_in_clear"] == 0 and figure.data["kept_canaries"] == 18
    restored = figure.data["backup_restored_with_current_keys"]
    assert restored["forgotten_rows_in_backup"] > 0  # the backup really holds them, sealed
    assert restored["forgotten_readable"] == 0 and restored["kept_intact"] == 6
    assert LOG_FILE in figure.data["files_scanned"]
    assert all(figure.data["ways"].values())  # every way of forgetting was used


def test_the_disk_scan_finds_a_canary_anywhere_in_a_file(tmp_path: Path) -> None:
    token = canary(random.Random(SEED))
    (tmp_path / "blob").write_bytes(b"\x00\xff binary " + token.encode() + b" \xfe")
    (tmp_path / "empty").write_bytes(b"")

    assert canaries_on_disk([tmp_path / "blob", tmp_path / "empty"]) == {token: ["blob"]}


# -- durability --------------------------------------------------------------------------------------
async def test_acknowledged_writes_survive_sigkill_and_a_lost_one_would_be_noticed(tmp_path: Path) -> None:
    data_dir = tmp_path / "durability"
    acks = await kill_rounds(data_dir, rounds=2, seed=SEED)

    assert acks.rounds_failed_to_start == 0
    assert await verify(data_dir, SEED, acks) == (0, 0, "ok")

    kept = next(memory_id for memory_id in acks.added if memory_id not in acks.deleting)
    with sqlite3.connect(data_dir / DATABASE) as connection:
        connection.execute("DELETE FROM sealed_memories WHERE id = ?", (kept,))
    assert await verify(data_dir, SEED, acks) == (1, 0, "ok")


# -- bad input ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("adapter", ["terminal", "slack", "discord"])
async def test_fuzzed_input_to_every_command_gets_a_clear_answer_and_writes_nothing_partial(
    hub: Hub, settings: Settings, adapter: str
) -> None:
    figure = await check_bad_input(hub, settings, per_command=FUZZ_PER_COMMAND, seed=SEED, adapters=[adapter])

    total = figure.data["total"]
    assert figure.data["adapters_skipped"] == {}
    assert total["crash_kinds"] == {} and figure.data["error_log_lines"] == {adapter: {}}
    assert total["inputs"] == total["answered"] == total["clear"]
    assert total["partial_writes"] == total["valid_input_refused"] == 0
    assert total["markup_injections"] == total["replies_not_private"] == total["foreign_text_in_replies"] == 0
    assert total["stored"] > 0 and total["refused_with_reason"] > 0
    assert figure.passed, figure.line()


async def test_the_terminal_forget_prompt_survives_a_digit_that_is_not_a_decimal(hub: Hub) -> None:
    """Found by the fuzzing: "²".isdigit() is True but int("²") raises."""

    memory = hub.scoped(UserKey.cli("alice"))
    await memory.add("I am vegetarian")
    await memory.add("I am vegetarian on weekdays")
    said: list[str] = []

    async def answer(prompt: str) -> str:
        return "²"

    chat = TerminalChat(memory, answer, said.append, Path("."), Agent(load_settings()))
    await chat.handle("/forget I am vegetarian")

    assert said[-1] == "Okay, I kept everything." and await memory.count() == 2


def test_the_judge_counts_crashes_partial_writes_and_unclear_answers() -> None:
    def judged(**overrides: object) -> Tally:
        tally = Tally()
        arguments: dict = {"fuzz": "x", "answer": None, "error": None, "before": {}, "after": {}}
        arguments |= {"remember": True, "valid": True} | overrides
        judge(tally, **arguments)
        return tally

    stored = {"id1": "I like tea"}
    ok = judged(answer=Answer(["Got it"], " I like tea "), after=stored)
    assert (ok.clear, ok.partial_writes, sum(ok.crashes.values())) == (1, 0, 0)
    assert judged(answer=Answer(["Got it"], "I like tea!"), after=stored).partial_writes == 1
    assert judged(
        answer=Answer(["Sorry, I can't do that: ..."], "x\x00"), valid=False, after=stored
    ).partial_writes
    assert judged(answer=Answer(["Got it"], "x\x00"), valid=False).clear == 0  # no reason given
    assert judged(answer=Answer(["Sorry, something went wrong."], "x")).crashes == {"catch-all apology": 1}
    assert judged(answer=Answer([""], "x")).crashes == {"no reply": 1}
    assert judged(error="TimeoutError").crashes == {"TimeoutError": 1}
    assert judged(remember=False, before=stored, answer=Answer(["Found it"], "tea")).partial_writes == 1


def test_fuzzed_inputs_are_reproducible_and_the_validity_oracle_follows_the_documented_rules() -> None:
    first, second = FuzzInputs(SEED, limit=2000), FuzzInputs(SEED, limit=2000)
    assert [first.next() for _ in range(50)] == [second.next() for _ in range(50)]
    assert valid_memory("  I like tea\n", 2000) and valid_memory("tab\tand\nnewline", 2000)
    assert not valid_memory(" \u00a0\u2003 ", 2000) and not valid_memory("x" * 2001, 2000)
    assert not valid_memory("nul\x00", 2000) and not valid_memory("lone \ud800", 2000)


def test_the_adapter_checks_notice_live_mentions() -> None:
    from bench.assurance.discord import injected as discord_injected
    from bench.assurance.slack import injected as slack_injected
    from tests.loopback.discord_gateway import Recorded

    assert slack_injected(["&lt;!channel&gt; is fine", "hi <!channel>"]) == 1
    silent = {"allowed_mentions": {"parse": []}}
    assert discord_injected(Recorded("POST", "/x", {"content": "@\u200beveryone", **silent}, {})) == 0
    assert discord_injected(Recorded("POST", "/x", {"content": "@everyone", **silent}, {})) == 1
    assert discord_injected(Recorded("POST", "/x", {"content": "hi"}, {})) == 1  # mentions not switched off


# -- concurrency and logs ----------------------------------------------------------------------------
async def test_many_people_at_once_get_no_errors_and_no_foreign_results(settings: Settings) -> None:
    figure = await check_concurrency(settings, people=20, operations=15, operator_people=0, seed=SEED)

    assert figure.passed, figure.line()
    assert sum(figure.data["mix"].values()) == 300


async def test_no_log_line_of_a_run_holds_memory_text_and_a_leak_would_be_counted(tmp_path: Path) -> None:
    watch, handler = watch_logs(tmp_path)
    try:
        settings = load_settings(data_dir=tmp_path / "logs")
        figure = await check_logs(
            settings, watch, tmp_path / LOG_FILE, adapters=["slack"], seed=SEED, inputs_per_phase=2
        )
        assert figure.passed, figure.line()
        assert figure.data["by_level"].get("WARNING", 0) + figure.data["by_level"].get("ERROR", 0) > 0
        assert figure.data["lines_at_debug"] > 0 and figure.data["llm_failing_at_debug"]
        refused = figure.data["bad_signatures_refused_by_level_and_mode"]
        assert refused == {level: {"http": 3, "oauth": 3} for level in ("INFO", "DEBUG")}
        assert figure.data["refusals_logged_as_facts"] == 12

        logging.getLogger("cubby.test").warning("a careless line: %s", canary(random.Random(SEED)))
    finally:
        stop_watching(watch, handler)
    assert watch.leaks == {"cubby.test": 1}


# -- the command -------------------------------------------------------------------------------------
def test_the_command_prints_one_line_per_guarantee_and_writes_the_figures(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = [
        "--quick",
        "--only",
        "isolation,concurrency",
        "--probes",
        "300",
        "--people",
        "12",
        "--queries",
        "40",
    ]
    argv += [
        "--users",
        "5",
        "--ops",
        "4",
        "--operator-people",
        "0",
        "--results-dir",
        str(tmp_path),
        "--name",
        "t",
    ]

    assert assurance.main(argv) == 0

    printed = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in printed[1:3]] == ["isolation", "concurrency"]
    assert all(line.endswith("PASS") for line in printed[1:3])
    document = json.loads((tmp_path / "t.json").read_text())
    assert document["passed"] is True and [f["guarantee"] for f in document["figures"]] == [
        "isolation",
        "concurrency",
    ]
    assert document["counts"]["probes"] == 300


# -- forget barrier ----------------------------------------------------------------------------------
async def test_the_barrier_check_finds_no_leftover_in_any_scenario(tmp_path: Path) -> None:
    from bench.assurance.barrier import check_barrier

    figure = await check_barrier(
        lambda name: load_settings(data_dir=tmp_path / name), trials=2, timing_trials=10, seed=SEED
    )

    assert figure.passed, figure.line()
    assert figure.data["extraction_after_forget_leftovers"] == 0
    assert figure.data["add_in_flight_leftovers"] == 0
    assert figure.data["reader_snapshot_readable"] == 0
    assert figure.data["reader_snapshot_unflushed_after_next_open"] == 0
    assert figure.data["cache_vectors_served_to_another"] == 0
