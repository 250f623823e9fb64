from pathlib import Path

import pytest

from app.core.catalog import load_builtin, load_catalog, merge, parse_catalog_file, user_catalog_path
from app.core.errors import CatalogError, SelectionError
from app.core.scenarios import SCENARIO_NAMES


def test_builtin_catalog_has_the_environments_and_applications():
    catalog = load_builtin()
    assert {"production", "map-stage", "practice"} <= set(catalog.environments)
    assert {"ads", "cmri", "oms", "mpp", "oasis", "crr", "developer"} <= set(catalog.applications)
    for env in ("production", "map-stage"):
        apps = {a.id for a in catalog.applications_in(env)}
        assert {"ads", "cmri", "oms", "mpp"} <= apps
    for endpoint in catalog.endpoints:
        assert endpoint.source, endpoint.id
        if not endpoint.lab:
            assert endpoint.url.startswith("https://")


def test_disagreeing_sources_are_all_kept_with_their_source():
    catalog = load_builtin()
    ads_prod = [e for e in catalog.endpoints if e.environment == "production" and e.application == "ads"]
    assert {e.url for e in ads_prod} == {
        "https://adsws.prod.caiso.com/ADS/APIWebService/v8",
        "https://ads.caiso.com/ADS/APIService",
        "https://adssta.caiso.com:447/ADS/APIWebService/v7",
    }
    assert len({e.source for e in ads_prod}) == 3
    by_default = catalog.select("production", ["ads"])
    assert [e.url for e in by_default] == ["https://adsws.prod.caiso.com/ADS/APIWebService/v8"]
    assert len(catalog.select("production", ["ads"], all_addresses=True)) == 3


def test_practice_covers_every_lab_scenario():
    catalog = load_builtin()
    labs = {e.lab for e in catalog.endpoints if e.environment == "practice" and e.lab}
    assert labs == set(SCENARIO_NAMES)


def test_selection_errors_are_plain():
    catalog = load_builtin()
    with pytest.raises(SelectionError, match=r"There is no environment 'prod'\. Choose one of: production"):
        catalog.select("prod")
    with pytest.raises(SelectionError, match="There is no application 'adz'"):
        catalog.select("production", ["adz"])
    with pytest.raises(SelectionError, match="has no address for"):
        catalog.select("practice", ["ads"])


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "company.toml"
    path.write_text(text, encoding="utf-8")
    return path


GOOD_EXTRA = """
[catalog]
version = "acme-1"
[applications.acme]
name = "ACME gateway"
[[endpoints]]
id = "acme-gw"
environment = "production"
application = "acme"
name = "ACME gateway to the ISO"
url = "https://gw.acme.example/"
client_certificate = "none"
source = "ACME IT"
"""


def test_an_it_catalog_adds_to_the_built_in(tmp_path):
    catalog = load_catalog(write(tmp_path, GOOD_EXTRA))
    assert "acme-gw" in {e.id for e in catalog.endpoints}
    assert "prod-ads-api-v8" in {e.id for e in catalog.endpoints}
    assert catalog.version == "2026.11.24+acme-1"


def test_an_it_catalog_can_replace_the_built_in(tmp_path):
    text = (
        GOOD_EXTRA.replace('version = "acme-1"', 'version = "acme-1"\nmode = "replace"')
        + """
[environments.production]
name = "Production"
"""
    )
    catalog = load_catalog(write(tmp_path, text))
    assert [e.id for e in catalog.endpoints] == ["acme-gw"]
    assert list(catalog.environments) == ["production"]


def test_an_it_catalog_overrides_an_entry_with_the_same_id(tmp_path):
    text = GOOD_EXTRA.replace('id = "acme-gw"', 'id = "prod-ads-api-v8"')
    catalog = load_catalog(write(tmp_path, text))
    overridden = [e for e in catalog.endpoints if e.id == "prod-ads-api-v8"]
    assert len(overridden) == 1 and overridden[0].url == "https://gw.acme.example/"


def test_the_per_user_catalog_is_read(tmp_path, monkeypatch):
    # Each system's own variable for the per-user folder (Windows: APPDATA; macOS: HOME; Linux: XDG_CONFIG_HOME),
    # so the test never writes into the real user's folder.
    for variable in ("APPDATA", "HOME", "XDG_CONFIG_HOME"):
        monkeypatch.setenv(variable, str(tmp_path))
    path = user_catalog_path()
    assert path.is_relative_to(tmp_path)
    path.parent.mkdir(parents=True)
    path.write_text(GOOD_EXTRA, encoding="utf-8")
    assert "acme-gw" in {e.id for e in load_catalog().endpoints}
    assert "acme-gw" not in {e.id for e in load_catalog(use_user_catalog=False).endpoints}


