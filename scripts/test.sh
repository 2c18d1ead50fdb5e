#!/usr/bin/env bash
# Install everything the test suite needs and run it: the package with its test extra (which
# brings ruff and mypy too), and Debian's headless Chromium for the browser tests (Playwright
# drives /usr/bin/chromium; its own browser download is not used). Lint (ruff), types (mypy),
# the docs site (mkdocs, warnings as errors) and then the tests (pytest): the first that fails
# stops the script with its exit code.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x /usr/bin/chromium ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
    else
        echo "note: /usr/bin/chromium is missing and cannot be installed here; browser tests will be skipped" >&2
    fi
fi
pip install -q ".[test,docs]"
echo "== ruff check src tests bench"
python -m ruff check src tests bench
echo "== mypy src"
python -m mypy src
echo "== mkdocs build --strict"
python -m mkdocs build --strict --site-dir "$(mktemp -d)"  # not --quiet: it hides the warnings
echo "== pytest"
HYPOTHESIS_PROFILE="${HYPOTHESIS_PROFILE:-ci}" python -m pytest -n 2 "$@"
