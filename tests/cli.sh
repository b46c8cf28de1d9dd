#!/bin/sh
# cli.sh - the pspec tool as a user meets it: outputs, formats, option spellings, and every
# kind of bad input (exit 2 for usage, 1 for failure, one line on stderr, no file left).
. "$TOP_SRCDIR/tests/lib.sh"
cd "$TMP"
DATA="$TOP_SRCDIR/tests/data/mm"

# --- good runs ------------------------------------------------------------------------
expect 0 "help" pspec --help
grep -q "hippo-legs" out.txt && grep -q "ginibre" out.txt && pass "help lists the matrices" || fail "help lists the matrices"
expect 0 "version" pspec --version
grep -q "^pspec (ptdkit) [0-9]" out.txt && pass "version line" || fail "version line: $(cat out.txt)"

# tsv: header, columns line, NX*NY rows, a blank line after each grid row, box edges exact
expect 0 "tsv output" pspec grcar -n 12 -eps 1e-2 --box -2,2,-1,1 --grid 5x3 --format tsv --quiet
grep -q '^# columns: x y sigma_min err$' out.txt && pass "tsv columns line" || fail "tsv columns line"
grep -q '^# .*pspec grcar -n 12' out.txt && pass "tsv records the command" || fail "tsv records the command"
rows=$(grep -c '^[-0-9]' out.txt); blanks=$(grep -c '^$' out.txt)
[ "$rows" -eq 15 ] && [ "$blanks" -eq 3 ] && pass "tsv has 15 rows in 3 blocks" || fail "tsv shape: $rows rows, $blanks blanks"
xs=$(grep '^[-0-9]' out.txt | awk '{print $1}' | sort -g | uniq | tr '\n' ' ')
[ "$xs" = "-2 -1 0 1 2 " ] && pass "grid includes the box edges" || fail "grid x values: $xs"
ys=$(grep '^[-0-9]' out.txt | awk '{print $2}' | sort -g | uniq | tr '\n' ' ')
[ "$ys" = "-1 0 1 " ] && pass "grid y values" || fail "grid y values: $ys"
awk '/^[-0-9]/ { if (NF != 4 || $3 < 0 || $4 <= 0) bad = 1 } END { exit bad }' out.txt && pass "four non-negative columns" || fail "tsv columns"
! grep -qi -e 'nan' -e 'inf' out.txt && pass "no nan or inf in the data" || fail "nan or inf in the data"

# option spellings: single dash, double dash, --opt=value all give the same data
pspec grcar -n 12 -eps 1e-2 -box -2,2,-1,1 -grid 5x3 -format tsv -quiet | grep -v '^#' > a.keep
pspec grcar --n=12 --eps=1e-2 --box=-2,2,-1,1 --grid=5x3 --format=tsv --quiet | grep -v '^#' > b.keep
pspec --quiet --format tsv --grid 5x3 --box -2,2,-1,1 grcar -n 12 --eps 1e-2 | grep -v '^#' > c.keep
cmp -s a.keep b.keep && cmp -s a.keep c.keep && pass "-opt, --opt=v and option order agree" || fail "option spellings differ"

# threads do not change the values; svd agrees with lanczos to rounding
pspec grcar -n 30 -eps 1e-2 --grid 21 --threads 1 --format tsv --quiet | grep -v '^#' > t1.keep
pspec grcar -n 30 -eps 1e-2 --grid 21 --threads 2 --format tsv --quiet | grep -v '^#' > t2.keep
cmp -s t1.keep t2.keep && pass "1 and 2 threads give identical data" || fail "thread count changes the data"
pspec grcar -n 30 -eps 1e-2 --grid 21 --method svd --format tsv --quiet | grep -v '^#' > s.keep
# both err columns bound the true error, so the two values are within the sum of them
paste t1.keep s.keep | awk 'NF == 8 { d = $3 - $7; if (d < 0) d = -d; if (d > $4 + $8) bad++ } END { exit bad > 0 }' \
  && pass "svd and lanczos agree within their errors" || fail "svd and lanczos differ"
