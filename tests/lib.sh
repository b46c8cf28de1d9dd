# lib.sh - sourced by the shell tests: a scratch directory and pass/fail counting.
set -eu
LC_ALL=C; export LC_ALL
TMP=$(mktemp -d "${TMPDIR:-/tmp}/ptdtest.XXXXXX")
trap 'rm -rf "$TMP"' EXIT INT TERM
npass=0; nfail=0
pass() { npass=$((npass + 1)); echo "PASS: $*"; }
fail() { nfail=$((nfail + 1)); echo "FAIL: $*"; }
# expect STATUS NAME CMD...: run CMD (stdout to out.txt, stderr to err.txt), check its exit
# status and, for a failure, a one-line message on stderr
expect() {
  want=$1; name=$2; shift 2
  set +e; "$@" >out.txt 2>err.txt; got=$?; set -e
  lines=$(wc -l < err.txt)
  if [ "$got" -ne "$want" ]; then fail "$name: exit $got, want $want ($(head -c 300 err.txt))"; return; fi
  if [ "$want" -ne 0 ] && [ "$lines" -ne 1 ]; then fail "$name: $lines lines on stderr, want 1"; return; fi
  pass "$name"
}
# no_leftovers NAME: the scratch directory holds only out.txt, err.txt and keep* files
no_leftovers() {
  extra=$(ls -A | grep -v -e '^out.txt$' -e '^err.txt$' -e '^keep' || true)
  if [ -n "$extra" ]; then fail "$1: left behind: $extra"; rm -rf $extra; else pass "$1: nothing left behind"; fi
}
# usage_error NAME VALUE CMD...: a usage error found while parsing: exit 2, one line on
# stderr, and the line quotes the option's whole VALUE
usage_error() {
  ue_name=$1; ue_value=$2; shift 2
  set +e; "$@" >out.txt 2>err.txt; ue_got=$?; set -e
  if [ "$ue_got" -ne 2 ]; then fail "$ue_name: exit $ue_got, want 2 ($(head -c 300 err.txt))"
  elif [ "$(wc -l < err.txt)" -ne 1 ]; then fail "$ue_name: $(wc -l < err.txt) lines on stderr, want 1"
  elif ! grep -qF "'$ue_value'" err.txt; then fail "$ue_name: the message does not quote '$ue_value': $(cat err.txt)"
  else pass "$ue_name"; fi
}
# finish: the summary line the quickstart adds up, and the exit status.
finish() { echo "$npass passed, $nfail failed"; [ "$nfail" -eq 0 ]; }
