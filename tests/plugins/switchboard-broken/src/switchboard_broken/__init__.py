"""Broken switchboard plugins (see README.md)."""
