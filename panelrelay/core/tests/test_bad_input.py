"""No malformed parameter gets a server error, on any URL.

The walk resolves every URL pattern from the root urlconf (as test_tenancy.py does), fills its
path with a code that reaches the view, and sends garbage (not a UUID, a 20-digit number, "²",
a NUL, a lone surrogate, 10,000 characters, a bad date…) as parameters, to each method the
route answers, in the query string and the body at once (a JSON body under /api/). It sends
every parameter name the code reads at once, then each name the route reads alone: a view that
refuses the first bad parameter would hide what it does with the next one.

Names come from the source (lines reading request.GET/POST, core.params, get_picked, a JSON
body) and from every form's fields; the names one route reads are those its view function
mentions plus those it was seen reading from request.GET/POST when probed. A new view or field
is walked without editing this file. The user owns the workspace, holds every toggle and is the
platform operator, so the master area is walked too.

SQLite stores a NUL where PostgreSQL refuses it; a cursor wrapper makes SQLite refuse it the
same way, so the walk finds those 500s on either database.
"""

from __future__ import annotations

import inspect
import json
import re
from contextlib import contextmanager
from importlib import import_module
from pathlib import Path
from unittest import mock
from urllib.parse import quote, quote_plus

from django import forms
from django.db import connection
from django.http import QueryDict
from django.urls import URLPattern, URLResolver, get_resolver, resolve
from django.utils.datastructures import MultiValueDict

from panelrelay.accounts.middleware import SESSION_KEY
from panelrelay.accounts.models import Invite
from panelrelay.api.models import ApiToken
from panelrelay.core.testing import BaseTestCase
from panelrelay.core.tests.test_tenancy import populate, tenant_codes
from panelrelay.forwarding.models import MessageTemplate
from panelrelay.panels.models import Provider
from panelrelay.routing.models import ServiceOverride
from panelrelay.transports.models import Destination

ROOT = Path(__file__).resolve().parents[2]
SURROGATE = "\ud800"
GARBAGE = ["notauuid", "99999999999999999999", "-1", "²", "a\x00b", SURROGATE, "x" * 10_000, "2026-13-45"]
# Valid values for the <str:…> parts of paths, so that the walk reaches the view.
PATH_VALUES = {"perm": "forward", "which": "manual", "kind": "waha", "fmt": "csv"}
READS = re.compile(r"request\.(GET|POST)|\bparams\.\w+\(|get_picked\(|self\.data\b|\bg\.get\(|\bg\[|\bdata\.get\(")
LITERAL = re.compile(r"""["']([a-z][a-z0-9_]*)["']""")
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
# The API's documented answer when the panel itself fails; the walk's panel is a closed port.
UPSTREAM_FAILED = 502


def source_names() -> set[str]:
    """String literals on every line of the app that reads a parameter."""
    names: set[str] = set()
    for path in ROOT.glob("*/**/*.py"):
        if "tests" in path.parts or "migrations" in path.parts:
            continue
        for line in path.read_text().splitlines():
            if READS.search(line):
                names.update(LITERAL.findall(line))
    return names


def form_names() -> set[str]:
    """The fields of every form: the urlconf imports the views' forms; forms.py files are imported
    too, since some are loaded only when used (transports/integrations/<kind>/forms.py)."""
    get_resolver().url_patterns  # noqa: B018
    for path in ROOT.glob("*/**/forms.py"):
        import_module(".".join(path.relative_to(ROOT.parent).with_suffix("").parts))
    names: set[str] = set()
    pending: list[type] = [forms.BaseForm]
    while pending:
        cls = pending.pop()
        names.update(getattr(cls, "base_fields", {}))
        pending.extend(cls.__subclasses__())
    return names


def routes(resolver: URLResolver | None = None, prefix: str = "") -> list[str]:
    resolver = resolver or get_resolver()
    found = []
    for entry in resolver.url_patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            found += routes(entry, route)
        elif isinstance(entry, URLPattern):
            found.append(route)
    # Deleting routes last: they remove what the others need (as in test_tenancy.code_patterns).
    return sorted(found, key=lambda r: ("delete" in r, r.startswith(("destinations/", "settings/connections/"))))


def view_reads(path: str) -> set[str]:
    """The names on the lines of the view function behind `path` that read a parameter (a JSON body's too)."""
    func = resolve(path).func
    if hasattr(func, "view_class"):
        return set()  # Django's own class-based views: their form's fields are seen when probed
    while hasattr(func, "__wrapped__"):
        func = func.__wrapped__
    lines = inspect.getsource(func).splitlines()
    return {name for line in lines if READS.search(line) for name in LITERAL.findall(line)}


