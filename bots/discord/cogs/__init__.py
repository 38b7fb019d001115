"""One cog per feature: memory commands and conversation."""
