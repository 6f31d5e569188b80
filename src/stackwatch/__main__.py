"""`python -m stackwatch` runs the command-line interface."""

from stackwatch.cli import cli

if __name__ == "__main__":
    cli()
