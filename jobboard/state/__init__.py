"""Reflex state: per-session views of the owner's jobs, fed by the live event hub."""
