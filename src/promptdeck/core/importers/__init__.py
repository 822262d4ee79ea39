"""Importers: other tools' eval suites turned into ordinary promptdeck files."""
