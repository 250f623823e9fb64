"""The live certificate store: ``crypt32`` through ``ctypes`` (Windows only; Wine's ``crypt32`` has real stores).

Read-only: the stores are opened with ``CERT_STORE_READONLY_FLAG``, certificates are copied out as DER, and a
private key is only *asked about* (silently: never a prompt, never a smart card PIN), never taken out.
"""

from __future__ import annotations

import hashlib
import sys

from app.core.computer.cert_store import LOCATIONS, KeyState, StoreCertificate

if sys.platform == "win32":  # pragma: no cover - Windows only (and the Windows lane under Wine)
    import ctypes
    from ctypes import wintypes as w

    _CERT_STORE_PROV_SYSTEM_W = 10
    _FLAGS = {"CurrentUser": 1 << 16, "LocalMachine": 2 << 16}  # CERT_SYSTEM_STORE_*
    _READONLY_EXISTING = 0x8000 | 0x4000  # CERT_STORE_READONLY_FLAG | CERT_STORE_OPEN_EXISTING_FLAG
    _KEY_PROV_INFO = 2  # CERT_KEY_PROV_INFO_PROP_ID: the certificate has a private key somewhere
    _FRIENDLY_NAME = 11  # CERT_FRIENDLY_NAME_PROP_ID
    _ACQUIRE = 0x40 | 0x10000  # CRYPT_ACQUIRE_SILENT_FLAG | CRYPT_ACQUIRE_ALLOW_NCRYPT_KEY_FLAG
    _NCRYPT_KEY_SPEC = 0xFFFFFFFF
    _KP_PERMISSIONS, _CRYPT_EXPORT = 6, 0x4
    _NCRYPT_ALLOW_EXPORT = 0x1 | 0x2  # NCRYPT_ALLOW_EXPORT_FLAG | NCRYPT_ALLOW_PLAINTEXT_EXPORT_FLAG

    class CertContext(ctypes.Structure):
        """CERT_CONTEXT (also declared for the tests that put a certificate into the store)."""

        _fields_ = [
            ("encoding", w.DWORD),
            ("encoded", ctypes.POINTER(ctypes.c_ubyte)),
            ("size", w.DWORD),
            ("info", ctypes.c_void_p),
            ("store", ctypes.c_void_p),
        ]

    PCertContext = ctypes.POINTER(CertContext)

    class _TrustStatus(ctypes.Structure):
        _fields_ = [("error", w.DWORD), ("info", w.DWORD)]

    class _ChainElement(ctypes.Structure):
        _fields_ = [("size", w.DWORD), ("cert", PCertContext)]  # the rest is not read

    class _SimpleChain(ctypes.Structure):
        _fields_ = [
            ("size", w.DWORD),
            ("status", _TrustStatus),
            ("count", w.DWORD),
            ("elements", ctypes.POINTER(ctypes.POINTER(_ChainElement))),
        ]

    class _ChainContext(ctypes.Structure):
        _fields_ = [
            ("size", w.DWORD),
            ("status", _TrustStatus),
            ("count", w.DWORD),
            ("chains", ctypes.POINTER(ctypes.POINTER(_SimpleChain))),
        ]

    class _Usage(ctypes.Structure):
        _fields_ = [("count", w.DWORD), ("oids", ctypes.c_void_p)]

    class _UsageMatch(ctypes.Structure):
        _fields_ = [("kind", w.DWORD), ("usage", _Usage)]

    class _ChainPara(ctypes.Structure):
        _fields_ = [("size", w.DWORD), ("usage", _UsageMatch)]

    def crypt32() -> ctypes.WinDLL:
        """crypt32 with the functions this module calls declared."""
        lib = ctypes.WinDLL("crypt32", use_last_error=True)
        lib.CertOpenStore.restype = ctypes.c_void_p
        lib.CertOpenStore.argtypes = [ctypes.c_void_p, w.DWORD, ctypes.c_void_p, w.DWORD, ctypes.c_void_p]
        lib.CertEnumCertificatesInStore.restype = PCertContext
        lib.CertEnumCertificatesInStore.argtypes = [ctypes.c_void_p, PCertContext]
        lib.CertCloseStore.argtypes = [ctypes.c_void_p, w.DWORD]
        lib.CertFreeCertificateContext.argtypes = [PCertContext]
        lib.CertGetCertificateChain.argtypes = [
            ctypes.c_void_p,
            PCertContext,
            ctypes.c_void_p,
            ctypes.c_void_p,
            ctypes.POINTER(_ChainPara),
            w.DWORD,
            ctypes.c_void_p,
            ctypes.POINTER(ctypes.POINTER(_ChainContext)),
        ]
        lib.CertFreeCertificateChain.argtypes = [ctypes.POINTER(_ChainContext)]
        lib.CertGetCertificateContextProperty.argtypes = [
            PCertContext,
            w.DWORD,
            ctypes.c_void_p,
            ctypes.POINTER(w.DWORD),
        ]
        lib.CryptAcquireCertificatePrivateKey.argtypes = [
            PCertContext,
            w.DWORD,
            ctypes.c_void_p,
            ctypes.POINTER(ctypes.c_size_t),
            ctypes.POINTER(w.DWORD),
            ctypes.POINTER(w.BOOL),
        ]
        return lib

    class LiveCertStore:
        """CurrentUser\\MY and LocalMachine\\MY of this computer."""

        def certificates(self) -> list[StoreCertificate]:
            """Every certificate the two Personal stores hold (a store that does not open gives none)."""
            return self._read(None)

        def certificate(self, thumbprint: str) -> StoreCertificate | None:
            """The one with this thumbprint (upper-case hex): the others' keys and chains are not asked about."""
            found = self._read(thumbprint)
            return found[0] if found else None

        def _read(self, only: str | None) -> list[StoreCertificate]:
            lib = crypt32()
            found: list[StoreCertificate] = []
            for location in LOCATIONS:
                store = lib.CertOpenStore(
                    _CERT_STORE_PROV_SYSTEM_W, 0, None, _FLAGS[location] | _READONLY_EXISTING, ctypes.c_wchar_p("MY")
                )
                if not store:
                    continue
                try:
                    ctx = lib.CertEnumCertificatesInStore(store, None)
                    while ctx:
                        try:
                            der = bytes(ctx.contents.encoded[: ctx.contents.size])
                            if only is None or hashlib.sha1(der).hexdigest().upper() == only:  # noqa: S324
                                found.append(
                                    StoreCertificate(
                                        location,
                                        der,
                                        _key_state(lib, ctx),
                                        _friendly_name(lib, ctx),
                                        _chain(lib, ctx, store),
                                    )
                                )
                        except BaseException:
                            lib.CertFreeCertificateContext(ctx)  # the enumeration would have freed it
                            raise
                        ctx = lib.CertEnumCertificatesInStore(store, ctx)  # frees the previous context
                finally:
                    lib.CertCloseStore(store, 0)
            return found

    def _chain(lib: ctypes.WinDLL, ctx: PCertContext, store: int) -> tuple[bytes, ...]:
        """The authorities above the certificate, as Windows' chain engine finds them (no network: cache only),
        looking in its own Personal store too (where a .pfx import puts the authorities it carries)."""
        para = _ChainPara(ctypes.sizeof(_ChainPara), _UsageMatch(0, _Usage(0, None)))
        found = ctypes.POINTER(_ChainContext)()
        cache_only = 0x80000000  # CERT_CHAIN_CACHE_ONLY_URL_RETRIEVAL: never a download while listing
        if not lib.CertGetCertificateChain(
            None, ctx, None, store, ctypes.byref(para), cache_only, None, ctypes.byref(found)
        ):
            return ()
        try:
            if not found or found.contents.count < 1:
                return ()
            simple = found.contents.chains[0].contents
            ders = []
            for i in range(1, simple.count):  # element 0 is the certificate itself
                cert = simple.elements[i].contents.cert.contents
                ders.append(bytes(cert.encoded[: cert.size]))
            return tuple(ders)
        finally:
            lib.CertFreeCertificateChain(found)

    def _friendly_name(lib: ctypes.WinDLL, ctx: PCertContext) -> str:
        size = w.DWORD(0)
        if not lib.CertGetCertificateContextProperty(ctx, _FRIENDLY_NAME, None, ctypes.byref(size)) or not size.value:
            return ""
        buffer = ctypes.create_string_buffer(size.value)
        if not lib.CertGetCertificateContextProperty(ctx, _FRIENDLY_NAME, buffer, ctypes.byref(size)):
            return ""
        return buffer.raw[: size.value].decode("utf-16-le", errors="replace").rstrip("\x00")

    def _key_state(lib: ctypes.WinDLL, ctx: PCertContext) -> KeyState:
        size = w.DWORD(0)
        if not lib.CertGetCertificateContextProperty(ctx, _KEY_PROV_INFO, None, ctypes.byref(size)):
            return KeyState.NONE
        handle, spec, must_free = ctypes.c_size_t(0), w.DWORD(0), w.BOOL(False)
        if not lib.CryptAcquireCertificatePrivateKey(
            ctx, _ACQUIRE, None, ctypes.byref(handle), ctypes.byref(spec), ctypes.byref(must_free)
        ):
            return KeyState.PRESENT  # there, but not to be reached silently (a smart card, a locked key)
        try:
            if spec.value == _NCRYPT_KEY_SPEC:
                return _ncrypt_export(handle.value)
            return _capi_export(handle.value, spec.value)
        finally:
            if must_free:
                _free(handle.value, spec.value)

    def _ncrypt_export(handle: int) -> KeyState:
        ncrypt = ctypes.WinDLL("ncrypt")
        policy, size = w.DWORD(0), w.DWORD(0)
        status = ncrypt.NCryptGetProperty(
            ctypes.c_size_t(handle), "Export Policy", ctypes.byref(policy), 4, ctypes.byref(size), 0
        )
        if status != 0:
            return KeyState.PRESENT
        return KeyState.EXPORTABLE if policy.value & _NCRYPT_ALLOW_EXPORT else KeyState.NOT_EXPORTABLE

    def _capi_export(provider: int, spec: int) -> KeyState:
        advapi = ctypes.WinDLL("advapi32")
        key = ctypes.c_size_t(0)
        # The key's kind as the store says, then the two kinds there are (Wine's import records neither).
        for kind in dict.fromkeys((spec, 1, 2)):  # AT_KEYEXCHANGE, AT_SIGNATURE
            if advapi.CryptGetUserKey(ctypes.c_size_t(provider), w.DWORD(kind), ctypes.byref(key)):
                break
        else:
            return KeyState.PRESENT
        try:
            permissions, size = w.DWORD(0), w.DWORD(4)
            if not advapi.CryptGetKeyParam(key, _KP_PERMISSIONS, ctypes.byref(permissions), ctypes.byref(size), 0):
                return KeyState.PRESENT
            return KeyState.EXPORTABLE if permissions.value & _CRYPT_EXPORT else KeyState.NOT_EXPORTABLE
        finally:
            advapi.CryptDestroyKey(key)

    def _free(handle: int, spec: int) -> None:
        if spec == _NCRYPT_KEY_SPEC:
            ctypes.WinDLL("ncrypt").NCryptFreeObject(ctypes.c_size_t(handle))
        else:
            ctypes.WinDLL("advapi32").CryptReleaseContext(ctypes.c_size_t(handle), 0)
