#!/bin/sh
# tools.sh - eigcond and ptd-sweep as a user meets them: outputs, numbers a reader can check,
# and bad input (exit 2 for usage, 1 for failure, one line on stderr, no file left behind).
. "$TOP_SRCDIR/tests/lib.sh"
cd "$TMP"

# --- eigcond -----------------------------------------------------------------------------
expect 0 "eigcond help" eigcond --help
expect 0 "eigcond version" eigcond --version
# LegS n = 2: kappa_2(V) = 2 + sqrt3 = 3.7320508...
expect 0 "eigcond legs 2" eigcond hippo-legs -n 2 --precision off -o keep-legs2.gp
grep -q 'kappa_2(V), double: *3.73205' err.txt && pass "kappa_2(V) of LegS 2 is 2 + sqrt3" || fail "LegS 2: $(cat err.txt)"
# double precision saturates: LegS 40 is reported as not resolved, never as a clean number
expect 0 "eigcond legs 40 double" eigcond hippo-legs -n 40 --precision off --format tsv
grep -q 'not resolved in double precision' err.txt && pass "unresolved kappa is flagged" || fail "no flag: $(cat err.txt)"
grep -q '^# columns: re im cond_double resolved$' out.txt && pass "eigcond tsv columns" || fail "eigcond tsv columns"
[ "$(grep -c '^-' out.txt)" -eq 40 ] && pass "one row per eigenvalue" || fail "rows: $(grep -c '^-' out.txt)"
awk '/^-/ { if ($4 != 0 && $4 != 1) bad = 1 } END { exit bad }' out.txt && pass "resolved is 0 or 1" || fail "resolved column"
expect 0 "eigcond sizes tsv" eigcond grcar --sizes 4:20:4 --format tsv --quiet
[ "$(grep -c '^[0-9]' out.txt)" -eq 5 ] && pass "five sizes" || fail "sizes rows"
! grep -qi -e 'nan' -e 'inf' out.txt && pass "no nan or inf in eigcond data" || fail "nan/inf in eigcond data"

# not diagonalizable: kappa_2(V) = inf and every eigenvalue condition number inf, decided
# exactly, exit 0 -- Jordan (upper), LagT (lower: A + I/2 strictly lower of rank n - 1) and
# [[1, 1], [0, 1]] from a file; double precision's value is then not resolved either
printf '%%%%MatrixMarket matrix coordinate real general\n2 2 3\n1 1 1\n1 2 1\n2 2 1\n' > keep-j2.mtx
for m in "jordan -n 8" "hippo-lagt -n 64" "file:keep-j2.mtx"; do
  expect 0 "eigcond defective $m" eigcond $m --format tsv
  grep -q 'kappa_2(V), extended: *inf: not diagonalizable' err.txt && pass "$m: kappa inf" || fail "$m: $(cat err.txt)"
  grep -q 'kappa_2(V), double: *>= 9e+15 (not resolved' err.txt && pass "$m: double not resolved" || fail "$m: $(cat err.txt)"
  grep -q '^# columns: re im cond_double resolved cond_extended defective$' out.txt \
    && pass "$m: columns" || fail "$m: $(grep columns out.txt)"
  # inf is written as the largest double; every eigenvalue defective, none resolved in double
  awk '/^[-0-9]/ { n++; if ($4 != 0 || $5 != 1.7976931348623157e+308 || $6 != 1) bad = 1 } END { exit bad || n < 2 }' \
    out.txt && pass "$m: every condition number inf" || fail "$m: $(grep -v '^#' out.txt | head -3)"
done
# a repeated eigenvalue need not be defective: diag(2, 2, 5) is normal, V = I with an
# orthonormal basis of each eigenspace, kappa_2(V) = 1 and every condition number 1 (the norm
# of an orthogonal projector); the double values of the multiple eigenvalue are not resolved
# (LAPACK's 1/|y^* x| of one pair of vectors is no condition number of a multiple eigenvalue)
printf '%%%%MatrixMarket matrix coordinate real general\n3 3 3\n1 1 2\n2 2 2\n3 3 5\n' > keep-d.mtx
expect 0 "eigcond diagonal, repeated" eigcond file:keep-d.mtx --format tsv
grep -q 'kappa_2(V), extended: *1.00000000000000e+00 .*semisimple' err.txt && pass "repeated diagonal: kappa 1" \
  || fail "repeated diagonal: $(cat err.txt)"
