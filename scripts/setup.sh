#!/usr/bin/env bash
# Set up everything gradebox needs on a fresh Debian machine: system packages (as root),
# a virtual environment with the project installed. Idempotent: re-running is fast.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=${VENV:-.venv}
PYTHON=${PYTHON:-python3}
# bubblewrap: the sandbox; docker.io: the Docker sandbox; chromium: the browser tests
DEBIAN_PACKAGES=(bubblewrap docker.io chromium)
WANT_TEST=${WANT_TEST:-0}

missing=()
for pkg in "${DEBIAN_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        echo "setup: installing Debian packages: ${missing[*]}"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    else
        echo "setup: missing Debian packages: ${missing[*]}" >&2
        echo "setup: install them as root:  sudo apt-get install ${missing[*]}" >&2
        echo "setup: (bubblewrap is required for the sandbox; docker.io and chromium for some tests)" >&2
    fi
fi

if [ ! -x "$VENV/bin/python" ]; then
    echo "setup: creating $VENV"
    "$PYTHON" -m venv "$VENV"
    "$VENV/bin/pip" install -q --upgrade pip
fi
stamp="$VENV/.gradebox-installed"
if [ ! -f "$stamp" ] || [ pyproject.toml -nt "$stamp" ]; then
    echo "setup: installing gradebox and its dependencies into $VENV"
    # torch is pinned to the CPU wheel (2.13.0) in pyproject.toml
    # [runs]: the rest of the default ML set, which students' programs run on when the course
    # has no built environment (tqdm, opencv, scikit-image)
    "$VENV/bin/pip" install -q -e ".[test,runs]"
    touch "$stamp"
fi
# Bytecode for the project's own packages now, as pip does for installed ones: an editable
# install leaves it to the first import, and with PYTHONDONTWRITEBYTECODE (CI, containers) to
# every command (about 0.1 s of each `grader` start-up). Quick when nothing changed.
"$VENV/bin/python" -m compileall -q -j 0 -x "/demo/(submissions|starter|web)/" \
    grader similarity sandbox reference reports diagnostics >/dev/null
echo "setup: ready ($VENV/bin/grader)"
