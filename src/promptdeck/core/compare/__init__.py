"""Compare: one prompt on several models side by side, and ensembles of models."""
