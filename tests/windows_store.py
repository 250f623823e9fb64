"""Putting a test certificate into Windows' real certificate store, and taking it out again (Windows, and Wine in
the Windows lane): ``PFXImportCertStore`` then ``CertAddCertificateContextToStore`` into ``CurrentUser\\MY``, as
importing a .pfx in Windows does."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager

if sys.platform == "win32":  # pragma: no cover - Windows only
    import ctypes
    from ctypes import wintypes as w

    from app.core.computer.cert_store_windows import PCertContext, crypt32

    class _Blob(ctypes.Structure):
        _fields_ = [("size", w.DWORD), ("data", ctypes.POINTER(ctypes.c_ubyte))]

    _P = PCertContext
    _CRYPT_EXPORTABLE, _CRYPT_USER_KEYSET = 0x1, 0x1000
    _ADD_REPLACE_EXISTING = 3

    def _lib() -> ctypes.WinDLL:
        """The program's own crypt32 declarations, and the calls that write into a store (tests only)."""
        lib = crypt32()
        lib.PFXImportCertStore.restype = ctypes.c_void_p
        lib.PFXImportCertStore.argtypes = [ctypes.POINTER(_Blob), w.LPCWSTR, w.DWORD]
        lib.CertAddCertificateContextToStore.argtypes = [ctypes.c_void_p, _P, w.DWORD, ctypes.c_void_p]
        lib.CertDuplicateCertificateContext.restype = _P
        lib.CertDuplicateCertificateContext.argtypes = [_P]
        lib.CertDeleteCertificateFromStore.argtypes = [_P]
        return lib

    def _open_my(lib: ctypes.WinDLL) -> int:
        # CERT_STORE_PROV_SYSTEM_REGISTRY_W: the store itself, not the collection the system provider gives,
        # from which Wine deletes without writing the deletion down.
        store = lib.CertOpenStore(13, 0, None, 1 << 16, ctypes.c_wchar_p("MY"))  # CurrentUser\MY
        assert store, f"CurrentUser\\MY does not open ({ctypes.get_last_error():#x})"
        return int(store)

    def _certificates(lib: ctypes.WinDLL, store: int) -> Iterator[tuple[bytes, _P]]:
        ctx = lib.CertEnumCertificatesInStore(store, None)
        while ctx:
            yield bytes(ctx.contents.encoded[: ctx.contents.size]), ctx
            ctx = lib.CertEnumCertificatesInStore(store, ctx)

    @contextmanager
    def imported(pfx: bytes, password: str, exportable: bool = True) -> Iterator[None]:
        """The .pfx's certificates in CurrentUser\\MY (its key in the user's key set) for the ``with`` block."""
        lib = _lib()
        buffer = (ctypes.c_ubyte * len(pfx)).from_buffer_copy(pfx)
        blob = _Blob(len(pfx), buffer)
        flags = _CRYPT_USER_KEYSET | (_CRYPT_EXPORTABLE if exportable else 0)
        temporary = lib.PFXImportCertStore(ctypes.byref(blob), password, flags)
        assert temporary, f"PFXImportCertStore failed ({ctypes.get_last_error():#x})"
        added: list[bytes] = []
        my = _open_my(lib)
        try:
            for der, ctx in _certificates(lib, temporary):
                assert lib.CertAddCertificateContextToStore(my, ctx, _ADD_REPLACE_EXISTING, None)
                added.append(der)
        finally:
            lib.CertCloseStore(my, 0)  # Wine writes the store to its registry when it is closed
            lib.CertCloseStore(temporary, 0)
        try:
            yield
        finally:
            my = _open_my(lib)
            try:
                # A context stays valid past the enumeration's next step only when duplicated.
                doomed = [
                    lib.CertDuplicateCertificateContext(ctx) for der, ctx in _certificates(lib, my) if der in added
                ]
                for ctx in doomed:
                    lib.CertDeleteCertificateFromStore(ctx)  # frees the duplicate too
            finally:
                lib.CertCloseStore(my, 0)

else:

    def imported(pfx: bytes, password: str, exportable: bool = True) -> AbstractContextManager[None]:
        """Windows only: there is no Windows store here."""
        raise NotImplementedError("Windows' certificate store exists only on Windows")
