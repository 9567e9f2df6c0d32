"""The catalogue of an event: its ticket types, with prices and sale windows, and the quotas
that limit some of them together (SPEC §9)."""
