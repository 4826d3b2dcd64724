"""`accolade badges`: the Open Badges signing key (docs/openbadges.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from accolade.cli.options import load_settings
from accolade.cli.output import out
from accolade.errors import InvalidInput

badges_app = typer.Typer(
    help="Open Badges: the key 3.0 credentials are signed with.", no_args_is_help=True
)


@badges_app.command("keygen")
def keygen(
    output: Annotated[
        Path | None,
        typer.Option(
            "--output", "-o", help="Where to write the key (default: ACCOLADE_BADGE_KEY_FILE)."
        ),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing key file.")] = False,
) -> None:
    """Generate the Ed25519 key Open Badges 3.0 credentials are signed with (PEM, mode 0600),
    and print its key id; the key itself is never printed."""
    # the service layer loads the database's: imported here, not by `import accolade.cli`
    from accolade.service.badge_credentials import KEY_SETTING, generate_key

    given = load_settings().badge_key_file
    path = output or (Path(given) if given else None)
    if path is None:
        raise InvalidInput(f"give --output or set {KEY_SETTING}", field="output")
    kid = generate_key(path, force=force)
    out.print(f"wrote {path} (key id {kid})")
    if output is not None and given != str(output):
        out.print(f"set {KEY_SETTING}={path} for `accolade serve` to sign with it")
