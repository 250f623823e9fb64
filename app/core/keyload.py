"""Giving a private key held in memory to Python's ``ssl``, which only reads files.

The key is written encrypted under a random one-time passphrase to a private temporary file (mode 0600),
loaded, and the file deleted at once: no readable key material ever touches the disk.
"""

from __future__ import annotations

import os
import secrets
import ssl
import tempfile

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.types import PrivateKeyTypes


def load_cert_and_key(context: ssl.SSLContext, certificates_pem: bytes, key: PrivateKeyTypes) -> None:
    """Make ``context`` use these certificates (leaf first) and this key."""
    passphrase = secrets.token_bytes(32)
    body = certificates_pem + key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(passphrase),
    )
    fd, name = tempfile.mkstemp(prefix="tlsrc-", suffix=".pem")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(body)
        context.load_cert_chain(name, password=lambda: passphrase)
    finally:
        os.unlink(name)
