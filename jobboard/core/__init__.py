"""Reflex-free core: models, database, job lifecycle, progress and events."""
