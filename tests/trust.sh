#!/bin/sh
# trust.sh - what a user reads off pspec's summary holds: grid bounds contain the exact
# (criss-cross) values, eigenvalues that no grid contour encloses are counted, an eps the
# criss-cross cannot certify does not end the run, and messages do not repeat their prefix.
. "$TOP_SRCDIR/tests/lib.sh"
cd "$TMP"

# --- every eps gets an answer; none ends the run ---------------------------------------
set +e
pspec hippo-legs -n 64 -eps 1e-4,1e-16 --abscissa --radius --grid 60 -o legs.gp 2>err.txt; rc=$?
set -e
[ "$rc" -eq 0 ] && [ -s legs.gp ] && pass "eps 1e-16 below the criss-cross floor: exit 0 and a figure" \
  || fail "eps 1e-16: exit $rc ($(head -c 300 err.txt))"
grep -q 'eps 1e-16: pseudospectral abscissa >= -0.99999999999999' err.txt && grep -q 'radius >= ' err.txt \
  && pass "below the floor the value is a lower bound, said so" || fail "lower bound: $(cat err.txt)"
grep -q 'eps 0.0001: pseudospectral abscissa -0.9938853[0-9]* at .*(criss-cross)' err.txt \
  && pass "above the floor the certified value" || fail "certified value: $(grep 'eps 0.0001' err.txt)"
grep -q 'pseudospectral abscissa (eps 1e-16): >= ' legs.gp && pass "the figure's header records the bound" \
  || fail "header: $(grep 'abscissa' legs.gp)"

# --- grid bounds contain the criss-cross values ------------------------------------------
# kahan: the components near the eigenvalue 1 are far finer than the grid for eps <= 1e-4
pspec kahan -n 40 -eps 1e-2,1e-4,1e-6,1e-8 --grid 80 -o k.gp 2>grid.txt
pspec kahan -n 40 -eps 1e-2,1e-4,1e-6,1e-8 --grid 80 --abscissa --radius -o k.gp 2>exact.txt
ok=1
for e in 0.01 0.0001 1e-06 1e-08; do
  # "in [lo, hi]" when the box provably holds the set, ">= lo" when it does not
  line=$(grep "^  eps $e: " grid.txt)
  lo=$(echo "$line" | sed -n 's/.*pseudospectral abscissa in \[\([^,]*\), .*/\1/p; s/.*pseudospectral abscissa >= \([^ ]*\) .*/\1/p')
  hi=$(echo "$line" | sed -n 's/.*pseudospectral abscissa in \[[^,]*, \([^]]*\)\].*/\1/p')
  ex=$(sed -n "s/^  eps $e: pseudospectral abscissa \([-0-9.e]*\) at .*/\1/p" exact.txt)
  if [ -z "$lo" ] || [ -z "$ex" ] || ! awk -v lo="$lo" -v hi="${hi:-1e308}" -v x="$ex" -v e="$e" \
       'BEGIN { exit !(lo <= x && x <= hi && lo >= 1 + e) }'; then
    ok=0; fail "kahan eps $e: abscissa $ex not in the grid bounds [$lo, ${hi:-unbounded}]"
  fi
done
[ "$ok" -eq 1 ] && pass "kahan: the grid bounds hold the exact abscissa and respect alpha + eps"
grep -q '^    [1-9][0-9]* of 40 eigenvalues lie in no grid contour' grid.txt \
  && pass "kahan: eigenvalues in no grid contour are counted" || fail "missed count: $(cat grid.txt)"
! grep -q '+-' grid.txt && pass "no error bar that is not a bound" || fail "an error bar: $(grep -- '+-' grid.txt)"

# a 3 x 3 matrix at eps 1e-6: nothing the grid can draw, and the summary says so
pspec "file:$TOP_SRCDIR/tests/data/mm/sym.mtx" -eps 1e-6 -o s.gp 2>s.txt
grep -q '3 of 3 eigenvalues lie in no grid contour' s.txt && pass "an empty frame is explained" \
  || fail "empty frame: $(cat s.txt)"

# --- digits the error supports --------------------------------------------------------
pspec grcar -n 64 -eps 1e-2 --box -1,3,-3,3 --grid 9 --format tsv --quiet > g.tsv
awk '/^[-0-9]/ { m = $3; sub(/e.*/, "", m); gsub(/[-.]/, "", m); sub(/^0+/, "", m); if (length(m) > 16) bad = 1 } END { exit bad }' g.tsv \
  && pass "tsv: no more digits than err supports" || fail "tsv digits: $(grep -v '^#' g.tsv | head -3)"

# --- messages name the problem once ---------------------------------------------------
for t in "pspec hippo-legs -n 8 -eps 1e-4 --box 1,0,0,1" "pspec grcar -n 8 --method x" "transient grcar -n 4 --t-range 1:0"; do
  set +e; $t >/dev/null 2>m.txt; set -e
  if grep -Eq '(^|: )([^:]+): \2:' m.txt; then fail "repeated prefix: $t: $(cat m.txt)"; else pass "no repeated prefix: $t"; fi
done
finish
