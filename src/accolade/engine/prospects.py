"""Who a prospect is, to find a second referral of it: its registrable domain (``acme.com`` for
``jo@sales.acme.com``, ``acme.co.uk`` for ``www.acme.co.uk``, by the public suffix list), else
its name normalised (``Acme Inc.`` and ``ACME`` are ``name:acme``).

The public suffix list is the copy the publicsuffixlist package ships; nothing is fetched."""

from __future__ import annotations

import re
import unicodedata
from functools import cache

from publicsuffixlist import PublicSuffixList

from accolade.errors import InvalidInput

# Legal forms dropped from the end of a name, after punctuation is gone ("S.A." is "sa",
# "Co., Ltd." is "co ltd"): the ones a referral form sees most, English and European.
LEGAL_FORMS = frozenset(
    {
        *("inc", "incorporated", "corp", "corporation", "co", "company", "llc", "llp", "lp"),
        *("ltd", "limited", "plc", "pty", "pte"),
        *("gmbh", "ag", "kg", "ug", "se", "sa", "sas", "sarl", "srl", "spa", "bv", "nv"),
        *("ab", "as", "asa", "aps", "oy", "oyj", "kk"),
    }
)
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_TOP = re.compile(r"^(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})$")
_WEB = re.compile(r"^(?:https?://)?([^/?#:]+)(?::\d+)?/?$")


@cache
def _suffixes() -> PublicSuffixList:
    # built on first use (it parses the bundled list, ~0.1 s), not when a command starts
    return PublicSuffixList()


def prospect_key(name: str, domain: str | None, email: str | None) -> str:
    """The prospect's registrable domain (from ``domain``, else the contact's e-mail address),
    else ``name:`` and its name normalised. ``domain`` may be a web address
    (``https://www.acme.com/``); one that is not a domain is refused, naming ``domain``."""
    if domain is not None and domain.strip():
        found = _WEB.match(domain.strip().lower())
        registrable = registrable_domain(found.group(1)) if found else None
        if registrable is None:
            raise InvalidInput(f"'{domain}' is not a domain such as acme.com", field="domain")
        return registrable
    if email is not None and "@" in email:
        host = email.rsplit("@", 1)[1].lower()
        return registrable_domain(host) or host
    return "name:" + normalised_name(name)


def registrable_domain(host: str) -> str | None:
    """The part of a host name one can register: ``sales.acme.com`` -> ``acme.com``,
    ``jo.acme.co.uk`` -> ``acme.co.uk``, ``acme.github.io`` stays (github.io is a public
    suffix too). None for a public suffix itself (``co.uk``) or what is not a host name."""
    labels = host.lower().removesuffix(".").split(".")
    if len(labels) < 2 or not all(_LABEL.match(label) for label in labels):
        return None
    if not _TOP.match(labels[-1]):
        return None
    registrable: str | None = _suffixes().privatesuffix(".".join(labels))
    return registrable


def normalised_name(name: str) -> str:
    """A company name as duplicates are found by it: accents dropped, case folded, ``&`` read
    as ``and``, punctuation and spaces gone, and legal forms at the end dropped (``Acme Inc.``,
    ``ACME, Ltd``, ``Acme & Co.`` are all ``acme``). A name that is only a legal form keeps it."""
    plain = "".join(
        c for c in unicodedata.normalize("NFKD", name) if not unicodedata.combining(c)
    ).casefold()
    # dots and apostrophes join (S.A. -> sa, O'Neil -> oneil); other punctuation separates
    words = re.findall(r"[^\W_]+", re.sub("[.'\u2019]", "", plain.replace("&", " and ")))
    while len(words) > 1 and words[-1] in LEGAL_FORMS:
        words.pop()
        if len(words) > 1 and words[-1] == "and":  # Acme & Co.
            words.pop()
    return "".join(words)
