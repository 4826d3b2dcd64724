"""Program files for tests: the head every test program repeats (key, name, time zone, a tier
ladder), written once; a test appends the sections it is about as YAML text."""

from __future__ import annotations

from collections.abc import Sequence

Tier = tuple[str, str, int]  # key, name, min_points
BRONZE_GOLD: Sequence[Tier] = (("bronze", "Bronze", 0), ("gold", "Gold", 1000))
MEMBER_GOLD: Sequence[Tier] = (("member", "Member", 0), ("gold", "Gold", 1000))


def program_head(
    key: str, name: str, *, timezone: str | None = None, tiers: Sequence[Tier] = BRONZE_GOLD
) -> str:
    """The first lines of a program file, in the flow style the tests' sections use:

    >>> print(program_head("shop", "Shop", timezone="Europe/Berlin"), end="")
    key: shop
    name: Shop
    timezone: Europe/Berlin
    tiers:
      - {key: bronze, name: Bronze, min_points: 0}
      - {key: gold, name: Gold, min_points: 1000}
    """
    lines = [f"key: {key}", f"name: {name}"]
    if timezone is not None:
        lines.append(f"timezone: {timezone}")
    if tiers:
        lines.append("tiers:")
        lines += [f"  - {{key: {k}, name: {n}, min_points: {p}}}" for k, n, p in tiers]
    return "\n".join(lines) + "\n"
