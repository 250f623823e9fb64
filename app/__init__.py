"""TLS Readiness Checker: can this computer reach the California ISO's market systems over TLS 1.2?"""

__version__ = "0.1.0"