# the one-shift reference path agrees with the default (multi-shift) path within the errors
pspec grcar -n 30 -eps 1e-2 --grid 21 --method lanczos-single --format tsv --quiet > r.keep
grep -q '^# method: lanczos-single' r.keep && pass "--method lanczos-single in the header" || fail "header: $(grep method r.keep)"
grep -v '^#' r.keep | paste t1.keep - | awk 'NF == 8 { d = $3 - $7; if (d < 0) d = -d; if (d > $4 + $8) bad++ } END { exit bad > 0 }' \
  && pass "lanczos-single and lanczos agree within their errors" || fail "lanczos-single and lanczos differ"

# the summary on stderr names the numbers a reader wants first
pspec hippo-legs -n 16 -eps 1e-4 --grid 40 -o legs.gp 2>err.txt
grep -q '||A||_2 = ' err.txt && grep -q 'spectral abscissa' err.txt && grep -q 'pseudospectral abscissa' err.txt \
  && grep -q 'points/s' err.txt && pass "summary on stderr" || fail "summary: $(cat err.txt)"
pspec hippo-legs -n 16 -eps 1e-4 --grid 40 -o legs.gp --quiet 2>err.txt
[ ! -s err.txt ] && pass "--quiet silences stderr" || fail "--quiet: $(cat err.txt)"
grep -q '^\$sigma << EOD' legs.gp && pass ".gp is a gnuplot script with inline data" || fail ".gp script"
mv legs.gp keep-legs.gp

# --abscissa / --radius: exact values in the summary and the header; --fov overlays W(A)
pspec hippo-legs-normal -n 8 -eps 0.25 --grid 30 --abscissa --radius --fov -o xr.gp 2>err.txt
sed -n 's/.*pseudospectral abscissa \([-0-9.e]*\) at.*/\1/p' err.txt | awk '{ d = $1 + 0.25; if (d < 0) d = -d; exit !(NR == 1 && d < 1e-12) }' && pass "--abscissa of a normal matrix is alpha + eps" || fail "--abscissa: $(cat err.txt)"
grep -q 'criss-cross' err.txt && ! grep -q 'grid estimates' err.txt && pass "summary switches to the exact values" || fail "summary: $(cat err.txt)"
grep -q '^# pseudospectral radius (eps 0.25)' xr.gp && grep -q '^\$mark0 << EOD' xr.gp && grep -q '^\$fov << EOD' xr.gp \
  && pass "marked points and W(A) in the script" || fail "overlay in the script"
if command -v gnuplot >/dev/null 2>&1; then
  GNUTERM=dumb gnuplot xr.gp > /dev/null 2>gp.err && [ ! -s gp.err ] && pass "overlay script runs through gnuplot" || fail "overlay gnuplot: $(head -2 gp.err)"
  rm -f gp.err
fi
rm -f xr.gp
# pspec's phases without a grid say what they compute before they start when they are long
# (here with PTD_PROGRESS_SECONDS=0, every one), and the criss-crosses count as progress
PTD_PROGRESS_SECONDS=0 pspec grcar -n 32 -eps 1e-1,1e-2 --abscissa --radius --stability-radius --grid 20 -o keep-x.tsv 2>err.txt
grep -qE '^pspec: criss-cross for the pseudospectral abscissa and radius at 2 eps, n = 32: about [0-9.e+-]+ s \(a rough estimate\)$' err.txt \
  && grep -qE '^pspec: --stability-radius: criss-cross on the imaginary axis and the unit circle, n = 32: about ' err.txt \
  && [ "$(grep -c '^pspec: criss-cross: 4/4 done' err.txt)" -eq 1 ] \
  && pass "criss-cross: a start line and progress" || fail "criss-cross notices: $(grep '^pspec' err.txt)"
PTD_PROGRESS_SECONDS=0 pspec convdiff --sparse 40 --grid 20 -eps 1e-1 --sparse-point -7.13 -o keep-x.tsv 2>err.txt
grep -qE '^pspec: Arnoldi, 40 steps on n = 2025 \(9945 nonzeros\), one thread: about ' err.txt \
  && grep -qE '^pspec: --sparse-point: a sparse LU of zI - A at z = -7.13\+0i \(n = 2025, 9945 nonzeros\), then inverse Lanczos: about ' err.txt \
  && pass "--sparse: start lines for Arnoldi and the sparse LU" || fail "sparse notices: $(grep '^pspec' err.txt)"
