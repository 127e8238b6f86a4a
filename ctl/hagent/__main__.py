"""Allow ``python -m hagent``."""

from hagent.cli import main

main()
