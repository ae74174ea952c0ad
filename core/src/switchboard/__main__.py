"""``python -m switchboard``: the command line."""

from switchboard.cli import main

raise SystemExit(main())