pspec grcar -n 32 -eps 1e-1,1e-2 --abscissa --radius --grid 20 -o keep-x.tsv 2>err.txt
! grep -q 'rough estimate\|^pspec: criss-cross' err.txt && pass "a short criss-cross says nothing ahead" || fail "short run: $(grep '^pspec' err.txt)"
rm -f keep-x.tsv
# nested levels read as nested: about each of LegS-normal's 8 eigenvalues the grid draws the
# 0.3 ring (radius 0.3) and 0.1, 0.01 are traced below resolution: one circle each, the 0.1
# one's, well inside the ring, none for 0.01 (inside the 0.1 disc), each dot inside its circle
expect 0 "nested levels" pspec hippo-legs-normal -n 8 -eps 0.3,0.1,0.01 -o keep-nest.gp --quiet
awk '/^\$tiny << EOD/ { on = 1; next } on && /^EOD/ { on = 0 } on { n++; if ($3 != -1 || !($4 > 0.1 && $4 < 0.18)) bad = 1 }
     END { exit bad || n != 8 }' keep-nest.gp \
  && grep -q '^# 8 more below resolution, not circled: inside a larger eps' keep-nest.gp \
  && awk '/^\$eig << EOD/ { on = 1; next } on && /^EOD/ { on = 0 } on { n++; if (!($3 < 0.6 * 0.15 / (0.0055 * 48))) bad = 1 }
          END { exit bad || n != 8 }' keep-nest.gp \
  && pass "nested levels: 0.1 circled inside the 0.3 rings, dots inside" || fail "nested levels: $(sed -n '/^\$tiny/,/^EOD/p;/^\$eig/,/^EOD/p' keep-nest.gp | head -20)"
if command -v gnuplot >/dev/null 2>&1; then
  GNUTERM=dumb gnuplot keep-nest.gp > /dev/null 2>gp.err && [ ! -s gp.err ] && pass "nested script runs through gnuplot" || fail "nested gnuplot: $(head -2 gp.err)"
  rm -f gp.err
fi
rm -f keep-nest.gp
# --mode's figure: the key's subscripts and Greek are enhanced text (|v_k|, sigma_{min}, lambda),
# not the literal v_k and sigma_min a noenhanced key showed; the title stays plain text
expect 0 "--mode figure" pspec hippo-legs -n 16 --mode -7.5+1i -o keep-mode.gp --quiet
grep -q "^set key outside below" keep-mode.gp && ! grep -q "^set key.*noenhanced" keep-mode.gp \
  && grep -q "title 'pseudomode |v_k| at z = -7.5+1i (σ_{min} [0-9.e+-]*)'" keep-mode.gp \
  && grep -q "title 'eigenvector |x_k| of λ = " keep-mode.gp && ! grep -v '^#' keep-mode.gp | grep -q 'sigma_min\|lambda =' \
  && grep -q "^set title 'hippo-legs, n = 16: pseudomode at z = -7.5+1i' noenhanced" keep-mode.gp \
  && pass "--mode key: enhanced subscripts and Greek, title plain" || fail "--mode key: $(grep -e '^set key' -e 'title' keep-mode.gp | tail -4)"
expect 0 "--mode figure, LaTeX" pspec hippo-legs -n 16 --mode -7.5+1i -o keep-mode.tex --quiet
grep -qF 'pseudomode $|v_k|$ at $z = -7.5+1i$ ($\sigma_{\min}$' keep-mode.tex && grep -qF 'eigenvector $|x_k|$ of $\lambda = ' keep-mode.tex \
  && pass "--mode key in LaTeX: math, no bare underscore" || fail "--mode LaTeX key: $(grep -e pseudomode -e eigenvector keep-mode.tex)"
rm -f keep-mode.gp keep-mode.tex keep-mode.pdf
# an eps far below the criss-cross floor (exact plan): a lower bound, said so, exit 0; below a
# computed Schur form's floor: not computed, said so, exit 0 (no single eps ends the run)
expect 0 "--abscissa below the criss-cross floor" pspec hippo-legs -n 8 -eps 1e-30 --abscissa --grid 10 -o low.gp
grep -q 'abscissa >= ' err.txt && grep -q '^# pseudospectral abscissa (eps 1e-30): >= ' low.gp \
  && pass "below the floor: a lower bound" || fail "below the floor: $(cat err.txt)"
