"""Provider domains out of chat titles.

A provider's group is often titled after its site ("smmrush.com · support"), and Telegram and the
WhatsApp gateways hand us those titles. Staff who manage routing see them in the picker, and a
destination picked from the list is named after one. So a title is stored with every *known*
provider domain of the workspace replaced by that provider's alias, found through the keyed
digest like everywhere else: no domain is ever decrypted here.
"""

from __future__ import annotations

import re

from panelrelay.panels.models import Provider
from panelrelay.panels.providers import domain_digest, normalize_domain

DOMAIN_LIKE = re.compile(
    r"(?:[a-z][a-z0-9+.-]*://)?(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9](?::\d+)?(?:/\S*)?",
    re.IGNORECASE,
)


def mask_domains(workspace_id: int, text: str) -> str:
    """`fastlikes.com · refills` → `FastLikes_A · refills` for a provider the workspace knows."""
    found = {m.group(0): normalize_domain(m.group(0)) for m in DOMAIN_LIKE.finditer(text)}
    digests = {raw: domain_digest(domain) for raw, domain in found.items() if domain}
    if not digests:
        return text
    aliases = dict(
        Provider.objects.filter(workspace_id=workspace_id, domain_hmac__in=set(digests.values())).values_list(
            "domain_hmac", "alias"
        )
    )
    for raw in sorted(digests, key=len, reverse=True):  # longest first: a URL before its bare host
        if digests[raw] in aliases:
            text = text.replace(raw, aliases[digests[raw]])
    return text
