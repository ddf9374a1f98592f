"""What panels tells the apps above it: a panel or provider changed (the vault backs it up).

Panels sits below the vault and imports nothing of it; the vault connects its receivers in
`VaultConfig.ready()`. Receivers run synchronously, inside the sender's transaction. Deletions
need no signal of ours: Django's `pre_delete` covers every path (a view, a cascade, the shell).
"""

from __future__ import annotations

from django.dispatch import Signal

# sender=Panel, panel=<Panel>, event="panel_added" | "panel_edited" | "providers_changed"
panel_changed = Signal()
# sender=Provider, provider=<Provider>, event="provider_added" | "alias_renamed"
provider_changed = Signal()