expect 0 "--abscissa below the rounding floor" pspec grcar -n 8 -eps 1e-30,1e-2 --abscissa --grid 10 -o low.gp
grep -q '^# pseudospectral abscissa (eps 1e-30): not computed: below 4 n u' low.gp \
  && grep -q '^# pseudospectral abscissa (eps 0.01): [0-9]' low.gp \
  && pass "below the rounding floor: not computed, the others are" || fail "rounding floor: $(grep abscissa low.gp)"
rm -f low.gp
expect 0 "--radius" pspec grcar -n 16 -eps 1e-2 --radius --grid 20 --quiet --format tsv

# Matrix Market from a file and from standard input give the same data
expect 0 "file: matrix" pspec "file:$DATA/sym.mtx" -eps 1e-1 --grid 9 --format tsv --quiet
grep -v '^#' out.txt > f.keep
pspec - -eps 1e-1 --grid 9 --format tsv --quiet < "$DATA/sym.mtx" | grep -v '^#' > g.keep
cmp -s f.keep g.keep && pass "stdin matrix equals file matrix" || fail "stdin matrix differs"
rm -f ./*.keep

# a rectangular m x n file (m > n): sigma_min(z I~ - A), I~ = [I; 0].  For A = [a; b] (2 x 1)
# it is sqrt(|z - a|^2 + |b|^2) exactly, so the eps-pseudospectrum is empty for eps <= |b|
printf '%%%%MatrixMarket matrix array real general\n2 1\n0.3\n-0.7\n' > keep-r21.mtx
expect 0 "rectangular 2 x 1" pspec file:keep-r21.mtx -eps 1 --box -1,1,-1,1 --grid 7 --format tsv
awk '/^[-0-9]/ { n++; w = sqrt(($1 - 0.3)^2 + $2^2 + 0.49); d = $3 - w; if (d < 0) d = -d; if (d > 4e-16 * w) bad = 1 }
     END { exit bad || n != 49 }' out.txt && pass "2 x 1: every grid value is the closed form" || fail "2 x 1: $(grep -v '^#' out.txt | head -3)"
grep -q '^# size: 2 x 1 (rectangular' out.txt && pass "rectangular size recorded" || fail "no size note"
grep -q 'the top 1 x 1 block' err.txt && pass "rectangular summary names the top block" || fail "summary: $(cat err.txt)"
expect 0 "rectangular, empty pseudospectrum" pspec file:keep-r21.mtx -eps 0.5 --grid 20 --format tsv
grep -q 'eps 0.5: no grid point has sigma_min <= eps' err.txt && pass "an empty eps-pseudospectrum is said so" \
  || fail "empty: $(cat err.txt)"
for opt in --abscissa --radius --stability-radius "--mode 0.3" --trace --fov; do
  rm -f keep-r.gp
  expect 2 "rectangular $opt" pspec file:keep-r21.mtx -eps 1 $opt -o keep-r.gp
  grep -q "needs a square matrix; file:keep-r21.mtx is 2 x 1" err.txt && [ ! -e keep-r.gp ] \
    && pass "rectangular $opt refused, no file" || fail "rectangular $opt: $(cat err.txt)"
done
printf '%%%%MatrixMarket matrix array real general\n1 2\n1\n2\n' > keep-r12.mtx
expect 1 "fewer rows than columns" pspec file:keep-r12.mtx
grep -q 'matrix is 1 x 2, a square matrix is needed (or one with more rows than columns)' err.txt \
  && pass "1 x 2 refused" || fail "1 x 2: $(cat err.txt)"
rm -f keep-r21.mtx keep-r12.mtx

# --sparse K: Arnoldi's H~ in A's place.  With K = n the projection is A itself (V unitary):
# every grid value the dense one, within both errors and the measured slack of the bound
expect 0 "sparse, K = n" pspec grcar -n 20 --sparse 20 --box -1,3,-3,3 --grid 15 -eps 1e-2 --format tsv
grep -q '^# shown: H~.s values, upper bounds on sigma_min(zI - A) to within' out.txt && pass "sparse: the bound recorded" \
  || fail "sparse: no bound note"
slack=$(sed -n 's/^# shown: .* to within \([^;]*\);.*/\1/p' out.txt)
grep -v '^#' out.txt > keep-s.tsv
pspec grcar -n 20 --box -1,3,-3,3 --grid 15 -eps 1e-2 --format tsv --quiet | grep -v '^#' > keep-d.tsv
paste keep-s.tsv keep-d.tsv | awk -v s="$slack" 'NF == 8 { n++; d = $3 - $7; if (d < 0) d = -d; if (d > $4 + $8 + s) bad = 1 }
  END { exit bad || n != 225 }' && pass "sparse K = n: the dense values" || fail "sparse K = n: $(paste keep-s.tsv keep-d.tsv | head -3)"
