"""Every setting Cubby reads, from the environment and an optional ``.env`` file. Nothing else in
Cubby reads environment variables for configuration."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from core.errors import CubbyError


class ConfigError(CubbyError):
    """The configuration is incomplete or contradictory; the message says what to set."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", populate_by_name=True
    )

    # Storage
    data_dir: Path = Field(Path("cubby-data"), alias="CUBBY_DATA_DIR")
    backend: Literal["embedded", "postgres", "hosted"] = Field("embedded", alias="CUBBY_BACKEND")
    database_url: SecretStr | None = Field(None, alias="CUBBY_DATABASE_URL")
    # Wraps every person's data key; without either, the embedded store keeps one in the data dir.
    master_key: SecretStr | None = Field(None, alias="CUBBY_MASTER_KEY")
    master_key_file: Path | None = Field(None, alias="CUBBY_MASTER_KEY_FILE")

    # Limits (per person)
    max_memory_chars: int = Field(2000, alias="CUBBY_MAX_MEMORY_CHARS", ge=10, le=20_000)
    max_query_chars: int = Field(500, alias="CUBBY_MAX_QUERY_CHARS", ge=10, le=5_000)
    max_memories_per_user: int = Field(5000, alias="CUBBY_MAX_MEMORIES_PER_USER", ge=1, le=100_000)
    search_threshold: float = Field(0.2, alias="CUBBY_SEARCH_THRESHOLD", ge=0.0, le=1.0)

    # mem0
    mem0_api_key: SecretStr | None = Field(None, alias="MEM0_API_KEY")
    mem0_host: str | None = Field(None, alias="MEM0_HOST")
    mem0_telemetry: bool = Field(False, alias="CUBBY_MEM0_TELEMETRY")
    mem0_timeout_seconds: float = Field(15.0, alias="CUBBY_MEM0_TIMEOUT_SECONDS", gt=0, le=300)

    # LLM (optional): fact extraction and conversation
    openai_api_key: SecretStr | None = Field(None, alias="OPENAI_API_KEY")
    openai_base_url: str | None = Field(None, alias="OPENAI_BASE_URL")
    chat_model: str = Field("gpt-4o-mini", alias="CUBBY_CHAT_MODEL")
    extraction_model: str = Field("gpt-4o-mini", alias="CUBBY_EXTRACTION_MODEL")
    llm_timeout_seconds: float = Field(20.0, alias="CUBBY_LLM_TIMEOUT_SECONDS", gt=0, le=300)
    llm_max_retries: int = Field(2, alias="CUBBY_LLM_MAX_RETRIES", ge=0, le=10)
    context_max_memories: int = Field(8, alias="CUBBY_CONTEXT_MAX_MEMORIES", ge=0, le=100)
    context_max_chars: int = Field(4000, alias="CUBBY_CONTEXT_MAX_CHARS", ge=0, le=100_000)

    # Slack
    slack_bot_token: SecretStr | None = Field(None, alias="SLACK_BOT_TOKEN")
    slack_app_token: SecretStr | None = Field(None, alias="SLACK_APP_TOKEN")
    slack_signing_secret: SecretStr | None = Field(None, alias="SLACK_SIGNING_SECRET")
    slack_client_id: str | None = Field(None, alias="SLACK_CLIENT_ID")
    slack_client_secret: SecretStr | None = Field(None, alias="SLACK_CLIENT_SECRET")
    slack_api_url: str | None = Field(None, alias="SLACK_API_URL")
    port: int = Field(3000, alias="PORT", ge=1, le=65535)

    # Discord
    discord_token: SecretStr | None = Field(None, alias="DISCORD_TOKEN")
    discord_dev_guild_id: int | None = Field(None, alias="DISCORD_DEV_GUILD_ID")

    # Operations
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field("INFO", alias="CUBBY_LOG_LEVEL")

    @model_validator(mode="after")
    def _backend_has_what_it_needs(self) -> Settings:
        if self.backend == "postgres" and self.database_url is None:
            raise ValueError("CUBBY_BACKEND=postgres needs CUBBY_DATABASE_URL")
        if self.backend == "hosted" and self.mem0_api_key is None:
            raise ValueError("CUBBY_BACKEND=hosted needs MEM0_API_KEY")
        return self

    @property
    def llm_enabled(self) -> bool:
        return self.openai_api_key is not None


def load_settings(**overrides: object) -> Settings:
    """Settings from the environment and ``.env``, with ``overrides`` (field names) on top.

    Raises :class:`ConfigError` with one line per problem, naming the variable to fix."""
    try:
        return Settings(**overrides)
    except ValidationError as error:
        problems = []
        for item in error.errors():
            where = ".".join(str(part) for part in item["loc"]) or "configuration"
            problems.append(f"{where}: {item['msg']}")
        raise ConfigError("invalid configuration:\n  " + "\n  ".join(problems)) from None
