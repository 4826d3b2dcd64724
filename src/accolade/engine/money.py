"""Money: an integer count of a currency's minor units, as ISO 4217 counts them (JPY has none,
USD 2 places, KWD 3). The codes and their places are the ISO list as the iso4217 package ships
it: current currencies only, read from the package, never fetched."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from functools import cache

import iso4217

from accolade.errors import InvalidInput

# A code stored before codes were checked against the list (any three letters were taken, and
# counted in hundredths) keeps being read in hundredths.
_UNLISTED_PLACES = 2
MAX_MAJOR = Decimal(10) ** 13  # an amount stays below this many major units


@cache
def _places() -> dict[str, int | None]:
    # None: an ISO code without minor units (gold XAU, the test code XTS, XXX): not money here
    return {c.code: c.exponent for c in iso4217.Currency}


def currency_places(currency: str) -> int:
    """How many decimal places the currency's amounts have (its ISO 4217 minor unit)."""
    places = _places().get(currency)
    return _UNLISTED_PLACES if places is None else places


def check_currency(code: str, *, field: str = "currency") -> str:
    """The code if it is a current ISO 4217 currency with minor units (USD, JPY, KWD)."""
    if code not in _places():
        raise InvalidInput(
            f"'{code}' is not an ISO 4217 currency code, such as USD, EUR or JPY", field=field
        )
    if _places()[code] is None:
        raise InvalidInput(
            f"'{code}' is an ISO 4217 code without minor units (a metal, a fund or a test "
            "code), not a currency an amount can be in",
            field=field,
        )
    return code


def parse_amount(value: Decimal | float | str, *, field: str = "amount") -> Decimal:
    """A number of major units from 0 to below 10^13, as given (12500.50)."""
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        raise InvalidInput(f"'{value}' is not a number", field=field) from None
    if not amount.is_finite() or amount < 0 or amount >= MAX_MAJOR:
        raise InvalidInput("must be a number from 0 to below 10^13", field=field)
    return amount


def to_minor(amount: Decimal, currency: str, *, field: str = "amount") -> int:
    """Major units to the currency's minor units (12500.50 USD -> 1250050). An amount with more
    places than the currency has is refused, never rounded: 0.5 JPY is not money."""
    places = currency_places(currency)
    minor = amount.scaleb(places)
    if minor != minor.to_integral_value():
        unit = "no decimals" if places == 0 else f"at most {places} decimal places"
        raise InvalidInput(f"{currency} amounts have {unit}: '{amount}'", field=field)
    return int(minor)


def to_major(minor: int, currency: str) -> Decimal:
    """Minor units as major units with the currency's places: 1250050 USD -> 12500.50,
    1250000 JPY -> 1250000, 1234 KWD -> 1.234."""
    places = currency_places(currency)
    return Decimal(minor).scaleb(-places).quantize(Decimal(1).scaleb(-places))