@contextmanager
def recording_reads():
    """The keys the view reads from request.GET / request.POST (QueryDicts)."""
    seen: set[str] = set()
    originals = {name: getattr(MultiValueDict, name) for name in ("get", "getlist", "__getitem__", "__contains__")}

    def recorder(name):
        def read(self, key, *args, **kwargs):
            if isinstance(self, QueryDict):
                seen.add(key)
            return originals[name](self, key, *args, **kwargs)

        return read

    with mock.patch.multiple(MultiValueDict, **{name: recorder(name) for name in originals}):
        yield seen


def encode(data: dict[str, str]) -> str:
    # By hand: a lone surrogate has no UTF-8 form, so the test client's urlencode() refuses it.
    return "&".join(f"{k}={quote_plus(v, errors='surrogatepass')}" for k, v in data.items())


def refuse_nul(execute, sql, params, many, context):
    """Do what PostgreSQL does with a NUL in a text value: refuse the query."""
    for row in (params if many else [params]) or []:
        values = row.values() if isinstance(row, dict) else row or []
        if any(isinstance(v, str) and "\x00" in v for v in values):
            raise ValueError("A string literal cannot contain NUL (0x00) characters.")
    return execute(sql, params, many, context)


class BadInputTestCase(BaseTestCase):
    def setUp(self) -> None:
        super().setUp()
        self.alice.is_superuser = self.alice.is_staff = True
        self.alice.save()
        self.invite = Invite.objects.create(workspace=self.workspace, invited_by=self.alice)
        populate(self.workspace)
        self.token = ApiToken.issue(self.workspace, "walk")[1]
        self.names = source_names() | form_names()
        self.failures: list[str] = []
        self.client.raise_request_exception = False  # a 500 is recorded, and the walk goes on

    def sign_in(self) -> None:
        self.client.force_login(self.alice)
        session = self.client.session
        session[SESSION_KEY] = str(self.workspace.code)  # a walked "new workspace" form must not move us
        session.save()

    def send(self, method: str, path: str, data: dict[str, str]) -> int:
        query = encode(data)
        url = f"{path}?{query}" if query else path
        api = path.startswith("/api/")
        headers = {"HTTP_AUTHORIZATION": f"Bearer {self.token}"} if api else {}
        if method == "get":
            r = self.client.get(url, **headers)
        elif api:
            r = self.client.post(url, json.dumps(data), content_type="application/json", **headers)
        else:
            r = self.client.post(url, query, content_type="application/x-www-form-urlencoded", **headers)
        shown = (
            {k: v[:20] for k, v in data.items()}
            if len(data) < 5
            else f"{len(data)} names = {next(iter(data.values()))[:20]!r}"
        )
        if r.status_code >= 500 and not (api and r.status_code == UPSTREAM_FAILED):
            self.failures.append(f"{method.upper()} {path} {shown} → {r.status_code}")
        if api and not r["Content-Type"].startswith("application/json"):
            self.failures.append(f"{method.upper()} {path} {shown} → {r.status_code} {r['Content-Type']}")
        return r.status_code

    def fill(self, route: str, code: str, **parts: str) -> str:
        """The route with `code`, and each other part of the path valid or as given."""
        values = {**PATH_VALUES, "token": self.invite.token, **parts}
        path = re.sub(r"<(?!uuid:)(?:\w+:)?(\w+)>", lambda m: values.get(m[1], "x"), route)
        return "/" + re.sub(r"<uuid:\w+>", code, path)  # <uuid:code>, and the API's <uuid:id>

    def probe(self, route: str, codes: list[str]) -> tuple[str, dict[str, set[str]]]:
        """A filled path whose view answers (not 404), with the names read by each method it takes."""
        for code in codes if re.search(r"<uuid:\w+>", route) else [""]:
            path, reads = self.fill(route, code), {}
            for method in ("get", "post"):
                with recording_reads() as seen:
                    # Not empty: `Form(request.POST or None)` binds, and then reads every field.
                    status = self.send(method, path, {"walk": "1"})
                if status not in (404, 405):
                    reads[method] = (seen | view_reads(path)) & self.names
            if reads:
                return path, reads
        return self.fill(route, codes[0]), {}

    def test_no_garbage_parameter_gets_a_server_error(self) -> None:
        self.assertGreater(len(self.names), 40, "too few parameter names found: the scan is broken")
        codes = tenant_codes(self.workspace)
        walked = set()
        with connection.execute_wrapper(refuse_nul):
            for route in routes():
                self.sign_in()
                path, reads = self.probe(route, codes)
                for method, names in reads.items():
                    for value in GARBAGE:
                        self.send(method, path, dict.fromkeys(self.names, value))
                        for name in names:
                            self.send(method, path, {name: value})
                            walked.add(name)
                for part in re.findall(r"<str:(\w+)>", route):  # garbage in the path itself
                    for value in GARBAGE:
                        garbled = self.fill(
                            route,
                            UUID.search(path)[0] if UUID.search(path) else "",
                            **{part: quote(value, errors="surrogatepass")},
                        )
                        self.send("get", garbled, {})
                        self.send("post", garbled, {})
        self.assertGreater(len(walked), 40, f"the walk reached too few parameters: {sorted(walked)}")
        self.assertFalse(self.failures, "\n".join(self.failures))


