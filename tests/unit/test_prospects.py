"""Who a prospect is, for duplicates: registrable domain by the public suffix list, else the name
normalised. No database, no network."""

from __future__ import annotations

import socket

import pytest

from accolade.engine.prospects import (
    _suffixes,
    normalised_name,
    prospect_key,
    registrable_domain,
)
from accolade.errors import InvalidInput


@pytest.mark.parametrize(
    ("host", "registrable"),
    [
        ("acme.com", "acme.com"),
        ("sales.acme.com", "acme.com"),
        ("eu.sales.acme.com", "acme.com"),
        ("www.acme.co.uk", "acme.co.uk"),
        ("acme.co.uk", "acme.co.uk"),
        ("acme.github.io", "acme.github.io"),  # github.io is a public suffix: acme owns its own
        ("ACME.COM.", "acme.com"),
        ("co.uk", None),
        ("com", None),
        ("acme", None),
        ("1.2.3.4", None),
        ("acme..com", None),
        ("-acme.com", None),
    ],
)
def test_the_registrable_domain_follows_the_public_suffix_list(
    host: str, registrable: str | None
) -> None:
    assert registrable_domain(host) == registrable


def test_a_contacts_subdomain_matches_the_prospects_domain() -> None:
    by_email = prospect_key("Acme", None, "jo@sales.acme.com")
    assert by_email == prospect_key("Acme", "acme.com", None) == "acme.com"


@pytest.mark.parametrize(
    "domain", ["acme.com", "https://www.acme.com/", "http://acme.com:8080", "Sales.Acme.com"]
)
def test_a_domain_given_as_a_web_address_is_its_registrable_domain(domain: str) -> None:
    assert prospect_key("X", domain, None) == "acme.com"


@pytest.mark.parametrize("domain", ["acme", "co.uk", "https://acme.com/about", "acme com"])
def test_what_is_not_a_registrable_domain_is_refused_naming_domain(domain: str) -> None:
    with pytest.raises(InvalidInput, match=r"not a domain such as acme\.com") as refused:
        prospect_key("X", domain, None)
    assert refused.value.field == "domain"


def test_the_domain_given_wins_over_the_contacts() -> None:
    assert prospect_key("Acme", "acme.com", "jo@gmail.com") == "acme.com"


@pytest.mark.parametrize(
    "name",
    [
        "Acme",
        "ACME",
        "Acme Inc.",
        "Acme, Inc",
        "Acme Incorporated",
        "Acme Ltd",
        "Acme Co., Ltd.",
        "Acme & Co.",
        "Acme LLC",
        "Acme GmbH",
        "Acme S.A.",
        "Acme B.V.",
        "Acme plc",
        "Acme Corp.",
        "  acme  ",
    ],
)
def test_a_name_matches_without_case_punctuation_or_legal_form(name: str) -> None:
    assert normalised_name(name) == "acme"
    assert prospect_key(name, None, None) == "name:acme"


def test_accents_and_ampersands_do_not_tell_names_apart() -> None:
    assert normalised_name("Société Générale S.A.") == normalised_name("Societe Generale")
    assert normalised_name("Johnson & Johnson") == normalised_name("Johnson and Johnson")


def test_a_legal_form_inside_a_name_is_kept() -> None:
    assert normalised_name("Co Op Bank") == "coopbank"
    assert normalised_name("Acme Inc. Labs") == "acmeinclabs"


def test_a_name_that_is_only_a_legal_form_is_kept() -> None:
    assert normalised_name("Inc.") == "inc"


def test_the_public_suffix_list_is_read_from_the_package_not_the_network(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def no_network(*args: object, **kwargs: object) -> None:
        raise AssertionError("the public suffix list was fetched")

    for name in ("socket", "create_connection", "getaddrinfo"):
        monkeypatch.setattr(socket, name, no_network)
    _suffixes.cache_clear()  # build the list again, under the patch
    assert registrable_domain("a.b.example.co.uk") == "example.co.uk"
