"""The frozen ``tls-readiness`` console program (packaging.spec).

It goes without PyInstaller's PySide6 runtime hook, which imports Qt at every start; for the one command that
shows a window (``--self-test``), Qt's plugin folder is named here as that hook names it, without importing Qt.
"""

import os
import sys

if getattr(sys, "frozen", False):
    qt = os.path.join(sys._MEIPASS, "PySide6", *([] if sys.platform == "win32" else ["Qt"]))
    os.environ["QT_PLUGIN_PATH"] = os.path.join(qt, "plugins")

from app.cli.launch import main

raise SystemExit(main())
