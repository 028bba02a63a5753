"""python3 -m lincomp --version: the package's and the library's versions and
where the library was found; python3 -m lincomp COMMAND ...: the lincomp
program (found through $LINCOMP, beside the library's prefix or build tree,
else on PATH) with these arguments."""
import os
import shutil
import sys

import lincomp


def program():
    """The lincomp program that goes with the loaded library, or None."""
    env = os.environ.get("LINCOMP")
    if env:
        return env
    libdir = os.path.dirname(os.path.abspath(lincomp.library_path))
    for cand in (os.path.join(libdir, "..", "bin", "lincomp"),  # PREFIX/lib -> PREFIX/bin
                 os.path.join(libdir, "lincomp")):              # the build tree
        if os.access(cand, os.X_OK) and os.path.isfile(cand):
            return os.path.normpath(cand)
    return shutil.which("lincomp")


def main(argv):
    if argv in (["--version"], ["version"]):
        print("lincomp %s (python), liblincomp %s at %s" %
              (lincomp.__version__, lincomp.library_version(), lincomp.library_path))
        return 0
    prog = program()
    if not prog:
        print("lincomp: the lincomp program was not found (set LINCOMP to its path)",
              file=sys.stderr)
        return 2
    sys.stdout.flush()
    os.execv(prog, [prog] + argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
