"""The frozen ``tls-readiness-gui`` windowed program (packaging.spec)."""

from app.gui import main

raise SystemExit(main())
