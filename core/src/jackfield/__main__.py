"""``python -m jackfield``: the command line."""

from jackfield._cli import main

raise SystemExit(main())
