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
# ||A^k|| of grcar passes the double range near k = 967: the run succeeds, every value within
# the range is there, those beyond are the largest double (a suffix), the data say so, and
# rho^k <= ||A^k|| <= ||A||^k hold throughout (clamping to the largest double keeps every
# inequality), and ||A^k|| grows monotonically (here by a factor of at least 1.85 a step)
expect 0 "powers beyond the double range" transient grcar -n 8 --discrete --t-range 0:1000 --format tsv
! grep -qi -e nan -e inf out.txt && pass "no nan or inf beyond the range" || fail "nan or inf beyond the range"
[ "$(grep -c '^[0-9]' out.txt)" -eq 1001 ] && pass "1001 powers" || fail "powers: $(grep -c '^[0-9]' out.txt) rows"
awk -v big=1.7976931348623157e308 '/^[0-9]/ {
    if ($2 == big) nbig++; else { if (nbig) bad = "finite after the largest double at k = " $1; nfin++ }
    if ($3 > $2 * (1 + 1e-12) || $2 > $4 * (1 + 1e-12)) bad = "bounds at k = " $1
    if ($1 > 0 && $2 < p) bad = "decrease at k = " $1
    p = $2 }
  END { if (!nbig || nfin < 900) bad = bad " " nfin " finite, " nbig " largest"; if (bad) { print bad; exit 1 } }' out.txt > awk.txt \
  && pass "finite values, then the largest double" || fail "beyond the range: $(cat awk.txt)"
rm -f awk.txt
grep -q '^# beyond the double range, written as 1.7976931348623157e+308: ||A^k|| at [0-9]* powers from k = 9[0-9][0-9]' out.txt \
  && pass "the data record the clamped values" || fail "header: $(grep beyond out.txt)"
grep -q 'beyond the double range, written as the largest double' err.txt && pass "stderr says so" || fail "stderr: $(cat err.txt)"
expect 0 "exponential beyond the double range" transient grcar -n 8 --t-range 0:1000 --points 41 --format tsv --quiet
! grep -qi -e nan -e inf out.txt && grep -q '^1000 1.7976931348623157e+308 ' out.txt && [ ! -s err.txt ] \
  && pass "e^{tA} clamped, quietly" || fail "e^{tA} beyond the range: $(tail -1 out.txt)"
# the whole range of doubles: e^{tA} for t up to 1e308 is computed or the largest double
expect 0 "t up to 1e308" transient grcar -n 8 --t-range 0:1e308 --points 5 --format tsv --quiet
! grep -qi -e nan -e inf out.txt && grep -q '^1e+308 1.7976931348623157e+308 ' out.txt \
  && pass "e^{tA} at t = 1e308 is the largest double" || fail "t = 1e308: $(tail -1 out.txt)"
usage_error "range without its end" "0:" transient grcar --t-range 0: -o x.tsv
usage_error "range with three parts" "0:1:2" transient grcar --t-range 0:1:2 -o x.tsv
usage_error "range finer than the doubles" "1:1.0000000000000002" transient grcar --t-range 1:1.0000000000000002 -o x.tsv
usage_error "range finer than its points" "0:1e-304" transient grcar --t-range 0:1e-304 --points 100000 -o x.tsv
usage_error "discrete range quoted" "0:2.5" transient grcar --discrete --t-range 0:2.5 -o x.tsv
PTD_NOTICE_SECONDS=0 transient grcar -n 6 --format tsv >/dev/null 2>err.txt
grep -q '^transient: n = 6: about .* ahead (a rough estimate)$' err.txt && pass "transient announces its work" || fail "transient notice: $(head -1 err.txt)"
transient grcar -n 6 --format tsv >/dev/null 2>err.txt
! grep -q 'ahead' err.txt && pass "no notice for a short run" || fail "notice in a short run: $(head -1 err.txt)"
expect 2 "no matrix" transient
expect 2 "bad range" transient grcar --t-range 5:1
expect 2 "range without colon" transient grcar --t-range 5
expect 2 "discrete fractional range" transient grcar --discrete --t-range 0:2.5
expect 2 "points 1" transient grcar --points 1
expect 2 "unknown matrix" transient nosuch
expect 2 "unknown option" transient grcar --frob
# a bound that does not set the y range says in the key where it leaves the frame: Demmel's
# exp(t omega(A)) overflows from t = 0.2 on while ||e^{tA}|| stays below 1e3; for a normal
# matrix omega = alpha and nothing leaves
transient demmel -n 8 --t-range 0:20 --quiet > keep-dm.gp
grep -q "title 'exp(t ω(A)) (numerical abscissa), off the scale from t = 0.1" keep-dm.gp \
  && pass "the key says where a bound leaves the frame" || fail "off-scale key: $(grep 'numerical abscissa' keep-dm.gp)"
transient hippo-legs-normal -n 8 --t-range 0:20 --quiet > keep-dm.gp
grep -q "title 'exp(t ω(A)) (numerical abscissa)'" keep-dm.gp && pass "and says nothing when it stays" \
  || fail "normal matrix key: $(grep 'numerical abscissa' keep-dm.gp)"
rm -f keep-dm.gp
expect 2 "tsv as image" transient grcar --format tsv -o x.png
expect 1 "unwritable" transient grcar -n 4 -o /nonexistent/x.png
left=$(ls -A | grep -v -e '^out.txt$' -e '^err.txt$' || true)
[ -z "$left" ] && pass "nothing left behind" || fail "left behind: $left"
# alpha and rho carry their accuracy: kappa(lambda) n u ||A|| for a computed Schur form,
# exact for a triangular A, "not resolved" where that bound exceeds ||A|| (grcar n = 200)
expect 0 "grcar 30 accuracy" transient grcar -n 30 --points 20 --format tsv
grep -q '^# spectral abscissa and radius: within [0-9.e+-]* and [0-9.e+-]* (kappa(lambda) n u ||A||)' out.txt \
  && pass "grcar 30: alpha and rho with their error" || fail "grcar 30: $(grep '^# spectral' out.txt)"
expect 0 "grcar 200 accuracy" transient grcar -n 200 --t-range 0:1 --points 5 --format tsv
grep -q '^# spectral abscissa and radius: not resolved' out.txt && grep -q '^# norm2: [0-9.]*, spectral abscissa 1.6899[0-9]*,' out.txt \
  && grep -q 'not resolved in double precision' err.txt && pass "grcar 200: alpha not resolved, 6 digits" \
  || fail "grcar 200: $(grep '^# norm2\|^# spectral' out.txt) / $(cat err.txt)"
expect 0 "legs accuracy" transient hippo-legs -n 16 --points 5 --format tsv
grep -q '^# spectral abscissa and radius: exact' out.txt && grep -q 'spectral abscissa -1, spectral radius 16,' out.txt \
  && pass "LegS: exact eigenvalues" || fail "LegS: $(grep '^# norm2\|^# spectral' out.txt)"

finish
