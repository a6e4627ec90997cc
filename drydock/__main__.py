"""`python -m drydock` runs the drydock command line."""

from engine.cli import main

if __name__ == "__main__":
    main()
