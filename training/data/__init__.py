"""Data readers, datasets and transforms for facial-expression training."""
