"""The domain is decrypted by construction in one place: the vault's master views (vault/reveal.py).

(The other place a domain exists in clear is panels/providers.py, which receives it from the
adapter and only hashes and encrypts it.) These tests read the source, so a new decrypt() of a
domain anywhere else fails here before it can leak.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]  # panelrelay/
REVEAL = ROOT / "vault" / "reveal.py"


def _sources() -> list[Path]:
    return [p for p in ROOT.rglob("*.py") if "tests" not in p.parts and "migrations" not in p.parts]


def _decrypt_calls(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(), str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
            if name == "decrypt":
                found.append(ast.unparse(node))
    return found


def test_only_the_vault_reveal_module_decrypts_domains_or_vault_payloads() -> None:
    offenders = []
    for path in _sources():
        if path in (REVEAL, ROOT / "core" / "crypto.py"):
            continue
        for call in _decrypt_calls(path):
            if any(word in call.lower() for word in ("domain", "payload", "item")):
                offenders.append(f"{path.relative_to(ROOT)}: {call}")
    assert offenders == []


def test_the_panels_app_decrypts_nothing_but_the_api_key() -> None:
    calls = [(p.name, c) for p in (ROOT / "panels").rglob("*.py") if "tests" not in p.parts for c in _decrypt_calls(p)]
    assert calls == [("models.py", "crypto.decrypt(self.api_key_enc)")]


def test_no_template_outside_the_vault_touches_the_encrypted_domain() -> None:
    for template in ROOT.rglob("templates/**/*.html"):
        if "vault" in template.parts:
            continue
        text = template.read_text()
        assert "domain_enc" not in text and "domain_hmac" not in text, template
