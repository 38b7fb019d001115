"""Talking to an OpenAI-compatible chat-completions server: OpenAI itself, or vLLM, llama.cpp, Ollama
and the like through ``OPENAI_BASE_URL``.

Both uses of a language model go through here: the agent's answers (:class:`ChatModel`, async) and
mem0's fact extraction (:class:`ExtractionLLM`, which mem0 calls on the hub's extraction thread).

One call has one time budget, ``CUBBY_LLM_TIMEOUT_SECONDS``, retries included, so a stuck model never
holds a reply or an extraction (and the extractions queued behind it) for longer than that. Quick
failures (429, 5xx, a refused connection) are retried up to ``CUBBY_LLM_MAX_RETRIES`` times after a
short pause, but only while the budget has room; a ``Retry-After`` longer than what is left ends the
call at once. (The answer is timed per network read in the synchronous client, and as a whole in the
async one.) Errors name types and HTTP statuses only: a server's error body may quote the prompt.
"""

from __future__ import annotations

import asyncio
import sys
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from openai.types.chat import ChatCompletionMessageParam

from core.config import ConfigError, Settings
from core.errors import CubbyError

DEFAULT_BASE_URL = "https://api.openai.com/v1"
Messages = list[dict[str, str]]


def _openai_messages(messages: Messages) -> list[ChatCompletionMessageParam]:
    """Cubby's ``{"role", "content"}`` dicts, as the SDK's message type (which is a TypedDict union
    that a plain dict cannot be checked against)."""
    return cast("list[ChatCompletionMessageParam]", messages)


_FIRST_PAUSE_SECONDS = 0.5
_LONGEST_PAUSE_SECONDS = 4.0
_SHORTEST_ATTEMPT_SECONDS = 0.25  # a retry with less time than this left is not worth starting
_RETRYABLE_STATUSES = frozenset({408, 409, 429})


class LLMUnavailable(CubbyError):
    """The language model gave no usable answer within its time budget. The message names error
    types and HTTP statuses, never text from the request or the server."""


@dataclass(frozen=True, slots=True)
class LLMConfig:
    """How to reach one model. Also the config class mem0's ``LlmFactory`` builds for Cubby's LLM."""

    model: str
    api_key: str
    base_url: str | None = None
    timeout_seconds: float = 20.0
    max_retries: int = 2

    @classmethod
    def from_settings(cls, settings: Settings, *, model: str) -> LLMConfig:
        if settings.openai_api_key is None:
            raise ConfigError("a language model needs OPENAI_API_KEY")
        return cls(
            model=model,
            api_key=settings.openai_api_key.get_secret_value(),
            base_url=settings.openai_base_url,
            timeout_seconds=settings.llm_timeout_seconds,
            max_retries=settings.llm_max_retries,
        )


def _status(error: Exception) -> int | None:
    status = getattr(error, "status_code", None)
    return status if isinstance(status, int) else None


def _retryable(error: Exception) -> bool:
    # openai is imported when a client is built (it costs ~0.4 s of start-up that a bot without an LLM
    # never needs), so an error can only be one of its types once it is in sys.modules.
    openai = sys.modules.get("openai")
    if isinstance(error, TimeoutError) or (
        openai is not None and isinstance(error, openai.APIConnectionError)  # includes APITimeoutError
    ):
        return True
    status = _status(error)
    return status is not None and (status in _RETRYABLE_STATUSES or status >= 500)


def _retry_after_seconds(error: Exception) -> float | None:
    response = getattr(error, "response", None)
    headers = getattr(response, "headers", None)
    if headers is None:
        return None
    for header, divisor in (("retry-after-ms", 1000.0), ("retry-after", 1.0)):
        try:
            value = float(headers.get(header, ""))
        except ValueError:
            continue
        if value >= 0:
            return value / divisor
    return None


class _Budget:
    """The time left for one call, and whether a failed attempt may be tried again."""

    def __init__(self, config: LLMConfig) -> None:
        self._deadline = time.monotonic() + config.timeout_seconds
        self._retries = config.max_retries
        self._attempt = 0

    def remaining(self) -> float:
        return max(0.0, self._deadline - time.monotonic())

    def pause_before_retry(self, error: Exception) -> float | None:
        """Seconds to wait before the next attempt, or None to give up."""
        if self._attempt >= self._retries or not _retryable(error):
            return None
        pause = _retry_after_seconds(error)
        if pause is None:
            pause = min(_FIRST_PAUSE_SECONDS * 2**self._attempt, _LONGEST_PAUSE_SECONDS)
        if pause + _SHORTEST_ATTEMPT_SECONDS > self.remaining():
            return None
        self._attempt += 1
        return pause


def _unavailable(error: Exception) -> LLMUnavailable:
    status = _status(error)
    detail = type(error).__name__ + (f", HTTP {status}" if status is not None else "")
    return LLMUnavailable(f"the language model did not answer ({detail})")


def _answer_text(response: Any) -> str | None:
    """The text of the first choice, or None when the response does not have that shape."""
    try:
        content = response.choices[0].message.content
    except (AttributeError, IndexError, KeyError, TypeError):
        return None
    return content if isinstance(content, str) else None


class ChatModel:
    """The model the agent converses with."""

    def __init__(self, config: LLMConfig) -> None:
        import openai

        self.config = config
        self._client = openai.AsyncOpenAI(
            api_key=config.api_key, base_url=config.base_url or DEFAULT_BASE_URL, max_retries=0
        )

    async def complete(self, messages: Messages) -> str:
        """The model's answer to ``messages``; :class:`LLMUnavailable` if there is none in time."""
        budget = _Budget(self.config)
        while True:
            try:
                async with asyncio.timeout(budget.remaining()):
                    response = await self._client.chat.completions.create(
                        model=self.config.model,
                        messages=_openai_messages(messages),
                        timeout=budget.remaining(),
                    )
            except Exception as error:
                pause = budget.pause_before_retry(error)
                if pause is None:
                    raise _unavailable(error) from None
                await asyncio.sleep(pause)
                continue
            answer = _answer_text(response)
            if not answer or not answer.strip():
                raise LLMUnavailable("the language model sent an empty or malformed answer")
            return answer.strip()

    async def close(self) -> None:
        await self._client.close()


class ExtractionLLM:
    """mem0's LLM for fact extraction (``infer=True``), registered into mem0's ``LlmFactory`` by
    :mod:`core.memory.mem0_setup`. mem0 turns any exception raised here into its ``LLMError`` before it
    stores anything, and stores nothing when the answer is not the JSON it expects."""

    def __init__(self, config: LLMConfig) -> None:
        import openai

        self.config = config
        self._client = openai.OpenAI(
            api_key=config.api_key, base_url=config.base_url or DEFAULT_BASE_URL, max_retries=0
        )

    def generate_response(
        self, messages: Messages, response_format: dict[str, str] | None = None, **unused: object
    ) -> str:
        options: dict[str, Any] = {"response_format": response_format} if response_format else {}
        budget = _Budget(self.config)
        while True:
            try:
                response = self._client.chat.completions.create(
                    model=self.config.model,
                    messages=_openai_messages(messages),
                    timeout=budget.remaining(),
                    **options,
                )
            except Exception as error:
                pause = budget.pause_before_retry(error)
                if pause is None:
                    raise _unavailable(error) from None
                time.sleep(pause)
                continue
            answer = _answer_text(response)
            if answer is None:
                raise LLMUnavailable("the language model sent a malformed answer")
            return answer