class NamedFieldTestCase(BaseTestCase):
    """The answers the walk only bounds below 500: a 400 or a form error that names the field."""

    def setUp(self) -> None:
        super().setUp()
        populate(self.workspace)
        self.login(self.alice)

    def test_activity_filters_name_the_bad_parameter(self) -> None:
        for query, name in [("panel=notauuid", "panel"), ("provider=1", "provider"), ("date=garbage", "date"),
                            ("date=2026-02-30", "date"), ("q=%00", "q"), ("state=a%00", "state")]:  # fmt: skip
            for url in ("/activity/", "/activity/export.csv"):
                r = self.client.get(f"{url}?{query}")
                self.assertEqual(r.status_code, 400, f"{url}?{query}")
                self.assertContains(r, f"`{name}`", status_code=400)
        self.assertEqual(self.client.get("/activity/?date=2026-05-15&q=45323").status_code, 200)

    def test_a_picked_destination_that_is_not_a_code_is_a_400_naming_it(self) -> None:
        provider = Provider.objects.get(workspace=self.workspace)
        for url in (f"/routing/providers/{provider.code}/destination/", "/routing/defaults/manual/",
                    "/routing/overrides/", "/settings/alerts/"):  # fmt: skip
            r = self.client.post(url, {"destination": "notauuid", "service_id": "77"})
            self.assertContains(r, "`destination`", status_code=400)
        r = self.client.post("/routing/overrides/", {"destination": "", "service_id": "77", "panel": "notauuid"})
        self.assertContains(r, "`panel`", status_code=400)
        self.assertFalse(ServiceOverride.objects.filter(service_id="77").exists())

    def test_a_template_for_a_made_up_destination_is_a_form_error(self) -> None:
        before = MessageTemplate.objects.count()
        r = self.client.post(
            "/settings/forwarding/templates/", {"destination": "notauuid", "text": "{ids}"}, follow=True
        )
        self.assertContains(r, "Pick the destination from the list.")
        self.assertEqual(MessageTemplate.objects.count(), before)

    def test_a_service_override_takes_ascii_digits_and_storable_text(self) -> None:
        destination = Destination.objects.get(workspace=self.workspace)
        r = self.client.post(
            "/routing/overrides/", {"service_id": "²", "destination": str(destination.code)}, follow=True
        )
        self.assertContains(r, "numeric service id")
        data = {"service_id": "77", "destination": str(destination.code), "service_name": "a\x00b"}
        self.assertContains(self.client.post("/routing/overrides/", data), "`service_name`", status_code=400)
        self.assertFalse(ServiceOverride.objects.filter(service_id__in=["²", "77"]).exists())

    def test_a_next_that_is_not_a_path_goes_home(self) -> None:
        r = self.client.get("/accounts/login/?next=forward")
        self.assertRedirects(r, "/", fetch_redirect_response=False)
        r = self.client.get("/accounts/login/?next=/activity/")
        self.assertRedirects(r, "/activity/", fetch_redirect_response=False)

    def test_an_invite_token_with_a_nul_is_not_found(self) -> None:
        self.assertEqual(self.client.get("/invite/a%00b/").status_code, 404)

    def test_a_telegram_update_nested_too_deep_is_a_400(self) -> None:
        from panelrelay.transports.integrations.telegram import webhook
        from panelrelay.transports.models import Connection

        bot = Connection.objects.get(workspace=self.workspace, kind="telegram")
        bot.webhook_url = f"https://relay.example.com/hooks/telegram/{bot.code}/"
        bot.save(update_fields=["webhook_url"])
        r = self.client.post(f"/hooks/telegram/{bot.code}/", "[" * 100_000, content_type="application/json",
                             HTTP_X_TELEGRAM_BOT_API_SECRET_TOKEN=webhook.secret_for(bot))  # fmt: skip
        self.assertEqual((r.status_code, r.json()), (400, {"error": "the body is not JSON"}))
