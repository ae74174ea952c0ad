"""Broken jackfield plugins (see README.md)."""
