"""This computer's readiness, beside the servers': the ADS client, Windows' TLS settings, Java runtimes, the
operating system's own TLS stack and proxies. One module per subject; each returns findings."""
