"""referrals in ISO 4217 minor units, prospects by registrable domain

Data only. Deal amounts were stored in hundredths whatever the currency; they now count the
currency's ISO 4217 minor units: a JPY amount is divided by 100 (rounded half to even), a KWD
one multiplied by 10; USD, EUR and every other two-place currency, and codes not in the list,
keep their rows and their meaning. The events already sent carried the amount in major units,
as they still do, so the log and what replay rebuilds do not change.

Prospect keys are computed again by engine/prospects.py (registrable domain, name normalised),
so a new referral finds an old one of the same prospect. Two valid referrals that the new rule
calls one prospect both stay valid (both were paid); the later keeps its old key.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-27 10:00:00.000000
"""

from collections.abc import Sequence
from decimal import ROUND_HALF_EVEN, Decimal

import sqlalchemy as sa
from alembic import op

from accolade.engine.money import currency_places
from accolade.engine.prospects import normalised_name, registrable_domain

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

VALID = ("submitted", "accepted", "qualified", "opportunity", "won")
referrals = sa.table(
    "referrals",
    sa.column("id", sa.BigInteger),
    sa.column("program_id", sa.BigInteger),
    sa.column("prospect", sa.String),
    sa.column("prospect_key", sa.String),
    sa.column("status", sa.String),
    sa.column("amount", sa.BigInteger),
    sa.column("currency", sa.String),
)


def _rescale(places_from: int | None, places_to: int | None) -> None:
    """Every amount from hundredths to its currency's places (None: the currency's), or back."""
    conn = op.get_bind()
    rows = conn.execute(
        sa.select(referrals.c.id, referrals.c.amount, referrals.c.currency).where(
            referrals.c.amount.is_not(None)
        )
    ).fetchall()
    for pk, amount, currency in rows:
        shift = (places_to if places_to is not None else currency_places(currency)) - (
            places_from if places_from is not None else currency_places(currency)
        )
        if shift == 0:
            continue
        scaled = Decimal(amount).scaleb(shift).to_integral_value(rounding=ROUND_HALF_EVEN)
        conn.execute(sa.update(referrals).where(referrals.c.id == pk).values(amount=int(scaled)))


def _new_key(prospect: str, old: str) -> str:
    if old.startswith("name:"):
        return "name:" + normalised_name(prospect)
    return registrable_domain(old) or old  # a domain, the given one or the contact's


def upgrade() -> None:
    _rescale(2, None)
    conn = op.get_bind()
    rows = conn.execute(
        sa.select(
            referrals.c.id,
            referrals.c.program_id,
            referrals.c.prospect,
            referrals.c.prospect_key,
            referrals.c.status,
        ).order_by(referrals.c.id)
    ).fetchall()
    # the keys valid referrals hold, as each update leaves them (one valid referral per key)
    held = {(r.program_id, r.prospect_key) for r in rows if r.status in VALID}
    for r in rows:
        new = _new_key(r.prospect, r.prospect_key)
        if new == r.prospect_key:
            continue
        if r.status in VALID:
            if (r.program_id, new) in held:
                continue
            held.discard((r.program_id, r.prospect_key))
            held.add((r.program_id, new))
        conn.execute(sa.update(referrals).where(referrals.c.id == r.id).values(prospect_key=new))


def downgrade() -> None:
    # amounts back to hundredths; the keys stay as they are, which the older rule reads as well
    _rescale(None, 2)
