"""``python -m app`` runs the command line, like ``tls-readiness``."""

from app.cli.main import main

raise SystemExit(main())
