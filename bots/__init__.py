"""Thin adapters: terminal, Slack and Discord. They use only what `core` exports."""
