# lib.sh - sourced by the shell tests: a scratch directory and pass/fail counting.
set -eu
LC_ALL=C; export LC_ALL
TMP=$(mktemp -d "${TMPDIR:-/tmp}/ptdtest.XXXXXX")
trap 'rm -rf "$TMP"' EXIT INT TERM
npass=0; nfail=0
pass() { npass=$((npass + 1)); echo "PASS: $*"; }
fail() { nfail=$((nfail + 1)); echo "FAIL: $*"; }
# finish: the summary line the quickstart adds up, and the exit status.
finish() { echo "$npass passed, $nfail failed"; [ "$nfail" -eq 0 ]; }
