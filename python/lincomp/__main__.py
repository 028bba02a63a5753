"""python3 -m lincomp --version: the package's and the library's versions and
where the library was found; python3 -m lincomp COMMAND ...: the lincomp
command itself, run in this process."""
import ctypes
import sys

import lincomp
from lincomp import _lib


def main(argv):
    if argv in (["--version"], ["version"]):
        print("lincomp %s (python), liblincomp %s at %s" %
              (lincomp.__version__, lincomp.library_version(), lincomp.library_path))
        return 0
    args = [b"lincomp"] + [a.encode() for a in argv]
    c_argv = (ctypes.c_char_p * (len(args) + 1))(*args, None)
    sys.stdout.flush()
    return _lib.lib.lc_cli_run(len(args), c_argv, 0, None, None)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
