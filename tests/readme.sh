#!/bin/sh
# readme.sh - the README is a test: every command it shows as "$ command" is run and every
# figure of the output it shows is compared with what the command prints (tests/readme_compare:
# one unit in the last digit shown, a range a..b where the README shows one, times and thread
# counts not compared).  ssm-train runs take half an hour each: they run only with
# PTD_README_LONG=1 (make check-readme-long).
. "$TOP_SRCDIR/tests/lib.sh"
README=${PTD_README:-$TOP_SRCDIR/README.md}
mkdir "$TMP/blocks"
awk -v dir="$TMP/blocks" '
  /^    \$ / { n++; c = substr($0, 7); print c > (dir "/cmd" n); cont = (c ~ /\\$/); mode = "cmd"; next }
  mode == "cmd" && cont && /^    / { c = $0; sub(/^ +/, "", c); print c > (dir "/cmd" n); cont = (c ~ /\\$/); next }
  mode != "" && /^    / { print substr($0, 5) > (dir "/exp" n); mode = "out"; next }
  { mode = ""; cont = 0 }
' "$README"
count=$(ls "$TMP/blocks" | grep -c '^cmd' || true)
[ "$count" -gt 0 ] && pass "the README shows $count commands" || fail "no \$ command in $README"
i=0
while [ "$i" -lt "$count" ]; do
  i=$((i + 1))
  cmd=$(cat "$TMP/blocks/cmd$i")
  name="README \$ $(echo "$cmd" | head -n 1 | cut -c1-60)"
  case "$cmd" in
    ssm-train*--samples*) ;; # draws data, trains nothing
    ssm-train*)
      if [ "${PTD_README_LONG:-0}" != 1 ]; then
        echo "SKIP: $name (a long training run: PTD_README_LONG=1, or make check-readme-long)"; continue
      fi ;;
  esac
  mkdir "$TMP/run$i"
  set +e
  (cd "$TMP/run$i" && timeout "${PTD_README_TIMEOUT:-3600}" sh -c "$cmd") > "$TMP/out$i" 2>&1
  rc=$?
  set -e
  if [ "$rc" -ne 0 ]; then fail "$name: exit $rc ($(tail -n 2 "$TMP/out$i" | tr '\n' ' '))"; continue; fi
  if [ ! -f "$TMP/blocks/exp$i" ]; then pass "$name: runs"; continue; fi
  set +e
  # progress lines (stderr is not a terminal here) are not part of what the README shows
  grep -v -E '^[a-z-]+: [^:]+: .* s elapsed(, about [0-9]+ s left)?$' "$TMP/out$i" > "$TMP/shown$i" || true
  res=$("$TOP_BUILDDIR/tests/readme_compare" "$TMP/blocks/exp$i" "$TMP/shown$i" "$name")
  set -e
  echo "$res"
  npass=$((npass + $(echo "$res" | grep -c '^PASS:' || true)))
  nfail=$((nfail + $(echo "$res" | grep -c '^FAIL:' || true)))
done
finish
