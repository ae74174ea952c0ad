"""``python -m jackfield``: the command line."""

from jackfield.cli import main

raise SystemExit(main())
