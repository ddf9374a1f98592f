"""`manage.py rotate_keys`: with FERNET_KEYS=new,old every stored secret ends up readable by the new key alone."""

from __future__ import annotations

from io import StringIO
from types import SimpleNamespace

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.core.management.base import CommandError

from panelrelay.accounts.models import Workspace
from panelrelay.core import crypto, keyrotation
from panelrelay.panels.models import Panel, Provider
from panelrelay.transports.models import Connection
from panelrelay.vault import backup, reveal
from panelrelay.vault.models import BackupRecord

OLD, NEW = Fernet.generate_key().decode(), Fernet.generate_key().decode()
DOMAIN = "rotation-canary.example"
API_KEY = "panel-api-key-0123456789"
BOT_TOKEN = "123456:bot-token-abcdefghij"


@pytest.fixture
def stored(db, settings) -> SimpleNamespace:
    """One of each encrypted column, written while OLD was the only key."""
    settings.FERNET_KEYS = [OLD]
    workspace = Workspace.objects.create(name="Rotation")
    panel = Panel(workspace=workspace, name="Main", url="http://127.0.0.1:9/", kind="pp_v2")
    panel.set_api_key(API_KEY)
    panel.save()
    provider = Provider.objects.create(
        workspace=workspace,
        alias="Provider 1",
        domain_enc=crypto.encrypt(DOMAIN),
        domain_hmac=crypto.index_hmac(DOMAIN, "provider"),
    )
    provider.panels.add(panel)
    bot = Connection(workspace=workspace, kind="telegram", name="Bot")
    bot.set_secret(BOT_TOKEN)
    bot.save()
    Connection.objects.create(workspace=workspace, kind="waha", name="No key")  # nothing to rotate
    record = backup.snapshot_panel(panel, "panel_added")
    return SimpleNamespace(workspace=workspace, panel=panel, provider=provider, bot=bot, record=record)


def run(*args: str) -> str:
    out = StringIO()
    call_command("rotate_keys", *args, stdout=out)
    return out.getvalue()


def tokens() -> dict[str, list[str]]:
    return {
        "panel": list(Panel.objects.order_by("pk").values_list("api_key_enc", flat=True)),
        "provider": list(Provider.objects.order_by("pk").values_list("domain_enc", flat=True)),
        "connection": list(Connection.objects.order_by("pk").values_list("secret_enc", flat=True)),
        "vault": list(BackupRecord.objects.order_by("pk").values_list("payload_enc", flat=True)),
    }


def test_it_reencrypts_every_secret_so_the_new_key_alone_reads_them(stored, settings) -> None:
    settings.FERNET_KEYS = [NEW, OLD]
    before = reveal.as_row(stored.record)
    out = run()
    settings.FERNET_KEYS = [NEW]
    stored.panel.refresh_from_db()
    stored.provider.refresh_from_db()
    stored.bot.refresh_from_db()
    stored.record.refresh_from_db()
    assert crypto.decrypt(stored.panel.api_key_enc) == API_KEY
    assert crypto.decrypt(stored.provider.domain_enc) == DOMAIN
    assert stored.bot.secret() == BOT_TOKEN
    assert reveal.as_row(stored.record) == before  # same record, domain token inside rotated too
    # INDEX_KEY is not touched: the provider is still found by its domain's digest.
    assert Provider.objects.get(domain_hmac=crypto.index_hmac(DOMAIN, "provider")) == stored.provider
    assert "panels.Panel.api_key_enc: 1 re-encrypted, 0 already current" in out
    assert "panels.Provider.domain_enc: 1 re-encrypted" in out
    assert "transports.Connection.secret_enc: 1 re-encrypted" in out  # the keyless one is not counted
    assert "vault.BackupRecord.payload_enc: 1 re-encrypted" in out


def test_it_prints_counts_and_never_a_secret_or_token(stored, settings) -> None:
    settings.FERNET_KEYS = [NEW, OLD]
    old_tokens = tokens()
    out = run()
    shown = [DOMAIN, API_KEY, BOT_TOKEN, OLD, NEW, *sum(old_tokens.values(), []), *sum(tokens().values(), [])]
    assert [s for s in shown if s and s in out] == []


def test_a_second_run_writes_nothing(stored, settings) -> None:
    settings.FERNET_KEYS = [NEW, OLD]
    run()
    after_first = tokens()
    out = run()
    assert tokens() == after_first
    assert "0 re-encrypted, 1 already current" in out
    assert "1 re-encrypted" not in out


def test_dry_run_counts_and_writes_nothing(stored, settings) -> None:
    settings.FERNET_KEYS = [NEW, OLD]
    before = tokens()
    out = run("--dry-run")
    assert tokens() == before
    assert "panels.Panel.api_key_enc: 1 would re-encrypt" in out


def test_batches_walk_the_whole_table(stored, settings) -> None:
    for n in range(5):
        connection = Connection(workspace=stored.workspace, kind="greenapi", name=f"Green {n}")
        connection.set_secret(f"green-api-token-{n:04}")
        connection.save()
    settings.FERNET_KEYS = [NEW, OLD]
    out = run("--batch-size", "2")
    assert "transports.Connection.secret_enc: 6 re-encrypted" in out
    settings.FERNET_KEYS = [NEW]
    assert sorted(c.secret() for c in Connection.objects.exclude(secret_enc="")) == sorted(
        [BOT_TOKEN, *(f"green-api-token-{n:04}" for n in range(5))]
    )


def test_a_value_no_key_reads_is_left_as_it_is_and_the_command_fails(stored, settings) -> None:
    settings.FERNET_KEYS = [Fernet.generate_key().decode()]
    lost = crypto.encrypt("written-with-a-lost-key")
    Panel.objects.filter(pk=stored.panel.pk).update(api_key_enc=lost)
    settings.FERNET_KEYS = [NEW, OLD]
    with pytest.raises(CommandError, match="1 stored value"):
        run()
    assert Panel.objects.get(pk=stored.panel.pk).api_key_enc == lost
    settings.FERNET_KEYS = [NEW]
    assert Connection.objects.get(pk=stored.bot.pk).secret() == BOT_TOKEN  # the rest was rotated


def test_a_secret_saved_while_rotating_is_not_overwritten(stored, settings) -> None:
    settings.FERNET_KEYS = [NEW, OLD]
    column = next(c for c in keyrotation.columns() if c.label == "panels.Panel.api_key_enc")
    read = [(stored.panel.pk, stored.panel.api_key_enc)]  # what the command read...
    stored.panel.set_api_key("a-newer-api-key-987654")  # ...before the owner saved a new key
    stored.panel.save()
    tally = keyrotation.Tally()
    keyrotation.rotate_rows(column, read, tally, dry_run=False)
    assert tally.changed == 1 and tally.rotated == 0
    settings.FERNET_KEYS = [NEW]
    assert crypto.decrypt(Panel.objects.get(pk=stored.panel.pk).api_key_enc) == "a-newer-api-key-987654"
