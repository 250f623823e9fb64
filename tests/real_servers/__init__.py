"""Real server software on 127.0.0.1 for the tests: nginx, Apache httpd (mod_ssl), ``openssl s_server`` and a
small server on Java's own TLS (JSSE), each set up the way such servers are set up in practice.

The practice lab's servers are Python's own ``ssl``: the same library, the same assumptions as the checker. These
are not. Each stack is started once per test module with every site it can serve (one port each), in a
temporary folder of its own, with certificates made on the fly; it is stopped by process id at the end and
never left running. ``scripts/setup --test`` installs them from Debian without starting their system services.

- :mod:`tests.real_servers.sites` says what each site does (stack-neutral) and makes the certificates;
- :mod:`tests.real_servers.stacks` turns sites into nginx, Apache, s_server and JSSE configurations and runs
  them.
"""
