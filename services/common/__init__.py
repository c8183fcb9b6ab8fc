"""Code shared by more than one Bloomwell service (settings, DB models, schemas, tokens, labels)."""