awk '/^[0-9]/ { if ($5 != 1 || $6 != 0 || $4 != ($1 == 5)) bad = 1 } END { exit bad }' out.txt \
  && pass "repeated diagonal: every condition number 1, not defective" || fail "repeated diagonal: $(cat out.txt)"
# LagT is triangular: switched off, extended precision is not said to be unavailable
expect 0 "eigcond lagt off" eigcond hippo-lagt -n 64 --precision off --format tsv
grep -q 'extended precision is off' err.txt && ! grep -q 'triangular matrices only' err.txt \
  && pass "lagt off: says it was switched off" || fail "lagt off: $(cat err.txt)"
# the figure's data hold no inf (nothing drawable: every kappa is inf) and it says so
expect 0 "eigcond lagt figure" eigcond hippo-lagt -n 64 -o keep-lagt.gp --quiet
awk '/<< EOD$/ { d = 1; next } /^EOD$/ { d = 0 } d && tolower($0) ~ /inf|nan/ { bad = 1 } END { exit bad }' keep-lagt.gp \
  && grep -q '64 defective' keep-lagt.gp \
  && pass "lagt figure: no inf, says defective" || fail "lagt figure: $(grep -i -e inf -e defective keep-lagt.gp | head -3)"
if command -v gnuplot >/dev/null 2>&1; then
  expect 0 "eigcond lagt image" eigcond hippo-lagt -n 64 -o keep-lagt.png --quiet
fi
# the eigenvalue-condition figure: where double and extended agree (LegS n = 16: all 16) both
# series show, the extended one in dots drawn after, and smaller than, the double one's rings
expect 0 "eigcond legs 16 figure" eigcond hippo-legs -n 16 -o keep-cond16.gp --quiet
awk '/^plot \$s1 / { if ($0 ~ /with points .*pt 6 ps 1.3 .*double precision/) ring = 1 }
     /^     \$s2 / { if ($0 ~ /with points .*pt 7 ps 0.6 .*extended precision/) dot = 1 }
     END { exit !(ring && dot) }' keep-cond16.gp \
  && pass "cond figure: double in rings, extended in dots over them" || fail "cond figure: $(grep -A1 '^plot' keep-cond16.gp)"
expect 0 "eigcond jordan sizes" eigcond jordan --sizes 2:10:4 --format tsv
awk '/^[0-9]/ { if ($4 != 1.7976931348623157e+308 || $7 != $1) bad = 1 } END { exit bad }' out.txt \
  && pass "jordan sizes: kappa inf, all defective" || fail "jordan sizes: $(grep -v '^#' out.txt)"

PTD_NOTICE_SECONDS=0 eigcond hippo-legs -n 16 --format tsv 2>err.txt >/dev/null
grep -q '^eigcond: n = 16: about .* of computing and .* of memory ahead (a rough estimate)$' err.txt \
  && pass "eigcond announces its work" || fail "eigcond notice: $(head -1 err.txt)"
PTD_NOTICE_SECONDS=0 eigcond hippo-legs --sizes 4:16 --format tsv 2>err.txt >/dev/null
grep -q '^eigcond: n = 16: about' err.txt && pass "eigcond announces a sweep at its largest n" || fail "eigcond sweep notice: $(head -1 err.txt)"
expect 2 "eigcond unknown matrix" eigcond nosuch
expect 2 "eigcond n = 0" eigcond grcar -n 0
expect 2 "eigcond bad sizes" eigcond grcar --sizes 10:5
expect 2 "eigcond sizes malformed" eigcond grcar --sizes 10
expect 2 "eigcond precision junk" eigcond grcar --precision lots
expect 2 "eigcond precision too low" eigcond grcar --precision 10
expect 2 "eigcond digits 0" eigcond grcar --digits 0
expect 2 "eigcond sizes with a file" eigcond "file:$TOP_SRCDIR/tests/data/mm/sym.mtx" --sizes 2:4
expect 1 "eigcond extended of a full matrix" eigcond grcar -n 8 --precision 200
grep -q 'needs a triangular matrix' err.txt && pass "says why" || fail "message: $(cat err.txt)"
expect 1 "eigcond malformed file" eigcond "file:$TOP_SRCDIR/tests/data/mm/bad-value.mtx"
expect 1 "eigcond unwritable" eigcond grcar -o /nonexistent/x.png
usage_error "eigcond sizes without an end" "4:" eigcond hippo-legs --sizes 4: -o x.tsv
usage_error "eigcond sizes with a zero step" "4:8:0" eigcond hippo-legs --sizes 4:8:0 -o x.tsv
usage_error "eigcond sizes with a trailing colon" "4:8:" eigcond hippo-legs --sizes 4:8: -o x.tsv
no_leftovers "eigcond errors"

