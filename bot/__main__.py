"""`python -m bot` is the same as the `supportbot` command."""

from bot.run.cli import main

raise SystemExit(main())
