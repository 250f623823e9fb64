"""The frozen ``tls-readiness`` console program (packaging.spec)."""

from app.cli.main import main

raise SystemExit(main())
