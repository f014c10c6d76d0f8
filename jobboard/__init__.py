"""Jobboard: live job tracking for long-running commerce jobs."""