@pytest.mark.parametrize(
    ("change", "entry", "field", "message"),
    [
        (
            ('url = "https://gw.acme.example/"', 'url = "http://gw.acme.example/"'),
            "endpoints[0] (acme-gw)",
            "url",
            "only https://",
        ),
        (
            ('url = "https://gw.acme.example/"', 'url = "https://gw.acme.example:99999/"'),
            "endpoints[0] (acme-gw)",
            "url",
            "65535",
        ),
        (
            ('client_certificate = "none"', 'client_certificate = "maybe"'),
            "endpoints[0] (acme-gw)",
            "client_certificate",
            "must be one of",
        ),
        (
            ('environment = "production"', 'environment = "prodution"'),
            "endpoints[0] (acme-gw)",
            "environment",
            "no environment 'prodution'",
        ),
        (
            ('application = "acme"', 'application = "acmee"'),
            "endpoints[0] (acme-gw)",
            "application",
            "no application 'acmee'",
        ),
        (('source = "ACME IT"', ""), "endpoints[0] (acme-gw)", "source", "missing"),
        (('name = "ACME gateway to the ISO"', 'name = ""'), "endpoints[0] (acme-gw)", "name", "non-empty"),
        (('source = "ACME IT"', 'source = "ACME IT"\ntimeout = -1'), "endpoints[0] (acme-gw)", "timeout", "seconds"),
        (
            ('source = "ACME IT"', 'source = "ACME IT"\ncolour = "red"'),
            "endpoints[0] (acme-gw)",
            "colour",
            "unknown field",
        ),
        (
            ('url = "https://gw.acme.example/"', 'lab = "ready"'),
            "endpoints[0] (acme-gw)",
            "lab",
            "practice environment",
        ),
        (('url = "https://gw.acme.example/"', ""), "endpoints[0] (acme-gw)", "url", "exactly one"),
        (
            ('source = "ACME IT"', 'source = "ACME IT"\nexpected_issuers = ["sha256:12ab"]'),
            "endpoints[0] (acme-gw)",
            "expected_issuers",
            "64 hexadecimal digits",
        ),
        (
            ('source = "ACME IT"', 'source = "ACME IT"\nexpected_issuers = ["DigiCert"]'),
            "endpoints[0] (acme-gw)",
            "expected_issuers",
            "entry 1 ('DigiCert'): an issuer is a name such as",
        ),
        (
            ('source = "ACME IT"', 'source = "ACME IT"\nexpected_issuers = "CN=ACME Root"'),
            "endpoints[0] (acme-gw)",
            "expected_issuers",
            "list of texts",
        ),
        (
            ('name = "ACME gateway"', 'name = "ACME gateway"\nexpected_issuers = ["CN=ok", "sha256:zz"]'),
            "applications.acme",
            "expected_issuers",
            "entry 2",
        ),
    ],
)
def test_errors_name_the_file_entry_and_field(tmp_path, change, entry, field, message):
    path = write(tmp_path, GOOD_EXTRA.replace(*change))
    with pytest.raises(CatalogError) as error:
        load_catalog(path)
    text = str(error.value)
    assert str(path) in text and entry in text and f"field '{field}'" in text and message in text
    assert (error.value.entry, error.value.field) == (entry, field)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "does not exist"),
        ("this is = = not toml", "not valid TOML"),
        (b"\xff\xfe\x00bad", "not UTF-8"),
        ("[strange]\nx = 1", "unknown section"),
        ("[[endpoints]]\nid = 'Has Spaces'", "identifier"),
    ],
)
def test_broken_files_get_one_sentence(tmp_path, content, message):
    path = tmp_path / "broken.toml"
    if isinstance(content, bytes):
        path.write_bytes(content)
    elif content is not None:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(CatalogError, match=message) as error:
        load_catalog(path)
    assert str(path) in str(error.value)


def test_duplicate_ids_are_refused(tmp_path):
    block = GOOD_EXTRA[GOOD_EXTRA.index("[[endpoints]]") :]
    with pytest.raises(CatalogError, match="used twice"):
        load_catalog(write(tmp_path, GOOD_EXTRA + block))


def test_merge_checks_references_across_files(tmp_path):
    base = load_builtin()
    extra = parse_catalog_file(write(tmp_path, GOOD_EXTRA), built_in=False)
    assert merge(base, extra).applications["acme"].name == "ACME gateway"


def test_expected_issuers_add_up_from_the_environment_the_application_and_the_endpoint(tmp_path):
    fingerprint = "sha256:" + ":".join(["ab"] * 32)
    text = (
        GOOD_EXTRA.replace('name = "ACME gateway"', 'name = "ACME gateway"\nexpected_issuers = ["CN=ACME Root"]')
        .replace('source = "ACME IT"', f'source = "ACME IT"\nexpected_issuers = ["{fingerprint}"]')
        .replace('version = "acme-1"', 'version = "acme-1"\nmode = "replace"')
        + """
[environments.production]
name = "Production"
expected_issuers = ["CN=DigiCert Global Root G2, O=DigiCert Inc", "CN=ACME Root"]
"""
    )
    [endpoint] = load_catalog(write(tmp_path, text)).endpoints
    assert [i.text for i in endpoint.expected_issuers] == [
        fingerprint,
        "CN=ACME Root",
        "CN=DigiCert Global Root G2, O=DigiCert Inc",
    ]  # the endpoint's own first, each once
    assert endpoint.expected_issuers[0].fingerprint == "ab" * 32
