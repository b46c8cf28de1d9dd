#!/bin/sh
# tf.sh - tf-sweep as a user meets it: both modes, the numbers a reader can check (S4D's strong
# error does not decay, its weak error does; PTD's strong error is far below S4D's), and bad
# input (exit 2 for usage, 1 for failure, one line on stderr, no file left behind).
. "$TOP_SRCDIR/tests/lib.sh"
cd "$TMP"

expect 0 "tf-sweep help" tf-sweep --help
expect 0 "tf-sweep version" tf-sweep --version

# errors: S4D against LegS with unit B = C^T (the theorem's setting): strong error 0.80..0.82
# at every n, at the largest frequency of A_N; weak error (exp input) decays at least like 1/n
expect 0 "tf-sweep s4d errors" tf-sweep hippo-legs --models full,s4d --normalize --C bt --sizes 8:64 --format tsv
grep -q '^# columns: n strong_s4d w_s4d weak_s4d w_max$' out.txt && pass "s4d columns" || fail "s4d columns: $(grep columns out.txt)"
awk '/^[0-9]/ { if ($2 < 0.78 || $2 > 0.83) bad = 1; d = ($3 < 0 ? -$3 : $3) - $5; if (d > 1 || d < -1) bad = 2;
                if (NR > 1 && prev != "" && $4 > prev / 1.9) bad = 3; prev = $4 } END { exit bad }' out.txt \
  && pass "S4D: strong error stays near 0.8 at w_max, weak error halves with n" || fail "S4D rows: $(grep '^[0-9]' out.txt)"
grep -q 'fitted log-log slopes against n, S4D: strong' err.txt && pass "slopes on stderr" || fail "no slopes: $(cat err.txt)"

# PTD (optimised, few steps) and random: strong error far below S4D's from n = 16 on
expect 0 "tf-sweep ptd errors" tf-sweep hippo-legs --normalize --sizes 16:32 --steps 100 --format tsv
grep -q '^# columns: n strong_s4d w_s4d weak_s4d strong_ptd w_ptd weak_ptd rel_E_ptd norm_E_ptd kappa_ptd bound_ptd strong_random w_random weak_random kappa_random w_max backward_error_ptd backward_error_random$' out.txt \
  && pass "errors columns" || fail "errors columns: $(grep columns out.txt)"
# the bound is the theorem's for the system used, A + D with ||D||_2 = backward_error ||A||_2
# (||A||_2 = norm_E / rel_E), not for A + E when eigenvalues were reflected
awk '/^[0-9]/ { b = (2 * log($1) + 4) * $17 * $9 / $8; d = $11 - b; if (d < 0) d = -d; if (d > 1e-12 * b) bad = 1 }
     END { exit bad }' out.txt && pass "bound from the backward error of the system used" || fail "bound: $(grep '^[0-9]' out.txt)"
awk '/^[0-9]/ { if (!($5 * 10 <= $2)) bad = 1; if ($8 > 0.01 * (1 + 1e-9)) bad = 2 } END { exit bad }' out.txt \
  && pass "PTD strong error at least 10x below S4D, within its eps" || fail "PTD rows: $(grep '^[0-9]' out.txt)"
! grep -qi -e 'nan' -e 'inf' out.txt && pass "no nan or inf in the data" || fail "nan/inf in data"

# curves: one row per frequency, columns per model, the S4D spike visible at w_max
expect 0 "tf-sweep curves" tf-sweep hippo-legs -n 16 --models full,s4d --normalize --C bt --format tsv
grep -q '^# columns: w full s4d$' out.txt && pass "curves columns" || fail "curves columns: $(grep columns out.txt)"
awk '/^[0-9]/ { if ($3 > m) { m = $3; w = $1 } } END { exit !(m > 0.5 && w > 75 && w < 87) }' out.txt \
  && pass "S4D curve peaks near w_max = 80.97" || fail "no S4D peak near 81"
expect 0 "tf-sweep curves figure" tf-sweep hippo-legs -n 8 --steps 50 -o keep-curves.gp
grep -q 'largest frequency of A' keep-curves.gp && pass "w_max marked" || fail "w_max not marked"

