"""Provider domains inside free text: chat titles we are handed, and text that people type.

`find_domains()` is the one scanner: it finds every token shaped like a host name (a domain in
any script, with or without scheme, port and path, or an IPv4 address) and every other word that
is a provider domain of the workspace, by the keyed digest. No domain is ever decrypted here.

Two policies use it:

- `mask_domains()` for chat titles from Telegram and the gateways: a known provider's domain
  becomes its alias, other text stays ("smmrush.com · refills" → "FastLikes_A · refills").
- `refuse_addresses()` for what owners and staff type and others read (aliases, notes,
  destination names, templates, command words, ticket replies): *every* host name is refused
  alike. Refusing or masking only the providers' domains would answer "is this guess one of
  our providers?" to anyone who types a guess and looks at the result; the same answer for
  every host name answers nothing. The refusal carries the text with each address replaced
  by "[web address]", so a form can show it back without echoing what was typed.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from django import forms
from django.http import QueryDict

from panelrelay.core import crypto
from panelrelay.panels.models import Provider

HMAC_PURPOSE = "provider"
WEB_ADDRESS = "[web address]"
_DOT = "[.\u3002\uff0e\uff61]"  # the dots IDNA reads as "." (bücher。example is bücher.example)
_LABEL = r"[^\W_](?:[\w-]{0,61}[^\W_])?"
_TLD = r"(?:[^\W\d_]{2,63}|xn--[a-z0-9-]{1,59})"
_TAIL = r"(?::[0-9]{1,5})?(?:[/?#]\S*)?"
HOST_LIKE = re.compile(
    rf"(?:\b[a-z][a-z0-9+.-]*://)?(?<!\w)(?:{_LABEL}{_DOT})+{_TLD}(?![\w-]){_TAIL}"
    rf"|(?<![\w.])(?:[0-9]{{1,3}}\.){{3}}[0-9]{{1,3}}(?![\w-]|\.[0-9]){_TAIL}",
    re.IGNORECASE,
)
_WORD = re.compile(r"[^\s,;()\[\]{}<>\"'“”«»]+")
_DIGESTS_PER_QUERY = 500


_SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*://")
_HOSTNAME = re.compile(r"^(?=.{1,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{0,61}[a-z0-9]$")


def normalize_domain(raw: str | None) -> str | None:
    """`HTTPS://www.SmmRush.com:443/api/v2/` → `smmrush.com`: one spelling per provider."""
    text = (raw or "").strip().lower()
    text = _SCHEME.sub("", text)
    text = text.split("@")[-1]  # user:pass@host
    text = re.split(r"[/?#\s]", text, maxsplit=1)[0]
    text = re.sub(r":\d*$", "", text).strip(".")
    if text.startswith("www."):
        text = text[4:]
    try:
        text = text.encode("idna").decode("ascii")  # bücher.example and xn--bcher-kva.example match
    except UnicodeError:
        pass
    return text or None


def looks_like_domain(text: str) -> bool:
    return bool(_HOSTNAME.match(text))


def domain_digest(domain: str) -> str:
    return crypto.index_hmac(domain, HMAC_PURPOSE)


@dataclass(frozen=True)
class Found:
    start: int
    end: int
    provider: Provider | None  # the provider whose domain this is, None for any other host name


def _invisible(char: str) -> bool:
    # Zero-width and direction marks, variation selectors: IDNA drops some of them, so a domain
    # with one inside reaches the same digest while a pattern no longer sees a host name.
    return unicodedata.category(char) == "Cf" or "\ufe00" <= char <= "\ufe0f" or char in "\u034f\u180b\u180c\u180d"


def find_domains(workspace_id: int, text: str) -> list[Found]:
    """Host names in `text` (whatever spelling IDNA reads as one) and words that are a provider's domain."""
    positions = [i for i, char in enumerate(text) if not _invisible(char)]
    visible = "".join(text[i] for i in positions)
    hosts = [(m.start(), m.end()) for m in HOST_LIKE.finditer(visible)]
    words = [(m.start(), m.end()) for m in _WORD.finditer(visible)
             if not any(start < m.end() and m.start() < end for start, end in hosts)]  # fmt: skip
    is_host = set(hosts)
    domains = {span: normalize_domain(visible[span[0] : span[1]]) or "" for span in hosts + words}
    digests = {span: domain_digest(domain) for span, domain in domains.items() if _storable(domain)}
    providers = _providers_by_digest(workspace_id, set(digests.values()))
    found = []
    for span in hosts + words:
        provider = providers.get(digests.get(span, ""))
        if span in is_host or provider is not None or looks_like_domain(domains[span]):
            found.append(Found(positions[span[0]], positions[span[1] - 1] + 1, provider))
    return sorted(found, key=lambda f: f.start)


def _storable(domain: str) -> bool:
    # A lone surrogate (JSON can carry "\\ud800") has no UTF-8 form to digest, nor can a provider have it.
    try:
        return bool(domain.encode("utf-8"))
    except UnicodeEncodeError:
        return False


def _providers_by_digest(workspace_id: int, digests: set[str]) -> dict[str, Provider]:
    ordered, providers = sorted(digests), {}
    for first in range(0, len(ordered), _DIGESTS_PER_QUERY):  # a long template has thousands of words
        chunk = ordered[first : first + _DIGESTS_PER_QUERY]
        rows = Provider.objects.filter(workspace_id=workspace_id, domain_hmac__in=chunk)
        providers.update({p.domain_hmac: p for p in rows})
    return providers


def _replaced(text: str, spans: list[tuple[Found, str]]) -> str:
    for found, replacement in reversed(spans):  # from the end, so earlier offsets stay right
        text = text[: found.start] + replacement + text[found.end :]
    return text


def mask_domains(workspace_id: int, text: str) -> str:
    """`fastlikes.com · refills` → `FastLikes_A · refills` for a provider the workspace knows."""
    known = [(f, f.provider.alias) for f in find_domains(workspace_id, text) if f.provider is not None]
    return _replaced(text, known) if known else text


class AddressInText(ValueError):
    """Typed text with a web address in it. `masked` is the text with each one replaced by WEB_ADDRESS."""

    def __init__(self, what: str, masked: str) -> None:
        super().__init__(
            f"{what} cannot contain a web address or domain name (a word with a dot inside, like site.com): "
            "others read it."
        )
        self.masked = masked


def refuse_addresses(workspace_id: int, text: str, what: str) -> str:
    """`text` unchanged, or AddressInText: the same answer for every host name, provider or not."""
    found = find_domains(workspace_id, text or "")
    if found:
        raise AddressInText(what, _replaced(text, [(f, WEB_ADDRESS) for f in found]))
    return text


def clean_field(form: forms.BaseForm, name: str, workspace_id: int, what: str) -> str:
    """A form's `clean_<name>`: the value, or a ValidationError with the field shown back masked."""
    value = form.cleaned_data.get(name) or ""
    try:
        return refuse_addresses(workspace_id, value, what)
    except AddressInText as exc:
        # The page shows the text again, with no address in it to echo.
        data = form.data.copy() if isinstance(form.data, QueryDict) else dict(form.data)
        data[form.add_prefix(name)] = exc.masked
        form.data = data
        raise forms.ValidationError(f"{exc} Each one is replaced by “{WEB_ADDRESS}” here.") from None
