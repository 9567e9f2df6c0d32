"""API keys (SPEC §12): long-lived bearer keys that act as their owner, for scripts."""
