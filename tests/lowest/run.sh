#!/usr/bin/env bash
# The lowest-versions test: a fresh venv holding the lowest release of every direct dependency
# that pyproject.toml admits (uv --resolution lowest-direct), then the tests that need neither
# Docker nor the workflow runner. A floor that is too low fails here. See tests/lowest/README.md.
#
#   tests/lowest/run.sh                     # with python3 from PATH
#   PYTHON=python3.12 tests/lowest/run.sh   # another interpreter (>= 3.11)
#   tests/lowest/run.sh -x -k s3            # arguments go on to pytest
#
# Needs python3 >= 3.11 with pip; root or not. uv is installed with that pip into a cache
# folder (or give UV=/path/to/uv). uv does not read pip's configuration, so the index that pip
# is configured with (PIP_INDEX_URL or index-url in a pip.conf, as `pip config list` shows) is
# handed to uv as UV_INDEX_URL, and pip's CA bundle (cert) as SSL_CERT_FILE; with none
# configured uv uses its defaults. pip's extra-index-url and find-links are not passed on.
# KEEP_VENV=1 keeps the venv (its path is printed).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
UV_SPEC=${UV_SPEC:-uv==0.13.9}
MARKERS='not docker and not e2e and not workflows and not slow and not network'
started=$SECONDS

phase() { printf '\n==> %s\n' "$*"; }
die() { echo "error: $*" >&2; exit 2; }

PY=$(command -v "${PYTHON:-python3}") || die "${PYTHON:-python3} is not on PATH (set PYTHON=)"
"$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
  || die "$PY is older than Python 3.11 (set PYTHON= to a newer one)"

pip_setting() {  # pip's effective value of an option (index-url, cert), or nothing
  # `pip config get` reads only the user's file, so read the merged `pip config list`
  # (every file plus PIP_* variables) and rank as pip does: PIP_*, then [install], [global].
  "$PY" -m pip config list 2>/dev/null | "$PY" -c '
import ast, sys
found = {}
for line in sys.stdin:
    key, sep, value = line.strip().partition("=")
    section, _, name = key.rpartition(".")
    if sep and name == sys.argv[1] and section in (":env:", "install", "global"):
        found[section] = ast.literal_eval(value)
for section in (":env:", "install", "global"):
    if found.get(section):
        print(found[section])
        break
' "$1" || true
}

# -- the index and CA bundle pip uses, for uv ------------------------------------------------
if [ -z "${UV_INDEX_URL:-}${UV_DEFAULT_INDEX:-}" ]; then
  index=$(pip_setting index-url)
  if [ -n "$index" ]; then export UV_INDEX_URL=$index; fi
fi
if [ -z "${SSL_CERT_FILE:-}" ]; then
  cert=$(pip_setting cert)
  if [ -n "$cert" ] && [ -f "$cert" ]; then export SSL_CERT_FILE=$cert; fi
fi
export UV_PYTHON_DOWNLOADS=never  # the interpreter under test is $PY, never a downloaded one

# -- uv ----------------------------------------------------------------------------------------
if [ -z "${UV:-}" ]; then
  cache=${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/release-bot/${UV_SPEC//[^A-Za-z0-9.]/-}
  UV=$cache/bin/uv
  if [ ! -x "$UV" ]; then
    phase "install $UV_SPEC into $cache"
    rm -rf "$cache.tmp"
    # --target: no venv module, no root, no user site, and allowed on an externally managed
    # (PEP 668) system Python
    "$PY" -m pip install --quiet --disable-pip-version-check --no-warn-script-location \
      --target "$cache.tmp" "$UV_SPEC"
    rm -rf "$cache" && mv "$cache.tmp" "$cache"
  fi
fi
[ -x "$UV" ] || die "no uv at $UV"
echo "$("$UV" --version); index: $([ -n "${UV_INDEX_URL:-}${UV_DEFAULT_INDEX:-}" ] && echo "pip's (or UV_*)" || echo "uv's default")${SSL_CERT_FILE:+; CA bundle: $SSL_CERT_FILE}"

# -- a fresh venv with the lowest direct dependencies -----------------------------------------
work=$(mktemp -d "${TMPDIR:-/tmp}/release-bot-lowest.XXXXXX")
cleanup() {
  if [ "${KEEP_VENV:-}" = 1 ]; then echo "venv kept: $work/venv"; else rm -rf "$work"; fi
}
trap cleanup EXIT
VENV=$work/venv

phase "venv ($("$PY" -c 'import platform; print(platform.python_version())')) with the lowest versions pyproject.toml admits"
"$UV" venv --quiet --python "$PY" "$VENV"
"$UV" pip install --python "$VENV/bin/python" --resolution lowest-direct -e "$ROOT[test]"

phase "resolved runtime dependencies"
"$VENV/bin/python" - "$ROOT/pyproject.toml" <<'PY'
import re
import sys
import tomllib
from importlib.metadata import PackageNotFoundError, version

from packaging.version import Version  # pytest's dependency

specs = tomllib.load(open(sys.argv[1], "rb"))["project"]["dependencies"]
rows = [(re.match(r"[A-Za-z0-9._-]+", s).group(0), s) for s in specs]
rows.append(("botocore", "(through boto3)"))
for name, spec in rows:
    try:
        got = version(name)
    except PackageNotFoundError:
        got = "MISSING"
    floor = re.search(r">=\s*([^,;\s]+)", spec)
    note = ""
    if floor is not None and got != "MISSING" and Version(got) != Version(floor.group(1)):
        note = "  (above the floor: another requirement asks for more)"
    print(f"  {name:<12} {got:<14} {spec}{note}")
PY

# -- the tests that need no Docker ------------------------------------------------------------
phase "pytest -m '$MARKERS'"
# Docker is made unreachable on purpose: a test that needs it without the docker marker fails
# here instead of passing on a machine that happens to run an engine.
export DOCKER_HOST="unix://$work/no-docker.sock"
cd "$ROOT"
rc=0
"$VENV/bin/python" -m pytest -m "$MARKERS" -p no:cacheprovider "$@" || rc=$?

echo "lowest-versions run: pytest exit $rc, $((SECONDS - started))s wall"
exit "$rc"
