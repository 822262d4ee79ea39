"""Similar traces and near-duplicate cases, by the local embedder's vectors."""
