# SPDX-License-Identifier: GPL-3.0-or-later
"""``python3 -m agentdeck run --id NAME -- command args...``"""

import sys

from ._run import main

if __name__ == "__main__":
    sys.exit(main())