# --- ptd-sweep -----------------------------------------------------------------------------
expect 0 "ptd-sweep help" ptd-sweep --help
expect 0 "ptd-sweep tsv" ptd-sweep hippo-legs -n 8 --points 3 --trials 3 --steps 50 --format tsv
grep -q '^# columns: rel_E kappa_random_median kappa_random_min kappa_random_max backward_error_random eig_shift_random backward_error_unreflected_random reflected_random kappa_optimized rel_E_optimized backward_error_optimized eig_shift_optimized backward_error_unreflected_optimized reflected_optimized$' out.txt \
  && pass "ptd-sweep columns" || fail "ptd-sweep columns: $(grep columns out.txt)"
# the numbers obey what they claim: min <= median <= max; the backward error before the
# reflection is the requested size to within the rounding of the reconstruction, 100 n u
# kappa(V) (n = 8, the largest kappa of the row); with nothing reflected the backward error of
# the system returned is that one; the optimised size is within its bound
awk '/^[0-9]/ { if (!($3 <= $2 && $2 <= $4)) bad = 1;
               d = $7 - $1; if (d < 0) d = -d; if (d > 100 * 8 * 1.12e-16 * $4) bad = 2;
               d = $13 - $10; if (d < 0) d = -d; if (d > 100 * 8 * 1.12e-16 * $9) bad = 2;
               if ($8 == 0 && $5 != $7) bad = 4; if ($14 == 0 && $11 != $13) bad = 4;
               if ($10 > $1 * (1 + 1e-12)) bad = 3 } END { exit bad }' out.txt \
  && pass "ptd-sweep rows are consistent" || fail "ptd-sweep rows: $(grep '^[0-9]' out.txt)"
# at 5 % on LegS n = 32 eigenvalues are reflected: the backward error of the system returned
# is then not ||E||/||A|| (recomputed independently in test_perturb), and the summary says so
expect 0 "ptd-sweep reflected" ptd-sweep hippo-legs -n 32 --method random --points 1 --eps-range 0.01:0.05 --relative --trials 1 --format tsv
awk '/^[0-9]/ { n++; d = $5 - $7; if (d < 0) d = -d; if (!($8 > 0) || !(d > 1e-6 * $7)) bad = 1 } END { exit bad || n != 1 }' out.txt \
  && pass "reflected: the returned system's backward error is reported" || fail "reflected: $(grep '^[0-9]' out.txt)"
grep -q 'of the system returned' err.txt && pass "the summary says which backward error" || fail "summary: $(cat err.txt)"
expect 0 "ptd-sweep random only" ptd-sweep grcar -n 10 --method random --points 2 --format tsv --quiet
grep -q '^# columns: rel_E kappa_random_median kappa_random_min kappa_random_max backward_error_random eig_shift_random backward_error_unreflected_random reflected_random$' out.txt \
  && pass "random-only columns" || fail "random-only columns"
expect 0 "ptd-sweep save" ptd-sweep hippo-legs -n 6 --method optimize --points 1 --eps-range 0.01:0.05 --relative --steps 100 --save keep-legs6.ptd -o keep-legs6.gp
head -1 keep-legs6.ptd | grep -q '^ptdkit-ptd 2$' && grep -q '^backward_error_unreflected ' keep-legs6.ptd && grep -q '^end$' keep-legs6.ptd \
  && pass "saved PTD file" || fail "saved PTD file"

