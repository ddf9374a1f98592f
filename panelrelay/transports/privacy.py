"""Provider domains out of chat titles.

A provider's group is often titled after its site ("smmrush.com · support"), and Telegram and the
WhatsApp gateways hand us those titles. Staff who manage routing see them in the picker, and a
destination picked from the list is named after one. So a title is stored with every *known*
provider domain of the workspace replaced by that provider's alias, found through the keyed
digest like everywhere else: no domain is ever decrypted here. The scanning is
`panelrelay.panels.privacy`'s, shared with the check of what owners and staff type.
"""

from __future__ import annotations

from panelrelay.panels.privacy import mask_domains  # the one scanner of domains in text

__all__ = ["mask_domains"]
