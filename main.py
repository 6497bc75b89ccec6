"""`python main.py` opens CineStudio (same as `cinestudio gui`)."""

import sys

from cinestudio.cli import app

if __name__ == "__main__":
    # `python main.py [--workspace DIR] [--screenshot OUT.png]` is `cinestudio [--workspace DIR] gui ...`
    args = sys.argv[1:]
    global_args: list[str] = []
    while args[:1] and args[0] in ("--workspace", "-w"):
        global_args += args[:2]
        args = args[2:]
    app(global_args + ["gui"] + args, prog_name="main.py")
