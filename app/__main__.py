"""``python -m app`` runs the command line, like ``tls-readiness``."""

from app.cli.launch import main

raise SystemExit(main())