# a saved PTD system is used as is
expect 0 "ptd-sweep save" ptd-sweep hippo-legs -n 8 --method optimize --points 1 --eps-range 0.01:0.02 --relative --steps 50 --save keep8.ptd -o keep8.gp --quiet
expect 0 "tf-sweep --ptd-file" tf-sweep hippo-legs --ptd-file keep8.ptd --models full,ptd --format tsv
grep -q '^# columns: w full ptd$' out.txt && pass "ptd-file curves" || fail "ptd-file columns"
# its backward error, recomputed against this A: the file's (version 2), and for a version-1
# file, which does not hold it when eigenvalues were reflected, the same
expect 0 "tf-sweep --ptd-file errors" tf-sweep hippo-legs --ptd-file keep8.ptd --models full,ptd --mode errors --format tsv
bwant=$(awk '$1 == "backward_error" { print $2 }' keep8.ptd)
awk -v w="$bwant" '/^[0-9]/ { n++; d = $10 - w; if (d < 0) d = -d; if (d > 1e-12 * w) bad = 1 } END { exit bad || n != 1 }' out.txt \
  && pass "ptd-file backward error" || fail "ptd-file backward error: want $bwant, $(grep '^[0-9]' out.txt)"
sed -e '1s/.*/ptdkit-ptd 1/' -e '/^backward_error /d' -e 's/^backward_error_unreflected /backward_error /' keep8.ptd > keep8-v1.ptd
expect 0 "tf-sweep version-1 file" tf-sweep hippo-legs --ptd-file keep8-v1.ptd --models full,ptd --mode errors --format tsv
awk -v w="$bwant" '/^[0-9]/ { n++; d = $10 - w; if (d < 0) d = -d; if (d > 1e-12 * w) bad = 1 } END { exit bad || n != 1 }' out.txt \
  && pass "version-1 file: backward error recomputed" || fail "version-1 file: want $bwant, $(grep '^[0-9]' out.txt)"

expect 2 "tf-sweep no matrix" tf-sweep
expect 2 "tf-sweep not hippo" tf-sweep grcar
expect 2 "tf-sweep unknown hippo" tf-sweep hippo-nosuch
expect 2 "tf-sweep bad mode" tf-sweep hippo-legs --mode spectra
expect 2 "tf-sweep bad model" tf-sweep hippo-legs --models full,s5
expect 2 "tf-sweep bad C" tf-sweep hippo-legs --C twos
expect 2 "tf-sweep bad input" tf-sweep hippo-legs --input ramp
expect 2 "tf-sweep bad sizes" tf-sweep hippo-legs --sizes 64:8
expect 2 "tf-sweep relative eps too large" tf-sweep hippo-legs --eps 2 --relative
expect 2 "tf-sweep absolute eps above ||A||_2" tf-sweep hippo-legs -n 16 --eps 1000 --models full,ptd
grep -q 'below ||A||_2' err.txt && pass "the absolute bound is measured against ||A||_2" || fail "absolute eps message: $(cat err.txt)"
expect 2 "tf-sweep eps negative" tf-sweep hippo-legs --eps -0.1
expect 2 "tf-sweep bad omega range" tf-sweep hippo-legs --omega-range 10:1
expect 2 "tf-sweep odd fout" tf-sweep hippo-fout -n 7 --models full,s4d
expect 2 "tf-sweep sizes with curves" tf-sweep hippo-legs --mode curves --sizes 8:16
expect 2 "tf-sweep errors without a model" tf-sweep hippo-legs --mode errors --models full
expect 2 "tf-sweep tsv image" tf-sweep hippo-legs --format tsv -o x.png
expect 2 "tf-sweep ptd-file wrong n" tf-sweep hippo-legs --ptd-file keep8.ptd --sizes 16:16
expect 1 "tf-sweep missing ptd-file" tf-sweep hippo-legs --ptd-file /nonexistent.ptd
printf 'not a ptd file\n' > keep-bad.ptd
expect 1 "tf-sweep malformed ptd-file" tf-sweep hippo-legs --ptd-file keep-bad.ptd
# the normal part of LagT is skew: S4D's poles sit on the axis, its errors are unbounded
expect 1 "tf-sweep s4d of lagt" tf-sweep hippo-lagt --sizes 8:8 --models full,s4d
grep -q 'imaginary axis' err.txt && pass "says why" || fail "message: $(cat err.txt)"
expect 2 "tf-sweep s4d without a rank correction" tf-sweep hippo-lmu --sizes 8:8 --models full,s4d
expect 1 "tf-sweep unwritable" tf-sweep hippo-legs -n 8 --models full,s4d -o /nonexistent/x.png
usage_error "tf-sweep models with an empty item" "full,,s4d" tf-sweep hippo-legs --models full,,s4d -o x.tsv
usage_error "tf-sweep models with a trailing comma" "full," tf-sweep hippo-legs --models full, -o x.tsv
usage_error "tf-sweep bad model quoted" "full,s5" tf-sweep hippo-legs --models full,s5 -o x.tsv
usage_error "tf-sweep sizes with a trailing colon" "8:16:" tf-sweep hippo-legs --sizes 8:16: -o x.tsv
usage_error "tf-sweep omega range without its start" ":10" tf-sweep hippo-legs --omega-range :10 -o x.tsv
no_leftovers "tf-sweep errors"
finish