# K < n on convdiff (n = 625): H~'s sigma_min bounds A's from above at every point (A's by the
# dense Schur form), and the sparse LU's value at a point is the dense one
expect 0 "sparse convdiff" pspec convdiff -n 625 --sparse 40 -eps 1e-2 --box -60,5,-20,20 --grid 15 --format tsv
slack=$(sed -n 's/^# shown: .* to within \([^;]*\);.*/\1/p' out.txt)
grep -v '^#' out.txt > keep-s.tsv
pspec convdiff -n 625 -eps 1e-2 --box -60,5,-20,20 --grid 15 --format tsv --quiet | grep -v '^#' > keep-d.tsv
paste keep-s.tsv keep-d.tsv | awk -v s="$slack" 'NF == 8 { n++; if ($3 + $4 + s < $7 - $8) bad = 1; if ($3 - $7 > 1e-3) loose++ }
  END { exit bad || n != 225 || loose == 0 }' && pass "sparse: H~'s sigma_min >= A's everywhere (and not equal)" \
  || fail "sparse: the projection fell below A's"
expect 0 "sparse point" pspec convdiff -n 625 --sparse 40 -eps 1e-2 --sparse-point -10 --grid 10 -o keep-p.gp
lu=$(sed -n 's/.*at z = -10+0i: sigma_min(zI - A) = \([^ ]*\) (sparse LU.*/\1/p' err.txt)
pspec convdiff -n 625 -eps 1e-2 --box -10,-9,0,1 --grid 2 --format tsv --quiet > keep-d.tsv
awk -v lu="$lu" '$1 == -10 && $2 == 0 { d = lu - $3; if (d < 0) d = -d; found = 1; if (d > 625 * 1.2e-16 * 2000 + $4) bad = 1 }
  END { exit bad || !found || lu == "" }' keep-d.tsv && pass "sparse LU: the dense value at -10" || fail "sparse LU '$lu': $(cat keep-d.tsv | grep '^-10 0')"
grep -q 'an upper bound, as it must be' err.txt && pass "sparse point: the projection above it" || fail "sparse point: $(cat err.txt)"
grep -q "eigenvalues of A (exact)" keep-p.gp && grep -q "Ritz values" keep-p.gp && pass "convdiff figure: exact eigenvalues and Ritz values" \
  || fail "convdiff figure: no exact eigenvalues or Ritz values"
# --save writes H~; pspec file:H~ gives the same values, to the bit
expect 0 "sparse save" pspec convdiff -n 625 --sparse 30 -eps 1e-2 --grid 9 --box -60,5,-20,20 --format tsv --save keep-h.mtx --quiet
grep -v '^#' out.txt > keep-s.tsv
head -n 2 keep-h.mtx | tail -n 1 | grep -qx '31 30' && pass "sparse save: a 31 x 30 file" || fail "sparse save: $(head -n 2 keep-h.mtx)"
pspec file:keep-h.mtx -eps 1e-2 --grid 9 --box -60,5,-20,20 --format tsv --quiet | grep -v '^#' > keep-d.tsv
cmp -s keep-s.tsv keep-d.tsv && pass "sparse save: pspec file:H~ gives the same grid" || fail "sparse save: the grids differ"
# a sparse coordinate file (and standard input) as A
printf '%%%%MatrixMarket matrix coordinate real general\n3 3 4\n1 1 1\n2 2 2\n3 3 3\n1 3 5\n' > keep-c.mtx
expect 0 "sparse file" pspec file:keep-c.mtx --sparse 3 -eps 1e-1 --grid 5 --box 0,4,-1,1 --format tsv --quiet
grep -v '^#' out.txt > keep-s.tsv
pspec - --sparse 3 -eps 1e-1 --grid 5 --box 0,4,-1,1 --format tsv --quiet < keep-c.mtx | grep -v '^#' > keep-d.tsv
cmp -s keep-s.tsv keep-d.tsv && pass "sparse: stdin equals the file" || fail "sparse: stdin differs"
# what --sparse refuses: options for a square matrix, and nonsense
for opt in --abscissa --radius --stability-radius "--mode 0.3" --trace --fov; do
  rm -f keep-r.gp
  expect 2 "sparse $opt" pspec grcar -n 20 --sparse 10 $opt -o keep-r.gp
  grep -q "needs a square matrix; with --sparse the projection H~ is (K+1) x K" err.txt && [ ! -e keep-r.gp ] \
    && pass "sparse $opt refused, no file" || fail "sparse $opt: $(cat err.txt)"
