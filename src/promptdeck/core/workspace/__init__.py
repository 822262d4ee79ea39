"""The workspace: opening and creating one, its YAML files, offline mode and warm-up."""