PTD_NOTICE_SECONDS=0 ptd-sweep grcar -n 6 --points 1 --trials 1 --steps 5 --format tsv 2>err.txt >/dev/null
grep -q '^ptd-sweep: n = 6: about .* ahead (a rough estimate)$' err.txt && pass "ptd-sweep announces its work" || fail "ptd-sweep notice: $(head -1 err.txt)"
expect 2 "ptd-sweep bad method" ptd-sweep grcar --method magic
expect 2 "ptd-sweep bad range" ptd-sweep grcar --eps-range 1e-1:1e-3
expect 2 "ptd-sweep negative range" ptd-sweep grcar --eps-range -1:1
expect 2 "ptd-sweep huge size" ptd-sweep grcar --eps-range 1:100
expect 2 "ptd-sweep zero points" ptd-sweep grcar --points 0
expect 2 "ptd-sweep bfgs without weight" ptd-sweep grcar --optimizer bfgs
expect 2 "ptd-sweep negative weight" ptd-sweep grcar --weight -1
expect 2 "ptd-sweep n = 1" ptd-sweep grcar -n 1
expect 1 "ptd-sweep unwritable save" ptd-sweep grcar -n 6 --points 1 --steps 5 --save /nonexistent/x.ptd
expect 1 "ptd-sweep unwritable output" ptd-sweep grcar -n 6 --points 1 --steps 5 -o /nonexistent/x.png
usage_error "ptd-sweep size 10 quoted" "1e-8:10" ptd-sweep grcar --eps-range 1e-8:10 --relative -o x.tsv
# absolute sizes are measured against ||A||_2 (grcar n = 32: about 3.2), the range quoted
usage_error "ptd-sweep absolute size above 10 ||A||_2" "1e-8:40" ptd-sweep grcar --eps-range 1e-8:40 -o x.tsv
grep -q '||A||_2 = 3\.' err.txt && pass "the message gives ||A||_2" || fail "absolute range message: $(cat err.txt)"
usage_error "ptd-sweep size underflowing" "1e-320:1e-1" ptd-sweep grcar --eps-range 1e-320:1e-1 -o x.tsv
usage_error "ptd-sweep range without its end" "1e-8:" ptd-sweep grcar --eps-range 1e-8: -o x.tsv
no_leftovers "ptd-sweep errors"
# --- pspec --mode and --stability-radius (the library's tests check the numbers; here the tool) --
expect 0 "pspec mode tsv" pspec hippo-legs -n 32 --mode -16.5+0.5i -o keep-mode.tsv
awk '/^[0-9]/ { n++; s += $2 * $2; d = $2 - sqrt($3 * $3 + $4 * $4); if (d < 0) d = -d; if (d > 1e-15 * $2) bad = 1 }
     END { exit !(n == 32 && !bad && s > 1 - 1e-13 && s < 1 + 1e-13) }' keep-mode.tsv \
  && pass "pspec mode: 32 rows, |v_k| = hypot(Re, Im), unit norm" || fail "pspec mode tsv: $(grep -v '^#' keep-mode.tsv | head -3)"
grep -q 'pseudomode at z = -16.5+0.5i: sigma_min = 1.958092611793[0-9]*e-21 .*inverse iteration on the exact triangular Schur form' err.txt \
  && pass "pspec mode: the summary gives sigma_min and the method" || fail "pspec mode summary: $(sed -n 2p err.txt)"
expect 2 "pspec mode not a point" pspec grcar --mode 1+2 -o x.tsv
expect 2 "pspec mode not finite" pspec grcar --mode nan -o x.tsv
expect 1 "pspec mode at an eigenvalue" pspec hippo-legs -n 8 --mode -3 -o x.tsv
grep -q 'is an eigenvalue' err.txt && pass "pspec mode at an eigenvalue: says so" || fail "pspec mode eigenvalue: $(cat err.txt)"
expect 0 "pspec stability radius" pspec hippo-legs -n 16 --stability-radius --grid 20 -o keep-stab.tsv
grep -q '^  distance to instability (continuous, imaginary axis): 0\.5772249623.* at w = 0, certified: >= ' err.txt \
  && grep -q '^  distance to instability (discrete, unit circle): 0 (unstable' err.txt \
  && pass "pspec stability radius: LegS 16 certified, discrete unstable" || fail "pspec stability radius: $(grep instab err.txt)"
expect 0 "eigcond distance to instability" eigcond hippo-legs -n 16 --precision off -o keep-e.tsv
grep -q '^  distance to instability (continuous, imaginary axis): 0\.5772249623' err.txt \
  && pass "eigcond gives the distance to instability" || fail "eigcond instability: $(grep instab err.txt)"
no_leftovers "pspec mode errors"
finish
