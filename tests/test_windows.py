"""Windows' TLS settings and the ADS client, interpreted from registry snapshots (any system)."""

from pathlib import Path

import pytest

from app.core.computer.ads import ads_findings, find_installed
from app.core.computer.checks import ComputerSettings, computer_findings
from app.core.computer.registry import SnapshotRegistry
from app.core.computer.windows_tls import BY_POLICY, BY_SETTINGS, windows_findings, windows_version
from app.core.findings import Code

SNAPSHOTS = Path(__file__).parent / "registry"


def snapshot(name: str) -> SnapshotRegistry:
    return SnapshotRegistry.load(SNAPSHOTS / name)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("windows10-default.json", {Code.WINDOWS_TLS_OK}),
        (
            "windows7-default.json",
            {
                Code.WINDOWS_TLS12_DISABLED,
                Code.WINHTTP_TLS12_OFF,
                Code.INTERNET_OPTIONS_TLS12_OFF,
                Code.DOTNET_TLS12_NOT_DEFAULT,
            },
        ),
        ("windows7-fixed.json", {Code.WINDOWS_TLS_OK}),
        (
            "server2016-hardened-wrong.json",
            {Code.WINDOWS_TLS12_DISABLED, Code.WINHTTP_TLS12_OFF, Code.INTERNET_OPTIONS_TLS12_OFF},
        ),
        ("windows-vista.json", {Code.WINDOWS_TOO_OLD}),
    ],
)
def test_windows_settings_are_interpreted(name, expected):
    found = windows_findings(snapshot(name))
    assert {f.code for f in found} == expected
    for f in found:
        assert f.details  # the values behind each verdict, for IT


def test_windows_7_is_told_about_kb3140245():
    winhttp = next(f for f in windows_findings(snapshot("windows7-default.json")) if f.code is Code.WINHTTP_TLS12_OFF)
    assert "KB3140245" in winhttp.details


def test_a_group_policy_value_wins_and_is_named():
    off = next(
        f
        for f in windows_findings(snapshot("server2016-hardened-wrong.json"))
        if f.code is Code.INTERNET_OPTIONS_TLS12_OFF
    )
    assert off.params["set_by"] == BY_POLICY and "Policies" in off.details
    own = next(
        f for f in windows_findings(snapshot("windows7-default.json")) if f.code is Code.INTERNET_OPTIONS_TLS12_OFF
    )
    assert own.params["set_by"] == BY_SETTINGS


def test_versions_and_non_windows():
    seven, ten = windows_version(snapshot("windows7-default.json")), windows_version(snapshot("windows10-default.json"))
    assert seven is not None and seven.before_windows_8 and (seven.major, seven.minor, seven.build) == (6, 1, 7601)
    assert ten is not None and not ten.before_windows_8 and ten.build == 19045
    assert windows_findings(None) == []
    assert windows_findings(SnapshotRegistry({})) == []


def test_ads_client_from_the_installed_programs_and_typed():
    old = find_installed(snapshot("windows7-default.json"))
    assert [(c.name, c.version) for c in old] == [("ADS Client", "5.1.9.3")]
    assert {f.code for f in ads_findings("", snapshot("windows7-default.json"))} == {Code.ADS_CLIENT_OUTDATED}
    assert {f.code for f in ads_findings("", snapshot("windows10-default.json"))} == {Code.ADS_CLIENT_OK}
    assert {f.code for f in ads_findings("", snapshot("windows7-fixed.json"))} == {Code.ADS_CLIENT_NOT_FOUND}
    assert {f.code for f in ads_findings("6.1.0.0", snapshot("windows7-default.json"))} == {Code.ADS_CLIENT_OK}
    outdated = ads_findings("6.0.10.2")[0]
    assert outdated.code is Code.ADS_CLIENT_OUTDATED and outdated.params["install_page"].endswith("/ads_install")
    assert {f.code for f in ads_findings()} == {Code.ADS_CLIENT_NOT_FOUND}


def test_the_whole_computer_section_from_a_snapshot():
    codes = {f.code for f in computer_findings(ComputerSettings(registry=snapshot("windows7-default.json")))}
    assert {Code.ADS_CLIENT_OUTDATED, Code.WINDOWS_TLS12_DISABLED} <= codes
