"""`python -m engine` runs the drydock command line."""

from engine.cli import main

main()
