"""Export: a person's memories as a JSON file, delivered to their direct-message channel with Cubby.

The file goes to the DM (never to the channel the command was typed in), so only that person sees
it. It is addressed to the owner of the :class:`ScopedMemory`, not to anyone named in the request.
The file stays in the DM until one of the memories it holds is forgotten (see :mod:`cleanup`).
"""

from __future__ import annotations

from slack_sdk.web.async_client import AsyncWebClient

from bots.slack.cleanup import keep_track, with_retries
from core import ExportFile, PostRef, ScopedMemory, commands


def sent_message(exported: ExportFile) -> str:
    noun = "memory" if exported.count == 1 else "memories"
    return f"I sent you a file with all {exported.count} {noun} I keep for you, in our direct messages."


async def send_export(client: AsyncWebClient, memory: ScopedMemory) -> ExportFile:
    exported = await commands.export(memory)
    user_id = memory.key.user_id
    opened = await client.conversations_open(users=user_id)
    uploaded = await with_retries(
        lambda: client.files_upload_v2(
            channel=opened["channel"]["id"],
            file=exported.content,
            filename=exported.filename,
            title="Your Cubby memories",
            initial_comment="Here is everything I remember about you, as JSON. Only you can see this.",
        )
    )
    # The file quotes every memory: forgetting any of them deletes it.
    for file in uploaded.get("files") or []:
        await keep_track(client, memory, PostRef("slack", "file", "", str(file["id"])), exported.memory_ids)
    return exported