done
expect 2 "--save without --sparse" pspec grcar -n 20 --save keep-x.mtx
expect 2 "--sparse-point without --sparse" pspec grcar -n 20 --sparse-point 1
usage_error "--sparse-point not a point" "1+" pspec grcar -n 20 --sparse 5 --sparse-point 1+
usage_error "--sparse 0" "0" pspec grcar -n 20 --sparse 0
expect 2 "--sparse beyond n" pspec grcar -n 20 --sparse 21
expect 2 "--sparse --relative" pspec grcar -n 20 --sparse 5 --relative
expect 2 "convdiff n not a square" pspec convdiff -n 600 --sparse 5
expect 2 "convdiff m below 25" pspec convdiff -n 576 --sparse 5
expect 2 "convdiff dense too large" pspec convdiff -n 10000
expect 2 "--save onto -o" pspec convdiff --sparse 5 -o keep-x.tsv --save keep-x.tsv
expect 1 "sparse: a rectangular file" pspec file:keep-h.mtx --sparse 5
[ ! -e keep-x.mtx ] && [ ! -e keep-x.tsv ] && pass "sparse refusals leave no file" || fail "sparse refusals left a file"
rm -f keep-s.tsv keep-d.tsv keep-p.gp keep-h.mtx keep-c.mtx

# images, when gnuplot is here
if command -v gnuplot >/dev/null 2>&1; then
  for ext in png svg pdf tex; do
    expect 0 "image .$ext" pspec grcar -n 20 -eps 1e-1,1e-2 --grid 30 -o "fig.$ext" --quiet
  done
  head -c 4 fig.png | od -c | head -1 | grep -q 'P   N   G' && pass "png magic" || fail "png magic"
  grep -q '<svg' fig.svg && pass "svg content" || fail "svg content"
  head -c 4 fig.pdf | grep -q '%PDF' && pass "pdf magic" || fail "pdf magic"
  grep -q 'includegraphics' fig.tex && pass "tex includes its pdf" || fail "tex content"
  pspec hippo-legs -n 8 -eps 1e-2 --grid 20 --quiet | GNUTERM=dumb gnuplot -p > /dev/null 2>gp.err \
    && [ ! -s gp.err ] && pass "script on stdout runs through gnuplot" || fail "gnuplot on stdout script: $(head -2 gp.err)"
  rm -f fig.* gp.err
else
  echo "SKIP: gnuplot not installed: image tests"
fi

# --- long runs are announced ------------------------------------------------------------
# An n x n coordinate file with one entry is a few bytes, and O(n^3) work: before it, one
# line with n, the memory and a rough time, when the estimate exceeds PTD_NOTICE_SECONDS
# (default 60 s; a low value here stands in for a large n, which make check does not run).
for m in 200 400; do printf '%%%%MatrixMarket matrix coordinate real general\n%d %d 1\n1 1 2.5\n' $m $m > "keep-one$m.mtx"; done
notice='^pspec: n = [0-9]*: about [0-9.e+-]* \(s\|min\|h\|days\) of computing and [0-9.e+-]* [kMGT]B of memory ahead (a rough estimate)$'
PTD_NOTICE_SECONDS=0.0001 pspec file:keep-one400.mtx -eps 1e-2 --grid 3 --box -1,1,-1,1 -o keep-one.tsv 2>err.txt
head -1 err.txt | grep -q "$notice" && head -1 err.txt | grep -q 'n = 400: .* 12.8 MB of memory' \
  && pass "the notice before O(n^3) work: n, memory (5 n^2 complex), time" || fail "notice: $(head -1 err.txt)"
