"""TLS Readiness Checker: can this computer reach the California ISO's market systems over TLS 1.2?"""

__version__ = "0.1.0"
APP_NAME = "TLS Readiness Checker"  # the name of its folders (logs, cache) and windows
