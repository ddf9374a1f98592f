"""Panel API adapters: one folder per API kind, all returning the same normalised orders."""
