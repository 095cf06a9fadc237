"""`python bench/run.py [--quick] [--only NAME] [--db sqlite|postgres|both]`: same as `-m bench`."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.__main__ import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
