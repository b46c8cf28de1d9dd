#!/bin/sh
# fuzz.sh - replays every fuzzing corpus file (tests/fuzz/corpus/TARGET, and the Matrix Market
# test files) through its harness, built by the normal compiler: a crash, a sanitizer report
# (under --enable-asan/--enable-ubsan) or a broken contract (tests/fuzz/fuzz.h) fails the
# input.  One result per input.
. "$TOP_SRCDIR/tests/lib.sh"

for t in mm ptd idx ckpt mat; do
  dirs="$TOP_SRCDIR/tests/fuzz/corpus/$t"
  [ "$t" = mm ] && dirs="$dirs $TOP_SRCDIR/tests/data/mm"
  want=0
  for d in $dirs; do want=$((want + $(ls "$d" | wc -l))); done
  if [ "$want" -eq 0 ]; then fail "$t: empty corpus"; continue; fi
  set +e
  "$TOP_BUILDDIR/tests/fuzz/replay_$t" $dirs > "$TMP/out" 2> "$TMP/err"
  rc=$?
  set -e
  sed "s|$TOP_SRCDIR/||; s|^PASS: |PASS: $t |" "$TMP/out"
  got=$(grep -c '^PASS: ' "$TMP/out" || true)
  npass=$((npass + got))
  if [ "$rc" -ne 0 ] || [ "$got" -ne "$want" ]; then
    fail "$t: the input after $(tail -n 1 "$TMP/out" | sed 's/^PASS: //') (exit $rc): $(tail -n 3 "$TMP/err" | tr '\n' ' ')"
  fi
done
finish
