"""Only Cubby's documented names configure it: ``CUBBY_*`` and the platforms' own variables. Generic
names a host sets for other programs (``LOG_LEVEL``, ``DATABASE_URL``, ``BACKEND``...) change nothing,
whether in the environment or in ``.env``; code still overrides settings by field name."""

from pathlib import Path

import pytest

from core import Settings, load_settings
from core.config import DOCUMENTED_NAMES, DOCUMENTED_PREFIXES, environment_name

# A value for every field, different from its default and valid, under the field's bare name.
BARE_VALUES = {
    "data_dir": "/srv/elsewhere",
    "backend": "postgres",
    "database_url": "postgresql://intruder@db.example/other",
    "max_memory_chars": "11",
    "max_query_chars": "12",
    "max_memories_per_user": "13",
    "search_threshold": "0.9",
    "mem0_api_key": "m0-from-elsewhere",
    "mem0_host": "https://mem0.example",
    "mem0_telemetry": "true",
    "mem0_timeout_seconds": "99",
    "openai_api_key": "sk-elsewhere",
    "openai_base_url": "https://llm.example",
    "chat_model": "other-model",
    "extraction_model": "other-model",
    "llm_timeout_seconds": "99",
    "llm_max_retries": "9",
    "context_max_memories": "99",
    "context_max_chars": "99",
    "slack_bot_token": "xoxb-elsewhere",
    "slack_app_token": "xapp-elsewhere",
    "slack_signing_secret": "elsewhere",
    "slack_client_id": "9.9",
    "slack_client_secret": "elsewhere",
    "slack_api_url": "https://slack.example/api/",
    "port": "9999",
    "discord_token": "elsewhere",
    "discord_dev_guild_id": "99",
    "log_level": "DEBUG",
}


def unprefixed_names() -> dict[str, str]:
    """Each field's bare name, upper- and lower-case, plus the generic names hosts commonly set."""
    names: dict[str, str] = {}
    for field, value in BARE_VALUES.items():
        if field in Settings.model_fields and environment_name(field) != field.upper():
            names[field.upper()] = value
            names[field] = value
    names |= {"MEM0_TELEMETRY": "true", "MEM0_DIR": "/srv/elsewhere", "LOG_LEVEL": "DEBUG"}
    return names


@pytest.fixture
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [environment_name(field) for field in Settings.model_fields]:
        monkeypatch.delenv(name, raising=False)


def test_every_setting_has_one_documented_environment_name() -> None:
    for field in Settings.model_fields:
        name = environment_name(field)
        assert name.startswith(DOCUMENTED_PREFIXES) or name in DOCUMENTED_NAMES, (field, name)


@pytest.mark.usefixtures("clean_environment")
def test_unprefixed_environment_variables_change_no_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    defaults = load_settings()
    for name, value in unprefixed_names().items():
        monkeypatch.setenv(name, value)

    assert load_settings() == defaults
    assert load_settings().log_level == "INFO" and load_settings().mem0_telemetry is False


@pytest.mark.usefixtures("clean_environment")
def test_unprefixed_lines_in_dotenv_change_no_setting(tmp_path: Path) -> None:
    defaults = load_settings()
    lines = [f"{name}={value}" for name, value in unprefixed_names().items()]
    (tmp_path / ".env").write_text("\n".join(lines) + "\n", encoding="utf-8")  # the cwd is tmp_path

    assert load_settings() == defaults


@pytest.mark.usefixtures("clean_environment")
def test_documented_names_still_configure_cubby(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("CUBBY_LOG_LEVEL", "WARNING")
    monkeypatch.setenv("CUBBY_MEM0_TELEMETRY", "true")
    monkeypatch.setenv("PORT", "8080")
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-T1")
    (tmp_path / ".env").write_text("CUBBY_CHAT_MODEL=local-model\n", encoding="utf-8")

    settings = load_settings()

    assert (settings.log_level, settings.mem0_telemetry, settings.port) == ("WARNING", True, 8080)
    assert settings.slack_bot_token is not None and settings.slack_bot_token.get_secret_value() == "xoxb-T1"
    assert settings.chat_model == "local-model"


@pytest.mark.usefixtures("clean_environment")
def test_a_documented_name_in_the_wrong_case_is_not_read(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("cubby_log_level", "DEBUG")

    assert load_settings().log_level == "INFO"


@pytest.mark.usefixtures("clean_environment")
def test_code_overrides_settings_by_field_name(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path / "d", log_level="ERROR", search_threshold=0.5)

    assert (settings.data_dir, settings.log_level) == (tmp_path / "d", "ERROR")
    assert settings.search_threshold == 0.5


def test_an_override_naming_no_setting_is_a_programming_error() -> None:
    with pytest.raises(TypeError, match="no field 'log_levle'"):
        load_settings(log_levle="DEBUG")
