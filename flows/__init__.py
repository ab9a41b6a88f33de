"""Orchestration, CLI and file I/O. No business logic."""
