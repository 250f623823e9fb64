"""What the window remembers between runs (QSettings): the last environment and application, the window's
size and place, time limits, extra trusted certificate files and, if the person agrees, the path of their
certificate file. Never a password."""

from __future__ import annotations

from PySide6.QtCore import QByteArray, QSettings

ORGANIZATION = "TLS Readiness Checker"
APPLICATION = "TLS Readiness Checker"


class Preferences:
    """Typed access to the window's QSettings."""

    def __init__(self, settings: QSettings | None = None) -> None:
        self.qsettings = settings or QSettings(ORGANIZATION, APPLICATION)

    def _text(self, key: str, default: str = "") -> str:
        value = self.qsettings.value(key, default)
        return value if isinstance(value, str) else default

    @property
    def environment(self) -> str:
        """The last environment chosen."""
        return self._text("choice/environment")

    @environment.setter
    def environment(self, value: str) -> None:
        self.qsettings.setValue("choice/environment", value)

    @property
    def application(self) -> str:
        """The last application chosen ("" for all)."""
        return self._text("choice/application")

    @application.setter
    def application(self, value: str) -> None:
        self.qsettings.setValue("choice/application", value)

    @property
    def timeout(self) -> float | None:
        """Seconds per step chosen in Settings, or None (then each address's own limit, else 10 s)."""
        raw = self.qsettings.value("checks/timeout")
        if raw is None:
            return None
        try:
            value = float(raw)
        except (TypeError, ValueError):
            return None
        return value if 1 <= value <= 300 else None

    @timeout.setter
    def timeout(self, value: float | None) -> None:
        if value is None:
            self.qsettings.remove("checks/timeout")
        else:
            self.qsettings.setValue("checks/timeout", float(value))

    @property
    def ca_files(self) -> list[str]:
        """Extra trusted certificate files."""
        value = self.qsettings.value("checks/ca_files", [])
        if isinstance(value, str):
            return [value] if value else []
        return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []

    @ca_files.setter
    def ca_files(self, value: list[str]) -> None:
        self.qsettings.setValue("checks/ca_files", list(value))

    @property
    def remember_certificate(self) -> bool:
        """Whether the certificate file's path is remembered."""
        return self._text("certificate/remember", "false") == "true"

    @remember_certificate.setter
    def remember_certificate(self, value: bool) -> None:
        self.qsettings.setValue("certificate/remember", "true" if value else "false")
        if not value:
            self.qsettings.remove("certificate/path")
            self.qsettings.remove("certificate/alias")

    @property
    def certificate_path(self) -> str:
        """The remembered certificate file ("" when not remembered)."""
        return self._text("certificate/path") if self.remember_certificate else ""

    @certificate_path.setter
    def certificate_path(self, value: str) -> None:
        if self.remember_certificate:
            self.qsettings.setValue("certificate/path", value)

    @property
    def certificate_alias(self) -> str:
        """Which certificate of a remembered Java key store ("" for none)."""
        return self._text("certificate/alias") if self.remember_certificate else ""

    @certificate_alias.setter
    def certificate_alias(self, value: str) -> None:
        if self.remember_certificate:
            self.qsettings.setValue("certificate/alias", value)

    @property
    def proxy_address(self) -> str:
        """The proxy to go through (``http://host:port``, never with a password), or empty."""
        return self._text("proxy/address")

    @proxy_address.setter
    def proxy_address(self, value: str) -> None:
        self.qsettings.setValue("proxy/address", value)

    @property
    def proxy_user(self) -> str:
        """The proxy's user name, or empty (its password is never stored)."""
        return self._text("proxy/user")

    @proxy_user.setter
    def proxy_user(self, value: str) -> None:
        self.qsettings.setValue("proxy/user", value)

    @property
    def ads_version(self) -> str:
        """The ADS client version typed in."""
        return self._text("ads/version")

    @ads_version.setter
    def ads_version(self, value: str) -> None:
        self.qsettings.setValue("ads/version", value)

    @property
    def geometry(self) -> QByteArray | None:
        """The window's saved size and place."""
        value = self.qsettings.value("window/geometry")
        return value if isinstance(value, QByteArray) else None

    @geometry.setter
    def geometry(self, value: QByteArray) -> None:
        self.qsettings.setValue("window/geometry", value)

    def save(self) -> None:
        """Write to disk now (QSettings writes atomically)."""
        self.qsettings.sync()
