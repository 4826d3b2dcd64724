"""`python -m accolade.cli`: the `accolade` command without its script."""

from accolade.cli import app

app()