t400=$(head -1 err.txt | sed 's/.*about \([0-9.e+-]*\) s.*/\1/')
PTD_NOTICE_SECONDS=0.0001 pspec file:keep-one200.mtx -eps 1e-2 --grid 3 --box -1,1,-1,1 -o keep-one.tsv 2>err.txt
t200=$(head -1 err.txt | sed 's/.*about \([0-9.e+-]*\) s.*/\1/')
# (10 n^3 for the exact plan of a triangular matrix dominates the 9 points of n^2: 6 to 8)
awk -v a="$t400" -v b="$t200" 'BEGIN { r = a / b; exit !(r > 6 && r < 8.1) }' \
  && pass "the estimate grows like n^3 ($t200 s, $t400 s)" || fail "estimate scaling: $t200 s at n = 200, $t400 s at n = 400"
PTD_NOTICE_SECONDS=0.0001 pspec file:keep-one400.mtx -eps 1e-2 --grid 3 --box -1,1,-1,1 -o keep-one.tsv --quiet 2>err.txt
[ ! -s err.txt ] && pass "--quiet silences the notice" || fail "--quiet notice: $(cat err.txt)"
pspec file:keep-one400.mtx -eps 1e-2 --grid 3 --box -1,1,-1,1 -o keep-one.tsv 2>err.txt
! grep -q 'ahead' err.txt && pass "no notice for a short run" || fail "notice in a short run: $(head -1 err.txt)"
pspec hippo-legs -n 64 -eps 1e-4 -o keep-one.tsv 2>err.txt
! grep -q 'ahead' err.txt && pass "no notice for the first example" || fail "notice in the first example: $(head -1 err.txt)"
rm -f keep-one*

# --- bad input: usage errors, exit 2 -----------------------------------------------------
expect 2 "unknown matrix" pspec no-such-matrix
grep -q "unknown matrix 'no-such-matrix'" err.txt && grep -q 'hippo-legs' err.txt && pass "unknown matrix names the choices" || fail "unknown matrix message"
expect 2 "no matrix" pspec
expect 2 "two matrices" pspec grcar kahan
expect 2 "n = 0" pspec grcar -n 0
expect 2 "n negative" pspec grcar -n -5
expect 2 "n not a number" pspec grcar -n abc
expect 2 "n absurdly large" pspec grcar -n 100000000
expect 2 "n overflowing" pspec grcar -n 99999999999999999999999
expect 2 "odd n for fout" pspec hippo-fout -n 7
expect 2 "eps NaN" pspec grcar -eps nan
expect 2 "eps negative" pspec grcar -eps -1e-3
expect 2 "eps zero" pspec grcar -eps 0
expect 2 "eps infinite" pspec grcar -eps inf
expect 2 "eps list with a hole" pspec grcar -eps 1e-2,,x
expect 2 "eps missing value" pspec grcar -eps
expect 2 "grid too small" pspec grcar --grid 1
expect 2 "grid malformed" pspec grcar --grid 10x
expect 2 "box reversed" pspec grcar --box 1,-1,0,1
expect 2 "box three numbers" pspec grcar --box 1,2,3
expect 2 "box with nan" pspec grcar --box nan,1,0,1
expect 2 "unknown method" pspec grcar --method qr
expect 2 "unknown format" pspec grcar --format json
expect 2 "unknown option" pspec grcar --frobnicate
expect 2 "threads zero" pspec grcar --threads 0
expect 2 "unknown output extension" pspec grcar -o fig.jpg
expect 2 "tsv as an image" pspec grcar --format tsv -o fig.png
# values that cannot work are refused while parsing, each message quoting the whole value
usage_error "eps with an empty item" "1e-2,,1e-3" pspec grcar -n 8 -eps 1e-2,,1e-3 -o x.tsv
usage_error "eps with a trailing comma" "1e-2," pspec grcar -n 8 -eps 1e-2, -o x.tsv
usage_error "eps with a leading comma" ",1e-2" pspec grcar -n 8 -eps ,1e-2 -o x.tsv
usage_error "eps of only a comma" "," pspec grcar -n 8 -eps , -o x.tsv
usage_error "eps with a bad item" "1e-2,x" pspec grcar -n 8 -eps 1e-2,x -o x.tsv
usage_error "eps above 1e150" "1e308" pspec grcar -n 8 -eps 1e308 -o x.tsv
grep -q '(0, 1e+150]' err.txt && pass "the eps message states the range" || fail "eps range message: $(cat err.txt)"
usage_error "eps underflowing" "1e-320" pspec grcar -n 8 -eps 1e-320 -o x.tsv
expect 2 "relative eps above 1e150 times ||A||" pspec grcar -n 8 -eps 1e150 --relative -o x.tsv
printf '%%%%MatrixMarket matrix coordinate real general\n3 3 0\n' > keep-zero.mtx
expect 2 "relative eps of a zero matrix" pspec file:keep-zero.mtx -eps 1e-2 --relative -o x.tsv
rm -f keep-zero.mtx
expect 0 "eps 1e150 works" pspec grcar -n 8 -eps 1e150 --grid 5 --abscissa --radius --format tsv --quiet
usage_error "box wider than the doubles" "-1e308,1e308,-1,1" pspec grcar -n 8 --box -1e308,1e308,-1,1 -o x.tsv
usage_error "box taller than the doubles" "0,1,-1e308,1e308" pspec grcar -n 8 --box 0,1,-1e308,1e308 -o x.tsv
usage_error "box with a trailing comma" "-1,1,-1,1," pspec grcar -n 8 --box -1,1,-1,1, -o x.tsv
usage_error "box with an empty item" "-1,,1,-1,1" pspec grcar -n 8 --box -1,,1,-1,1 -o x.tsv
usage_error "box narrower than its grid" "1,1.000000000000001,0,1" pspec grcar -n 8 --box 1,1.000000000000001,0,1 -o x.tsv
usage_error "box lower than its grid" "0,1,0,1e-305" pspec grcar -n 8 --box 0,1,0,1e-305 --grid 10x4000 -o x.tsv
expect 0 "a narrow box with a coarse grid works" pspec grcar -n 8 --box 1,1.000000000000001,0,1 --grid 3 --format tsv --quiet
expect 0 "a box of +-1e307 works" pspec grcar -n 8 --box -1e307,1e307,-1,1 --grid 5 --format tsv --quiet
! grep -qi -e nan -e inf out.txt && pass "no nan or inf at +-1e307" || fail "nan or inf at +-1e307"
usage_error "grid NXx" "10x" pspec grcar --grid 10x -o x.tsv
usage_error "grid xNY" "x10" pspec grcar --grid x10 -o x.tsv
usage_error "grid with three sides" "10x10x10" pspec grcar --grid 10x10x10 -o x.tsv
usage_error "grid too large" "5000" pspec grcar --grid 5000 -o x.tsv
no_leftovers "usage errors"

