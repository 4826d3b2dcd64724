"""What every test shares."""

from __future__ import annotations

import functools

import typer.testing

# Typer's CliRunner builds the click command from the app's functions at every invoke (~30 ms
# for Accolade's 40-odd commands). The app does not change while the tests run: build it once
# per app. (A private name of typer's: if it goes, this line fails loudly at import.)
typer.testing._get_command = functools.cache(typer.testing._get_command)
