"""Every setting Cubby reads, from the environment and an optional ``.env`` file. Nothing else in
Cubby reads environment variables for configuration.

Only the documented names configure Cubby: ``CUBBY_*`` and the platforms' own names (``SLACK_*``,
``DISCORD_*``, ``OPENAI_*``, ``MEM0_API_KEY``/``MEM0_HOST``, ``PORT``), spelled exactly. A field's own
name (``log_level``, ``backend``) is never looked up in the environment: hosts set generic variables
such as ``LOG_LEVEL`` or ``DATABASE_URL`` for other programs, and one of those must not turn debug
logging or a database on. Code still overrides settings by field name through :func:`load_settings`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, SecretStr, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from core.errors import CubbyError


class ConfigError(CubbyError):
    """The configuration is incomplete or contradictory; the message says what to set."""


def default_data_dir() -> Path:
    """``$XDG_DATA_HOME/cubby``, or ``~/.local/share/cubby`` without it: the same folder whichever
    directory a command runs from, so the bots and the operator commands find the same store."""
    xdg = os.environ.get("XDG_DATA_HOME", "")
    base = Path(xdg) if xdg and Path(xdg).is_absolute() else Path.home() / ".local" / "share"
    return base / "cubby"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        case_sensitive=True,
        populate_by_name=False,  # True would also read bare field names from the environment
    )

    # Storage
    data_dir: Path = Field(default_factory=default_data_dir, alias="CUBBY_DATA_DIR")
    backend: Literal["embedded", "postgres", "hosted"] = Field("embedded", alias="CUBBY_BACKEND")
    database_url: SecretStr | None = Field(None, alias="CUBBY_DATABASE_URL")
    # The local embedding model (core/memory/models.py): "minilm" (English) or "multilingual" (an extra).
    embedding_model: Literal["minilm", "multilingual"] = Field("minilm", alias="CUBBY_EMBEDDING_MODEL")
    # Wraps every person's data key and seals Slack bot tokens; without either, the embedded store
    # keeps a key file in the data dir.
    master_key: SecretStr | None = Field(None, alias="CUBBY_MASTER_KEY", min_length=16)
    master_key_file: Path | None = Field(None, alias="CUBBY_MASTER_KEY_FILE")
    # How much of the embedded store to keep mapped in memory (core/memory/resident.py); unset:
    # three quarters of the machine's memory, 0: none (the page cache alone decides).
    keep_in_memory_mb: int | None = Field(None, alias="CUBBY_KEEP_IN_MEMORY_MB", ge=0)

    # Limits (per person)
    max_memory_chars: int = Field(2000, alias="CUBBY_MAX_MEMORY_CHARS", ge=10, le=20_000)
    max_query_chars: int = Field(500, alias="CUBBY_MAX_QUERY_CHARS", ge=10, le=5_000)
    max_memories_per_user: int = Field(50_000, alias="CUBBY_MAX_MEMORIES_PER_USER", ge=1, le=100_000)
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
    # /healthz, /readyz and /metrics on their own port (any mode); unset: no such port
    health_port: int | None = Field(None, alias="CUBBY_HEALTH_PORT", ge=1, le=65535)
    # How often each process erases expired memories (0: never, e.g. for a read-only tool).
    sweep_seconds: float = Field(60.0, alias="CUBBY_SWEEP_SECONDS", ge=0, le=86_400)

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


DOCUMENTED_PREFIXES = ("CUBBY_", "SLACK_", "DISCORD_", "OPENAI_")
DOCUMENTED_NAMES = ("MEM0_API_KEY", "MEM0_HOST", "PORT")


def environment_name(field: str) -> str:
    """The one environment variable that sets ``field``."""
    alias = Settings.model_fields[field].alias
    assert alias is not None, f"Settings.{field} has no environment name"
    return alias


def _alias(name: str) -> str:
    if name not in Settings.model_fields:
        raise TypeError(f"Settings has no field {name!r}")
    return environment_name(name)


def load_settings(**overrides: Any) -> Settings:
    """Settings from the environment and ``.env``, with ``overrides`` (field names) on top.

    Raises :class:`ConfigError` with one line per problem, naming the variable to fix."""
    try:
        by_alias: dict[str, Any] = {_alias(name): value for name, value in overrides.items()}
        return Settings(**by_alias)
    except ValidationError as error:
        problems = []
        for item in error.errors():
            where = ".".join(str(part) for part in item["loc"]) or "configuration"
            problems.append(f"{where}: {item['msg']}")
        raise ConfigError("invalid configuration:\n  " + "\n  ".join(problems)) from None