# --- bad input: failures, exit 1 ---------------------------------------------------------
for f in "$DATA"/bad-*.mtx; do
  b=$(basename "$f" .mtx)
  expect 1 "malformed $b" pspec "file:$f" -o "$b.png"
done
grep -q ':[0-9]' err.txt && pass "malformed file message has a line number" || fail "line number: $(cat err.txt)"
expect 1 "missing file" pspec file:/nonexistent/a.mtx
expect 1 "unwritable directory" pspec grcar -n 10 -o /nonexistent/dir/fig.png
mkdir taken.gp
expect 1 "output path is a directory" pspec grcar -n 10 --grid 10 -o taken.gp
rmdir taken.gp
expect 1 "missing gnuplot" env PTD_GNUPLOT=/nonexistent/gnuplot pspec grcar -n 10 --grid 10 -o fig.png
grep -q 'gnuplot' err.txt && pass "missing gnuplot is named" || fail "missing gnuplot message"
# a PATH with what the libtool wrapper needs, but no gnuplot
mkdir keep-bin
for c in sh ls sed cat rm mkdir dirname basename expr test printf uname; do
  p=$(command -v "$c" 2>/dev/null) && ln -s "$p" "keep-bin/$c"
done
expect 1 "gnuplot not on PATH" env PATH="$TMP/keep-bin" "$(command -v pspec)" grcar -n 10 --grid 10 -o fig.svg
if command -v gnuplot >/dev/null 2>&1; then
  printf '#!/bin/sh\necho "broken gnuplot" >&2\nexit 3\n' > keep-fakegp; chmod +x keep-fakegp
  expect 1 "gnuplot failing" env PTD_GNUPLOT="$TMP/keep-fakegp" pspec grcar -n 10 --grid 10 -o fig.pdf
fi
no_leftovers "failures"

finish
