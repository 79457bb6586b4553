#!/usr/bin/env bash
# Create the venv holding the `bspl` reference tool (PyPI bspl==1.1.0, Python >= 3.12).
# Usage: scripts/oracle-venv.sh DIR. Prints what it did; never fails the build:
# when no suitable Python exists the oracle tests skip and say why.
set -u
dir=${1:-.oracle-venv}
if [ -x "$dir/bin/bspl" ]; then exit 0; fi
candidates=()
if command -v pyenv >/dev/null 2>&1; then
  root=$(pyenv root)
  for v in $(ls "$root/versions" 2>/dev/null | sort -rV); do
    candidates+=("$root/versions/$v/bin/python3")
  done
fi
candidates+=(python3.13 python3.12 python3)
for py in "${candidates[@]}"; do
  if "$py" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 12) else 1)' 2>/dev/null; then
    echo "oracle: creating $dir with $py"
    "$py" -m venv "$dir" && "$dir/bin/pip" install --quiet bspl==1.1.0 && exit 0
    echo "oracle: could not install bspl==1.1.0; differential tests will be skipped"
    rm -rf "$dir"; exit 0
  fi
done
echo "oracle: no Python >= 3.12 found; differential tests will be skipped"
exit 0
