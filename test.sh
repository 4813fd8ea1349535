#!/usr/bin/env bash
# MannLab's test command (the README's, and CI's through .ci/run): installs what the tests need
# when it is missing, builds everything with warnings as errors, runs every test project, and
# ends with the plain line "N passed, N failed". Exits non-zero on any failure.
# `./test.sh --fast` leaves out the tests that train until a model has learned and those that read
# the whole Omniglot set (TestKind in tests/MannLab.Testing), for development; CI runs everything.
set -uo pipefail
filter=()
case "${1:-}" in
  "") ;;
  --fast) filter=(--filter "Kind!=learning&Kind!=full-omniglot") ;;
  *) echo "usage: ./test.sh [--fast]"; exit 2 ;;
esac
root="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$root"

# What the tests need from the system: PostgreSQL's server binaries (the tests start real
# clusters), chromium (the browser tests drive it with Playwright), ip and curl (the tests'
# "other machine" is a network namespace, and its client is curl), and strace (it shows that the
# short commands of the job system never open libtorch).
missing=()
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && ! command -v initdb >/dev/null 2>&1; then missing+=(postgresql); fi
if [[ -z "${MANNLAB_CHROMIUM:-}" ]] && [[ ! -x /usr/bin/chromium ]]; then missing+=(chromium); fi
if ! command -v ip >/dev/null 2>&1; then missing+=(iproute2); fi
if ! command -v curl >/dev/null 2>&1; then missing+=(curl); fi
if ! command -v strace >/dev/null 2>&1; then missing+=(strace); fi
if (( ${#missing[@]} > 0 )); then
  if [[ $(id -u) -eq 0 ]]; then
    echo "installing ${missing[*]} (apt-get)..."
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null) \
      || { echo "could not install ${missing[*]}"; echo "0 passed, 1 failed"; exit 1; }
  else
    echo "missing: ${missing[*]}: install them (Debian: sudo apt-get install ${missing[*]}), or set MANNLAB_CHROMIUM to a chromium binary"
    echo "0 passed, 1 failed"
    exit 1
  fi
fi

results="$(mktemp -d)"
trap 'rm -rf "$results"' EXIT

if ! dotnet build MannLab.sln -c Release -nologo -v q "-clp:ErrorsOnly;NoSummary"; then
  echo "build failed"
  echo "0 passed, 1 failed"
  exit 1
fi

dotnet test MannLab.sln -c Release --no-build --nologo "${filter[@]}" \
  --logger "trx" --logger "console;verbosity=normal" --results-directory "$results"
status=$?

passed=0; failed=0; total=0
for trx in "$results"/*.trx; do
  [[ -f "$trx" ]] || continue
  counters="$(grep -o '<Counters [^>]*>' "$trx" | head -n 1)"
  get() { sed -n "s/.* $1=\"\([0-9]*\)\".*/\1/p" <<<"$counters"; }
  total=$((total + $(get total)))
  passed=$((passed + $(get passed)))
  failed=$((failed + $(get failed)))
done
# Tests that never reported (a crashed test host) count as failed.
if (( status != 0 && failed == 0 )); then failed=$(( total > passed ? total - passed : 1 )); fi
echo "$passed passed, $failed failed"
(( status == 0 && failed == 0 && passed > 0 ))
