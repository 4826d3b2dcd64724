"""Money in a currency's minor units, as ISO 4217 counts them: no database."""

from __future__ import annotations

import pytest

from accolade.engine.money import check_currency, parse_amount, to_major, to_minor
from accolade.errors import InvalidInput


@pytest.mark.parametrize(
    ("amount", "currency", "minor"),
    [
        ("12500", "JPY", 12500),
        ("12500.50", "USD", 1250050),
        ("12500.5", "EUR", 1250050),
        ("1.234", "KWD", 1234),
        ("1.2", "KWD", 1200),
        ("12500.000", "JPY", 12500),  # zeros past the places are no extra precision
        ("0", "USD", 0),
    ],
)
def test_an_amount_counts_the_currencys_minor_units(amount: str, currency: str, minor: int) -> None:
    assert to_minor(parse_amount(amount), currency) == minor


@pytest.mark.parametrize(
    ("minor", "currency", "shown"),
    [
        (12500, "JPY", "12500"),
        (1250050, "USD", "12500.50"),
        (1234, "KWD", "1.234"),
        (0, "KWD", "0.000"),
    ],
)
def test_minor_units_read_back_with_the_currencys_places(
    minor: int, currency: str, shown: str
) -> None:
    assert str(to_major(minor, currency)) == shown


@pytest.mark.parametrize(
    ("amount", "currency", "message"),
    [
        ("12500.5", "JPY", "JPY amounts have no decimals"),
        ("0.001", "USD", "USD amounts have at most 2 decimal places"),
        ("1.2345", "KWD", "KWD amounts have at most 3 decimal places"),
    ],
)
def test_more_places_than_the_currency_has_is_refused_naming_amount(
    amount: str, currency: str, message: str
) -> None:
    with pytest.raises(InvalidInput, match=message) as refused:
        to_minor(parse_amount(amount), currency)
    assert refused.value.field == "amount"


@pytest.mark.parametrize("code", ["ABC", "QQQ", "usd", "DEM", "US"])
def test_a_code_not_in_iso_4217_is_refused_naming_currency(code: str) -> None:
    with pytest.raises(InvalidInput, match="not an ISO 4217 currency code") as refused:
        check_currency(code)
    assert refused.value.field == "currency"


@pytest.mark.parametrize("code", ["XAU", "XTS", "XXX"])
def test_an_iso_code_without_minor_units_is_not_a_currency_for_amounts(code: str) -> None:
    with pytest.raises(InvalidInput, match="without minor units") as refused:
        check_currency(code)
    assert refused.value.field == "currency"


@pytest.mark.parametrize("code", ["USD", "EUR", "JPY", "KWD", "CHF", "BHD", "CLP"])
def test_current_iso_currencies_are_taken(code: str) -> None:
    assert check_currency(code) == code


def test_a_code_stored_before_codes_were_checked_reads_in_hundredths() -> None:
    assert str(to_major(1250050, "ABC")) == "12500.50"


@pytest.mark.parametrize("amount", ["-1", "1e13", "NaN", "Infinity", "twelve"])
def test_an_amount_out_of_range_or_not_a_number_is_refused_naming_amount(amount: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_amount(amount)
    assert refused.value.field == "amount"
