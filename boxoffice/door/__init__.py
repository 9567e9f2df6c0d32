"""The door (SPEC §11): check-in lists, scans in and out, offline batches and scanner keys."""
