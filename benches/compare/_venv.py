"""Runs a comparison script inside a virtualenv that has its requirements.

The virtualenv lives outside the checkout (``$BRISK_VENV``, default
``~/.cache/brisk/venv``) and is made, and the packages pip-installed, on first use.
"""

import os
import subprocess
import sys
import venv


def ensure(packages):
    """Re-executes the calling script inside the virtualenv unless already there."""
    home = os.environ.get("BRISK_VENV", os.path.expanduser("~/.cache/brisk/venv"))
    python = os.path.join(home, "bin", "python")
    if os.path.realpath(sys.prefix) == os.path.realpath(home):
        return
    if not os.path.exists(python):
        venv.EnvBuilder(with_pip=True).create(home)
    subprocess.run(
        [python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", *packages],
        check=True,
        stdout=sys.stderr,
    )
    os.execv(python, [python, *sys.argv])
