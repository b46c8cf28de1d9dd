#!/bin/sh
# transient.sh - the transient tool as a user meets it: tsv shape, bounds, bad input.
. "$TOP_SRCDIR/tests/lib.sh"
cd "$TMP"
expect 0 "help" transient --help
expect 0 "tsv" transient demmel -n 6 --t-range 0:5 --points 11 --format tsv --quiet
grep -q '^# columns: t norm_etA eig_bound nabs_bound kreiss_bound$' out.txt && pass "columns line" || fail "columns line"
[ "$(grep -c '^[0-9]' out.txt)" -eq 11 ] && pass "11 rows" || fail "rows"
# e^{t alpha} <= ||e^{tA}|| <= e^{t omega}, and ||e^{0A}|| = 1
awk '/^[0-9]/ { if ($2 < $3 * (1 - 1e-10) || $2 > $4 * (1 + 1e-10)) bad = 1; if (NR > 0 && $1 == 0 && $2 != 1) bad = 1 } END { exit bad }' out.txt \
  && pass "bounds hold" || fail "bounds"
! grep -qi -e nan -e inf out.txt && pass "no nan or inf" || fail "nan or inf"
expect 0 "discrete" transient jordan -n 4 --discrete --t-range 0:6 --format tsv --quiet
awk '/^[0-9]/ { want = ($1 < 4) ? 1 : 0; if ($2 != want) bad = 1 } END { exit bad }' out.txt && pass "||J^k|| exact" || fail "jordan powers"
expect 2 "no matrix" transient
expect 2 "bad range" transient grcar --t-range 5:1
expect 2 "range without colon" transient grcar --t-range 5
expect 2 "discrete fractional range" transient grcar --discrete --t-range 0:2.5
expect 2 "points 1" transient grcar --points 1
expect 2 "unknown matrix" transient nosuch
expect 2 "unknown option" transient grcar --frob
expect 2 "tsv as image" transient grcar --format tsv -o x.png
expect 1 "unwritable" transient grcar -n 4 -o /nonexistent/x.png
left=$(ls -A | grep -v -e '^out.txt$' -e '^err.txt$' || true)
[ -z "$left" ] && pass "nothing left behind" || fail "left behind: $left"
finish
