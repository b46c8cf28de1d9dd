#!/bin/sh
# kernels.sh - the numerically sensitive suites once more under other OpenBLAS kernels
# (OPENBLAS_CORETYPE), so that a result that moves with the processor's rounding shows here
# and not on a user's machine.  A kernel this processor cannot run (an illegal instruction
# on a tiny probe) or this OpenBLAS does not know is skipped with a line saying so.
# PTD_KERNELS overrides the list.
. "$TOP_SRCDIR/tests/lib.sh"

KERNELS=${PTD_KERNELS:-"Prescott Nehalem Sandybridge Haswell Zen SkylakeX"}
CHECKS="test_matrix test_sparse test_zoo test_pspec test_plot test_cond test_condmp test_perturb test_optimize test_matfile test_crisscross
test_transient test_tf test_train test_status test_trace"
SHELLS="cli tools transient tf trust train trace"

# run NAME CMD...: one test; on failure the tail of its output, indented so that no line of
# it reads as a summary line
run() {
  name=$1; shift
  if "$@" > "$TMP/log" 2>&1; then pass "$name"; else fail "$name"; tail -n 25 "$TMP/log" | sed 's/^/    | /'; fi
}

ran=0
for k in $KERNELS; do
  set +e
  OPENBLAS_VERBOSE=2 OPENBLAS_CORETYPE=$k pspec grcar -n 8 --grid 3 --box -1,1,-1,1 -eps 0.1 \
    --format tsv --quiet > /dev/null 2> "$TMP/probe"
  rc=$?
  set -e
  if [ "$rc" -eq 132 ] || grep -qi 'illegal instruction' "$TMP/probe"; then
    echo "SKIP: kernel $k: this processor cannot run it (illegal instruction on the probe)"; continue
  fi
  if ! grep -q "^Core: $k\$" "$TMP/probe"; then
    echo "SKIP: kernel $k: this OpenBLAS does not provide it ($(head -n 1 "$TMP/probe"))"; continue
  fi
  if [ "$rc" -ne 0 ]; then fail "kernel $k: the probe failed (exit $rc)"; continue; fi
  ran=$((ran + 1))
  for t in $CHECKS; do
    [ -x "$TOP_BUILDDIR/tests/$t" ] || continue
    run "kernel $k: $t" env OPENBLAS_CORETYPE="$k" "$TOP_BUILDDIR/tests/$t"
  done
  for s in $SHELLS; do
    run "kernel $k: $s.sh" env OPENBLAS_CORETYPE="$k" sh "$TOP_SRCDIR/tests/$s.sh"
  done
done
[ "$ran" -ge 2 ] && pass "at least two kernels ran ($ran)" || fail "only $ran kernel(s) could run"
finish
