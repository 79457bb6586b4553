#!/usr/bin/env bash
# Create the venv holding the `bspl` reference tool (PyPI bspl==1.1.0, Python >= 3.12).
# Usage: scripts/oracle-venv.sh DIR.
# Locally it only warns when it cannot build the oracle (the differential tests then
# skip and say why); in CI (CI set and not "false"/"0") it fails, as those tests would.
set -u
dir=${1:-.oracle-venv}
if [ -x "$dir/bin/bspl" ]; then exit 0; fi

give_up() {
  case "${CI:-}" in
    ""|0|false|False|FALSE)
      echo "oracle: $1; differential tests will be skipped"; exit 0 ;;
    *)
      echo "oracle: $1 (CI is set: the oracle is required)" >&2; exit 1 ;;
  esac
}

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
    if "$py" -m venv "$dir" && "$dir/bin/pip" install --quiet bspl==1.1.0 && [ -x "$dir/bin/bspl" ]; then
      exit 0
    fi
    rm -rf "$dir"
    give_up "could not install bspl==1.1.0 with $py"
  fi
done
give_up "no Python >= 3.12 found"
