"""One module per check. Each returns a frozen result dataclass; failures are values, not exceptions.

- :mod:`.dns` finds every address of the server's name.
- :mod:`.tcp` opens a connection, trying the next address when one fails.
- :mod:`.handshake` makes TLS handshakes pinned to one version (verified, or as an isolated version probe).
- :mod:`.server_hello` reads a TLS 1.2 server's first flight in the clear (chain, certificate request).
- :mod:`.certificate` describes certificates and classifies verification failures.
- :mod:`.http` sends a minimal request after the handshake and reads the answer.
- :mod:`.client_cert` loads and checks the user's own certificate locally.
- :mod:`.system_trust` asks this computer's own trust store about the server's chain.
"""
