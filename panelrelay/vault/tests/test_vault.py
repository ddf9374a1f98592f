"""The master admin's vault: written on every change, outlives deletions, searched, exported, restored."""

from __future__ import annotations

import csv
import io
import json
import re
from datetime import timedelta
from unittest import mock

import pytest
from django.test import Client
from django.utils import timezone

from panelrelay.accounts.models import Workspace
from panelrelay.core.testing import make_user
from panelrelay.panels import providers, services
from panelrelay.panels.models import Panel, Provider
from panelrelay.panels.tests.helpers import PanelTestCase
from panelrelay.vault import jobs
from panelrelay.vault import views as vault_views
from panelrelay.vault.models import BackupRecord

DOMAINS = ("vault-prov-a.example", "vault-prov-b.example")


class VaultTestCase(PanelTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.root = make_user("root@platform.example", is_superuser=True, is_staff=True)
        self.fake.seed_orders(10, providers=DOMAINS)
        services.sync_providers(self.panel)
        first = Provider.objects.get(alias="Provider 1")
        providers.rename(first, "FastLikes_A")

    def aliases(self, workspace=None) -> list[str]:
        return sorted(Provider.objects.filter(workspace=workspace or self.workspace).values_list("alias", flat=True))

    def test_only_the_master_admin_reaches_it(self) -> None:
        record = BackupRecord.objects.first()
        for user in (self.alice, self.bob, self.charlie):
            self.login(user)
            for url in ("/master/vault/", "/master/vault/export.csv", "/master/vault/export.json"):
                self.assertEqual(self.client.get(url).status_code, 404, url)
            self.assertEqual(self.client.post(f"/master/vault/{record.code}/restore/").status_code, 404)
        self.login(self.root)
        r = self.client.get("/master/vault/")
        self.assertContains(r, "FastLikes_A")
        self.assertContains(r, DOMAINS[0])  # the one place a domain is shown
        self.assertContains(r, 'href="/master/vault/"')  # the Vault tab

    def test_the_payload_is_encrypted_and_records_are_append_only(self) -> None:
        record = BackupRecord.objects.first()
        for domain in DOMAINS:
            self.assertNotIn(domain, record.payload_enc)
        with pytest.raises(ValueError, match="append-only"):
            record.save()
        with pytest.raises(ValueError, match="append-only"):
            record.delete()

    def test_records_survive_deleting_the_panel_and_the_workspace(self) -> None:
        before = BackupRecord.objects.count()
        self.login(self.alice)
        self.client.post(f"/panels/{self.panel.code}/delete/", {"confirm": "yes"})
        self.assertEqual(self.aliases(), [])
        self.assertEqual(BackupRecord.objects.count(), before + 1)
        deleted = BackupRecord.objects.get(event="panel_deleted")
        self.assertEqual((deleted.panel_name, deleted.actor), ("Main", "alice@example.org"))
        providers.add_by_domain(self.workspace, "hand.example", "Hand")
        Workspace.objects.filter(pk=self.workspace.pk).delete()
        self.assertEqual(BackupRecord.objects.count(), before + 3)  # + provider_added + workspace_deleted
        self.login(self.root)
        r = self.client.post("/master/vault/", {"q": "Alice SMM"})
        self.assertContains(r, "deleted")
        self.assertContains(r, DOMAINS[1])
        self.assertContains(r, "hand.example")

    def test_deleting_the_workspace_with_its_panels_backs_them_up(self) -> None:
        Workspace.objects.filter(pk=self.workspace.pk).delete()
        record = BackupRecord.objects.get(event="panel_deleted")
        self.assertEqual(record.domains.count(), 2)
        self.assertTrue(BackupRecord.objects.filter(event="workspace_deleted").exists())

    def test_restore_brings_a_deleted_panels_aliases_back(self) -> None:
        self.login(self.alice)
        self.client.post(f"/panels/{self.panel.code}/delete/", {"confirm": "yes"})
        self.assertEqual(self.aliases(), [])
        record = BackupRecord.objects.get(event="panel_deleted")
        self.login(self.root)
        r = self.client.post(f"/master/vault/{record.code}/restore/", follow=True)
        self.assertContains(r, "2 provider(s) re-created")
        self.assertEqual(self.aliases(), ["FastLikes_A", "Provider 2"])
        # Re-adding the panel and syncing finds the same providers under their old aliases.
        panel = self.make_panel("Main again")
        services.sync_providers(panel)
        self.assertEqual(self.aliases(), ["FastLikes_A", "Provider 2"])
        self.assertTrue(BackupRecord.objects.filter(event="aliases_restored", actor="root@platform.example").exists())

    def test_restore_puts_renamed_aliases_back_and_reports_conflicts(self) -> None:
        record = BackupRecord.objects.filter(event="alias_renamed").first()
        renamed = Provider.objects.get(alias="FastLikes_A")
        providers.rename(renamed, "Changed")
        providers.rename(Provider.objects.get(alias="Provider 2"), "Taken")
        providers.add_by_domain(self.workspace, "hand.example", "Provider 2")  # now holds the old alias
        self.login(self.root)
        r = self.client.post(f"/master/vault/{record.code}/restore/", follow=True)
        self.assertContains(r, "1 alias(es) put back")
        self.assertContains(r, "Left alone because another provider now uses the alias: Provider 2")
        self.assertEqual(self.aliases(), ["FastLikes_A", "Provider 2", "Taken"])

    def test_restore_into_a_deleted_workspace_is_refused_in_plain_words(self) -> None:
        record = BackupRecord.objects.first()
        Workspace.objects.filter(pk=self.workspace.pk).delete()
        self.login(self.root)
        r = self.client.post(f"/master/vault/{record.code}/restore/", follow=True)
        self.assertContains(r, "no longer exists: there is nowhere to restore to")

    def test_search_by_workspace_panel_and_provider_domain(self) -> None:
        theirs = self.make_panel("Charlie main", workspace=self.other_workspace)
        self.fake.add_order(20001, provider="https://www." + DOMAINS[0].upper())
        services.resolve_orders(theirs, ["20001"])
        self.login(self.root)
        r = self.client.post("/master/vault/", {"q": DOMAINS[0]})
        self.assertContains(r, "Panels whose backups include")
        self.assertContains(r, "Charlie Panels / Charlie main")
        self.assertContains(r, "Alice SMM / Main")
        r = self.client.post("/master/vault/", {"q": "charlie"})
        self.assertContains(r, "Charlie main")
        self.assertNotContains(r, "FastLikes_A")
        r = self.client.post("/master/vault/", {"q": "nobody-uses-this.example"})
        self.assertContains(r, "No backup records")
        r = self.client.get("/master/vault/", {"event": "alias_renamed"})
        self.assertContains(r, "Alias renamed")
        self.assertNotContains(r, "Providers detected</td>")

    def test_search_by_alias_and_by_part_of_a_domain(self) -> None:
        self.login(self.root)
        for q in ("vault-prov-a", "PROV-A.EXA", "fastlikes", "FastLikes_A"):
            r = self.client.post("/master/vault/", {"q": q})
            self.assertContains(r, DOMAINS[0], msg_prefix=q)
            self.assertContains(r, "FastLikes_A", msg_prefix=q)
            self.assertNotContains(r, "were searched in the newest", msg_prefix=q)
        r = self.client.post("/master/vault/", {"q": "fastlikes"})
        self.assertContains(r, "Alias renamed</td>")
        self.assertNotContains(r, "Providers detected</td>")  # its Provider 1 was not yet FastLikes_A
        r = self.client.post("/master/vault/", {"q": "prov-b"})
        self.assertContains(r, DOMAINS[1])
        r = self.client.post("/master/vault/", {"q": "viewstorm"})
        self.assertContains(r, "No backup records")
        r = self.client.post("/master/vault/", {"q": "va"})  # too short to open records for
        self.assertContains(r, "No backup records")
        rows = self.client.post("/master/vault/export.csv", {"q": "prov-b"}).streaming_content
        self.assertIn(DOMAINS[1], b"".join(rows).decode())

    def test_a_part_search_says_when_it_stopped_before_the_oldest_record(self) -> None:
        self.login(self.root)
        total = BackupRecord.objects.count()
        self.assertGreater(total, 1)
        with mock.patch.object(vault_views, "PART_SEARCH_RECORDS", 1):
            r = self.client.post("/master/vault/", {"q": "prov-"})
        self.assertContains(r, "searched in the newest 1 record only")
        self.assertEqual(r.context["page"].paginator.count, 1)
        with mock.patch.object(vault_views, "PART_SEARCH_SECONDS", -1):  # the time bound: nothing opened
            r = self.client.post("/master/vault/", {"q": "prov-"})
        self.assertContains(r, "searched in the newest 0 records only")

    def test_owners_cannot_search_the_vault_by_part_either(self) -> None:
        for user in (self.alice, self.bob):
            self.login(user)
            self.assertEqual(self.client.post("/master/vault/", {"q": "vault-prov"}).status_code, 404)
            self.assertEqual(self.client.post("/master/vault/export.csv", {"q": "vault-prov"}).status_code, 404)

    def test_export_csv_and_json(self) -> None:
        self.login(self.root)
        r = self.client.post("/master/vault/export.csv", {"q": "Alice"})
        self.assertEqual(r["Content-Type"], "text/csv; charset=utf-8")
        self.assertIn("attachment;", r["Content-Disposition"])
        rows = list(csv.DictReader(io.StringIO(b"".join(r.streaming_content).decode())))
        self.assertIn(("FastLikes_A", DOMAINS[0]), {(row["alias"], row["domain"]) for row in rows})
        r = self.client.post("/master/vault/export.json")
        data = json.loads(r.content)
        self.assertEqual({d["event"] for d in data}, {"providers_changed", "alias_renamed"})
        self.assertEqual(self.client.post("/master/vault/export.xml").status_code, 404)

    def test_the_csv_export_neutralises_formulas_in_aliases_and_domains(self) -> None:
        self.fake.add_order(provider="=cmd|'/C calc'!A0")
        services.sync_providers(self.panel)
        providers.rename(Provider.objects.get(alias="Provider 2"), '=HYPERLINK("evil","x")')
        self.login(self.root)
        body = b"".join(self.client.post("/master/vault/export.csv").streaming_content).decode()
        cells = {(row["alias"], row["domain"]) for row in csv.DictReader(io.StringIO(body))}
        self.assertIn(('\'=HYPERLINK("evil","x")', DOMAINS[1]), cells)
        self.assertIn(("Provider 3", "'=cmd|'"), cells)
        self.assertFalse([line for line in body.splitlines() if line.startswith("=")])

    def test_a_domain_is_searched_and_exported_by_post_never_in_a_url(self) -> None:
        # The access log once saw every domain the master admin searched for in a query string.
        self.login(self.root)
        r = self.client.get("/master/vault/", {"q": DOMAINS[0]})
        self.assertNotContains(r, "Panels whose backups include")  # a query string is not read
        self.assertNotContains(r, 'value="' + DOMAINS[0])
        for fmt in ("csv", "json"):
            self.assertEqual(self.client.get(f"/master/vault/export.{fmt}", {"q": DOMAINS[0]}).status_code, 405)
        r = self.client.post("/master/vault/", {"q": DOMAINS[0]})
        html = r.content.decode()
        self.assertEqual(re.findall(r'<form[^>]*method="get"', html), [])
        self.assertNotIn("?q=", html)
        self.assertIn('name="csrfmiddlewaretoken"', html)
        rows = self.client.post("/master/vault/export.csv", {"q": DOMAINS[0]}).streaming_content
        self.assertIn(DOMAINS[0], b"".join(rows).decode())
        record = BackupRecord.objects.filter(event="alias_renamed").first()
        r = self.client.post(f"/master/vault/{record.code}/restore/", {"q": DOMAINS[0]})
        self.assertEqual(r["Location"], "/master/vault/")
        csrf = Client(enforce_csrf_checks=True)
        csrf.force_login(self.root)
        self.assertEqual(csrf.post("/master/vault/export.csv", {"q": DOMAINS[0]}).status_code, 403)

    def test_retention_prunes_only_when_set(self) -> None:
        old = BackupRecord.objects.first()
        BackupRecord.objects.filter(pk=old.pk).update(created=timezone.now() - timedelta(days=40))
        self.assertEqual(jobs.prune(), 0)  # default: keep forever
        with self.settings(VAULT_RETENTION_DAYS=30):
            jobs.prune()
        self.assertFalse(BackupRecord.objects.filter(pk=old.pk).exists())
        self.assertTrue(BackupRecord.objects.exists())

    def test_owners_are_told_about_the_backup_and_its_retention(self) -> None:
        self.login(self.alice)
        with self.settings(VAULT_RETENTION_DAYS=90):
            r = self.client.get("/panels/")
            self.assertContains(r, "for recovery and abuse prevention, for 90 days.")
            r = self.client.get(f"/panels/{self.panel.code}/delete/")
            self.assertContains(r, "keeps a backup of panel and provider configuration")


def test_the_vault_has_no_foreign_key_to_tenant_data() -> None:
    from panelrelay.vault.models import BackupDomain

    for model in (BackupRecord, BackupDomain):
        targets = {f.related_model for f in model._meta.get_fields() if f.is_relation and f.many_to_one}
        assert targets <= {BackupRecord}, f"{model.__name__} points at {targets}"
    assert Panel not in targets
