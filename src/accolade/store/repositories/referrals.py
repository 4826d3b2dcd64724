"""Referrals: their rows, the first valid referral of a prospect, and pipeline sums."""

from __future__ import annotations

from typing import Any

from sqlalchemy import case, func, select

from accolade.store.repositories._base import RepositoryBase, newest_first
from accolade.store.tables import members, referrals

# A referral of a prospect that makes a later one of the same prospect a duplicate.
VALID = ("submitted", "accepted", "qualified", "opportunity", "won")

_REFERRAL = (*referrals.c, members.c.external_id.label("member"))


class ReferralsRepository(RepositoryBase):
    def insert_referral(self, values: dict[str, Any]) -> int:
        return int(
            self.conn.execute(
                referrals.insert().values(**values).returning(referrals.c.id)
            ).scalar_one()
        )

    def update_referral(self, pk: int, **values: Any) -> None:
        self.conn.execute(referrals.update().where(referrals.c.id == pk).values(**values))

    def referral(self, program_id: int, referral_id: str, *, for_update: bool = False) -> Any:
        stmt = (
            select(*_REFERRAL)
            .join(members, members.c.id == referrals.c.member_id)
            .where(referrals.c.program_id == program_id, referrals.c.referral_id == referral_id)
        )
        if for_update and self.dialect == "postgresql":
            stmt = stmt.with_for_update(of=referrals)
        return self.conn.execute(stmt).first()

    def first_valid(self, program_id: int, prospect_key: str) -> Any:
        """The earliest referral of the prospect still valid (not lost, not disqualified)."""
        return self.conn.execute(
            select(referrals.c.referral_id)
            .where(
                referrals.c.program_id == program_id,
                referrals.c.prospect_key == prospect_key,
                referrals.c.status.in_(VALID),
            )
            .order_by(referrals.c.id)
            .limit(1)
        ).first()

    def referrals_page(
        self,
        program_id: int,
        *,
        member_id: int | None = None,
        status: str | None = None,
        before: int | None = None,
        limit: int = 50,
    ) -> list[Any]:
        stmt = select(*_REFERRAL).join(members, members.c.id == referrals.c.member_id)
        page = newest_first(stmt, referrals, program_id, member_id, status, before, limit)
        return list(self.conn.execute(page))

    def member_deal_values(self, member_pk: int) -> list[tuple[str, str | None, int]]:
        """(status, currency, sum of amounts in minor units) of the member's referrals that
        carry an amount."""
        rows = self.conn.execute(
            select(referrals.c.status, referrals.c.currency, func.sum(referrals.c.amount))
            .where(referrals.c.member_id == member_pk, referrals.c.amount.is_not(None))
            .group_by(referrals.c.status, referrals.c.currency)
        )
        return [(str(s), c, int(total)) for s, c, total in rows]

    def pipeline(self, program_id: int, by: str) -> list[Any]:
        """Per referring member (team, company) and currency: referrals, how many reached
        qualified or beyond, open opportunities and their value, won deals and their value."""
        key = {
            "member": members.c.external_id,
            "team": referrals.c.team,
            "company": referrals.c.company,
        }[by]
        status = referrals.c.status
        amount = func.coalesce(referrals.c.amount, 0)
        return list(
            self.conn.execute(
                select(
                    key.label("key"),
                    referrals.c.currency,
                    func.count().label("referrals"),
                    func.sum(
                        case((status.in_(("qualified", "opportunity", "won")), 1), else_=0)
                    ).label("qualified"),
                    func.sum(case((status == "opportunity", 1), else_=0)).label("open"),
                    func.sum(case((status == "opportunity", amount), else_=0)).label("pipeline"),
                    func.sum(case((status == "won", 1), else_=0)).label("won"),
                    func.sum(case((status == "won", amount), else_=0)).label("won_amount"),
                )
                .join(members, members.c.id == referrals.c.member_id)
                .where(referrals.c.program_id == program_id, status != "duplicate")
                .group_by(key, referrals.c.currency)
                .order_by(key, referrals.c.currency)
            )
        )
