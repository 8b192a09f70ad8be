"""``python exercises/grading --supervise``: the supervisor of one submission (its job arrives
on stdin; see ``supervisor.py``)."""

import sys
from pathlib import Path

if __name__ == "__main__":
    # Run as a folder, this folder is sys.path[0]; the package's parent must be there instead.
    sys.path[0] = str(Path(__file__).resolve().parents[1])
    if sys.argv[1:] != ["--supervise"]:
        print(__doc__)
        sys.exit(2)
    from grading.supervisor import main

    sys.exit(main())
