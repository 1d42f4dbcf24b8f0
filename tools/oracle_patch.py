"""Patch a copy of the kernel oracle (see oracle-copy.sh): replace the first occurrence of a text
in one of its files, or stop with an error naming the file when the text is not there (the
oracle changed, and the hook would land nowhere)."""
import functools
import sys


def patch(path, old, new, tool='oracle tool'):
    with open(path) as f:
        s = f.read()
    if old not in s:
        sys.exit(tool + ": the oracle's " + path + " changed; cannot place the hooks")
    with open(path, 'w') as f:
        f.write(s.replace(old, new, 1))


def patcher(tool):
    """patch(), its errors naming tool."""
    return functools.partial(patch, tool=tool)
