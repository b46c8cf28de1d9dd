#!/bin/sh
# trace.sh - pspec draws every component of every eps-level set: the default figure traces
# the components a grid misses, --trace draws traced curves alone (no grid), and the traced
# data (--trace --format tsv) hold closed curves whose every vertex has sigma_min = eps.
. "$TOP_SRCDIR/tests/lib.sh"
cd "$TMP"

# --- a 4 x 4 Matrix Market file at eps 1e-6: components far below the grid's spacing -------
cat > m4.mtx <<'EOF'
%%MatrixMarket matrix coordinate real general
4 4 8
1 1 1
1 2 2
2 1 0.5
2 2 2
2 3 3
3 3 3
3 4 4
4 4 4
EOF
pspec file:m4.mtx -eps 1e-6 -o m4.gp 2>m4.txt
grep -q '4 of 4 eigenvalues lie in no grid contour' m4.txt && pass "4 x 4 at 1e-6: the grid misses all four" \
  || fail "the grid's count: $(cat m4.txt)"
grep -q 'traced for the figure: 4 components: 4 with 1 eigenvalue' m4.txt \
  && pass "4 x 4 at 1e-6: four components traced" || fail "traced: $(cat m4.txt)"
# the figure draws them: four closed curves in $traced, each circled in $tiny
awk '/^\$traced << EOD/ { on = 1; next } on && /^EOD/ { on = 0 } on && NF == 0 { curves++ } END { exit curves != 4 }' m4.gp \
  && awk '/^\$tiny << EOD/ { on = 1; next } on && /^EOD/ { on = 0 } on { k++ } END { exit k != 4 }' m4.gp \
  && grep -q '\$traced every :::0 using 1:2 with lines' m4.gp \
  && pass "4 x 4 at 1e-6: the frame is not empty (four curves, circled)" || fail "the figure: $(grep -n 'traced\|tiny' m4.gp | head)"

# --- kahan: every eigenvalue the grid misses is in a traced, closed component (which may hold
# others the grid does draw: at 1e-8 on this grid one of the 25 in the large component) ----
pspec kahan -n 40 -eps 1e-2,1e-4,1e-6,1e-8 --grid 80 -o k.gp 2>k.txt
ok=1
for e in 0.0001 1e-06 1e-08; do
  miss=$(sed -n "s/^# eigenvalues in no grid contour (eps $e): \([0-9]*\) of 40/\1/p" k.gp)
  line=$(grep "^# traced (eps $e): " k.gp || true)
  tot=$(sed -n "/^  eps $e:/,/traced for the figure/p" k.txt | sed -n 's/.*traced for the figure: [0-9]* components\{0,1\}: //p' \
        | tr ',' '\n' | sed -n 's/^ *\([0-9]*\) with \([0-9]*\) eigenvalues\{0,1\}.*/\1 \2/p' | awk '{ s += $1 * $2 } END { print s + 0 }')
  if [ -z "$miss" ] || [ "$miss" -eq 0 ] || [ "$tot" -lt "$miss" ] || ! echo "$line" | grep -q ' 0 open, 0 eigenvalues reached by none'; then
    ok=0; fail "kahan eps $e: grid misses ${miss:-?}, traced components hold $tot ($line)"
  fi
done
[ "$ok" -eq 1 ] && pass "kahan: every eigenvalue the grid misses is in a traced closed component"

# --- --trace: no grid, every component; the data --------------------------------------
pspec kahan -n 40 -eps 1e-2,1e-8 --trace -o kt.gp 2>kt.txt
grep -q '^  eps 1e-08: traced 16 components: 1 with 25 eigenvalues, 15 with 1 eigenvalue' kt.txt \
  && pass "--trace: kahan at 1e-8 has 16 components" || fail "--trace summary: $(cat kt.txt)"
! grep -q '^\$sigma' kt.gp && grep -q '^# no grid: traced level curves' kt.gp && grep -q '\$traced every :::[0-9:]* using 1:2:3 with lines' kt.gp \
  && pass "--trace: no grid in the script, the traced curves plotted" || fail "--trace script: $(grep -n 'plot\|sigma' kt.gp | head)"
pspec grcar -n 32 -eps 1e-1,1e-3 --trace --format tsv --quiet > g.tsv
grep -q '^# columns: eps curve x y sigma_min err$' g.tsv && pass "--trace tsv: the columns" || fail "tsv header: $(grep columns g.tsv)"
# every vertex: |sigma_min - eps| <= 1e-10 eps + 4 err; every curve closed (first = last)
awk '/^#/ { next } NF == 0 { if (n && (fx != lx || fy != ly)) bad = "open curve " c; n = 0; next }
     NF != 6 { bad = "fields: " $0; next }
     { d = $5 - $1; if (d < 0) d = -d; if (d > 1e-10 * $1 + 4 * $6 + 1e-15 * $1) bad = "vertex off the level: " $0
       if (n == 0) { fx = $3; fy = $4; c = $2 } lx = $3; ly = $4; n++; rows++ }
     END { if (bad != "" || rows < 100) { print bad, rows; exit 1 } }' g.tsv \
  && pass "--trace tsv: closed curves, every vertex on the level" || fail "tsv data: $(awk '/^#/ {next} {print; exit}' g.tsv)"
if command -v "${GNUPLOT:-gnuplot}" >/dev/null 2>&1; then
  pspec kahan -n 40 -eps 1e-2,1e-4,1e-6,1e-8 --trace -o kt.png --quiet && [ -s kt.png ] \
    && pass "--trace: a PNG" || fail "--trace png"
fi
# an eps below the rounding floor of a computed Schur form: said, not traced, the run goes on
pspec grcar -n 32 -eps 1e-1,1e-20 --trace -o f.gp 2>f.txt && grep -q 'eps 1e-20: below the rounding floor.*not traced' f.txt \
  && pass "--trace: an eps below the floor is said and skipped" || fail "floor: $(cat f.txt)"
finish
