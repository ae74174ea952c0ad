"""``nox -s bench``: jackfield against the clients a user would pick instead (see run.py).

Nothing here is a test: pytest collects no module of this package, and no number in it is
asserted anywhere.
"""
