"""The frozen ``tls-readiness`` console program (packaging.spec)."""

from app.cli.launch import main

raise SystemExit(main())
