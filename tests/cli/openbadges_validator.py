"""Run by the interpreter ACCOLADE_TEST_OPENBADGES_PYTHON names, which has the 1EdTech validator
(`openbadges` from PyPI) installed: verify the hosted assertion at argv[1] for the recipient
argv[2] and print the validator's report as JSON.

The validator fetches the Open Badges v2 JSON-LD context from https://w3id.org at every check;
the test machines have no network, so that one URL is answered from the copy of the context the
validator itself ships. Every other URL (assertion, badge class, issuer, image) is fetched from
the server for real.
"""

import json
import sys

import requests
from openbadges.verifier import verifier
from openbadges.verifier.openbadges_context import (
    OPENBADGES_CONTEXT_V2_DICT,
    OPENBADGES_CONTEXT_V2_URI,
)

fetch = requests.Session.get


class _Context:
    status_code = 200
    from_cache = False
    headers = {"content-type": "application/ld+json"}  # noqa: RUF012 (read only)
    text = json.dumps(OPENBADGES_CONTEXT_V2_DICT)

    def json(self):
        return OPENBADGES_CONTEXT_V2_DICT


def _get(session, url, *args, **kwargs):
    if url.rstrip("/") == OPENBADGES_CONTEXT_V2_URI:
        return _Context()
    return fetch(session, url, *args, **kwargs)


requests.Session.get = _get
result = verifier.verify(sys.argv[1], recipient_profile={"email": sys.argv[2]}, use_cache=False)
report = result["report"]
print(
    json.dumps(
        {
            "valid": report["valid"],
            "errors": [m["result"] for m in report["messages"] if m["messageLevel"] == "ERROR"],
        }
    )
)
