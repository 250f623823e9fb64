"""``python -m app.gui`` opens the window, like ``tls-readiness-gui``."""

from app.gui import main

raise SystemExit(main())
