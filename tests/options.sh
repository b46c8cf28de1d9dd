#!/bin/sh
# options.sh - the options every tool shares (ptdkit(7)): one table, one meaning.  Each tool
# takes what the table in ptdkit(7) says and refuses the rest; --sizes, --threads, --seed,
# -eps and --relative mean the same everywhere; a thread count never changes a number.
. "$TOP_SRCDIR/tests/lib.sh"
cd "$TMP"
TOOLS="pspec eigcond transient ptd-sweep tf-sweep ssm-train"

# --- the table of ptdkit(7) is what the tools take ------------------------------------------
table() { sed -n '/^tool  *-n/,/^\.ft R/p' "$TOP_SRCDIR/man/ptdkit.7" | sed '$d'; }
header=$(table | head -1)
[ -n "$header" ] && pass "ptdkit(7) has the table" || fail "ptdkit(7): no table of shared options"
for tool in $TOOLS; do
  row=$(table | awk -v t="$tool" '$1 == t')
  [ -n "$row" ] || { fail "$tool: no row in ptdkit(7)"; continue; }
  "$tool" --help > keep-help.txt
  bad=""
  for opt in -n --sizes -eps --relative --points --grid --seed --threads; do
    # the column of the option in the header, and whether the row has an x there
    col=$(printf '%s\n' "$header" | awk -v o="$opt" '{ print index($0, " " o " ") + 1 }')
    [ "$opt" = "--threads" ] && col=$(printf '%s\n' "$header" | awk '{ print index($0, " --threads") + 1 }')
    mark=$(printf '%s\n' "$row" | cut -c"$col")
    listed=no
    sed -n "/^Shared options/,/^$/p" keep-help.txt | grep -qE -- "^  $opt( |,|\$)" && listed=yes
    if [ "$mark" = x ] && [ "$listed" = no ]; then bad="$bad $opt(in the table, not in --help)"; fi
    if [ "$mark" != x ] && [ "$listed" = yes ]; then bad="$bad $opt(in --help, not in the table)"; fi
  done
  [ -z "$bad" ] && pass "$tool: ptdkit(7)'s row is its --help" || fail "$tool:$bad"
  grep -q "^Shared options (the same meaning in every ptdkit tool):$" keep-help.txt \
    && pass "$tool: --help has the shared options" || fail "$tool: no shared options in --help"
  expect 0 "$tool --version" "$tool" --version
  grep -q "^$tool (ptdkit) [0-9]" out.txt && pass "$tool: version line" || fail "$tool version: $(cat out.txt)"
done

# an option a tool does not take is refused, not ignored
expect 2 "transient refuses -eps" transient grcar -n 8 -eps 1e-2 -o x.tsv
grep -q "'-eps'" err.txt && pass "the message names the option" || fail "refusal message: $(cat err.txt)"
expect 2 "eigcond refuses --points" eigcond grcar -n 8 --points 10 -o x.tsv
expect 2 "ssm-train refuses -n" ssm-train -n 8 -o x.tsv
expect 2 "pspec refuses --sizes" pspec grcar --sizes 4:8 -o x.tsv
expect 2 "tf-sweep refuses --grid" tf-sweep hippo-legs --grid 100 -o x.tsv
grep -q -- '--points' err.txt && pass "tf-sweep --grid points to --points" || fail "tf-sweep --grid: $(cat err.txt)"
# a shared option's name is not an abbreviation of a tool's own option: ptd-sweep takes no
# -eps, and getopt would otherwise read "-eps 0.1" as --eps-range 0.1
for form in "-eps 0.1" "--eps 0.1" "-eps=0.1" "-eps"; do
  v=${form%% *}; usage_error "ptd-sweep refuses $form" "${v%%=*}" ptd-sweep hippo-legs -n 4 $form -o x.tsv
  grep -q -- "--eps-range, write it in full" err.txt || fail "ptd-sweep $form: $(cat err.txt)"
done
usage_error "eigcond refuses -points (not its own --precision, not a prefix)" "-points" eigcond grcar -n 8 -points 3 -o x.tsv
expect 0 "ptd-sweep -eps-range in full" ptd-sweep hippo-legs -n 4 -eps-range 1e-3:1e-2 --points 2 --method random -o x.tsv
rm -f x.tsv
for tool in $TOOLS; do
  expect 2 "$tool --threads 0" "$tool" grcar --threads 0 -o x.tsv
  expect 2 "$tool --seed x" "$tool" grcar --seed x -o x.tsv
done
no_leftovers "refused options"

# --- --sizes: A:B doubles, A:B:S steps, A:B:xF multiplies (round(A F^k), repeats dropped) ---
sizes() { eigcond grcar --sizes "$1" --precision off --format tsv --quiet | awk '/^[0-9]/ { printf "%s ", $1 }'; }
got=$(sizes 4:32); [ "$got" = "4 8 16 32 " ] && pass "--sizes 4:32" || fail "--sizes 4:32: $got"
got=$(sizes 4:30); [ "$got" = "4 8 16 " ] && pass "--sizes 4:30 stops below B" || fail "--sizes 4:30: $got"
got=$(sizes 4:16:4); [ "$got" = "4 8 12 16 " ] && pass "--sizes 4:16:4" || fail "--sizes 4:16:4: $got"
got=$(sizes 5:5); [ "$got" = "5 " ] && pass "--sizes 5:5" || fail "--sizes 5:5: $got"
# the oracle of A:B:xF computed here, independently: round(A F^k) while <= B, repeats dropped
for spec in 4:32:x1.5 4:40:x1.1 3:100:x3 2:9:x1.01; do
  want=$(echo "$spec" | awk -F'[:x]' '{ a = $1; b = $2; f = $4; last = 0;
          for (x = a; x <= b + 0.5; x *= f) { m = int(x + 0.5); if (m > b) break; if (m != last) printf "%d ", m; last = m } }')
  got=$(sizes "$spec")
  [ "$got" = "$want" ] && pass "--sizes $spec: $got" || fail "--sizes $spec: got '$got', want '$want'"
done
# the same sizes in tf-sweep
got=$(tf-sweep hippo-legs --sizes 4:16:x2 --models full,s4d --points 50 --format tsv --quiet | awk '/^[0-9]/ { printf "%s ", $1 }')
[ "$got" = "4 8 16 " ] && pass "tf-sweep --sizes 4:16:x2" || fail "tf-sweep --sizes 4:16:x2: $got"
usage_error "--sizes reversed" "32:4" eigcond grcar --sizes 32:4 -o x.tsv
usage_error "--sizes factor 1" "4:32:x1" eigcond grcar --sizes 4:32:x1 -o x.tsv
usage_error "--sizes factor below 1" "4:32:x0.5" eigcond grcar --sizes 4:32:x0.5 -o x.tsv
usage_error "--sizes step 0" "4:32:0" eigcond grcar --sizes 4:32:0 -o x.tsv
usage_error "--sizes one number" "4" eigcond grcar --sizes 4 -o x.tsv
usage_error "--sizes four parts" "4:8:2:1" eigcond grcar --sizes 4:8:2:1 -o x.tsv
usage_error "--sizes beyond the tool's limit" "4:5000" eigcond grcar --sizes 4:5000 -o x.tsv
usage_error "--sizes too many" "1:1000:1" eigcond grcar --sizes 1:1000:1 -o x.tsv
usage_error "tf-sweep --sizes too many" "2:200:1" tf-sweep hippo-legs --sizes 2:200:1 -o x.tsv
no_leftovers "--sizes errors"

# --- --threads: the same bytes with one thread and with three ---------------------------------
same_threads() {
  name=$1; shift
  "$@" --threads 1 --format tsv --quiet | grep -v '^#' > t1.txt
  "$@" --threads 3 --format tsv --quiet | grep -v '^#' > t3.txt
  if [ ! -s t1.txt ]; then fail "$name: no data"
  elif cmp -s t1.txt t3.txt; then pass "$name: 1 and 3 threads, the same bytes"
  else fail "$name: the thread count changes the numbers: $(diff t1.txt t3.txt | head -3)"; fi
}
same_threads "pspec" pspec grcar -n 24 -eps 1e-2,1e-3 --grid 17 --abscissa
same_threads "eigcond sweep" eigcond hippo-legs --sizes 8:48:x2 --precision off
same_threads "transient" transient grcar -n 24 --points 30
same_threads "ptd-sweep random" ptd-sweep hippo-legs -n 12 --method random --points 3 --trials 4
same_threads "tf-sweep curves" tf-sweep hippo-legs -n 12 --models full,s4d,random --points 200
same_threads "ssm-train" ssm-train --task listops --min-len 10 --max-len 30 --max-depth 3 --width 6 --state 4 \
  --layers 1 --train-subset 48 --test-subset 24 --val 16 --epochs 1 --batch 20

# --- --seed: the same seed the same numbers, another seed others -----------------------------
transient ginibre -n 10 --points 20 --seed 5 --format tsv --quiet | grep -v '^#' > s5a.txt
transient ginibre -n 10 --points 20 --seed 5 --format tsv --quiet | grep -v '^#' > s5b.txt
transient ginibre -n 10 --points 20 --seed 6 --format tsv --quiet | grep -v '^#' > s6.txt
cmp -s s5a.txt s5b.txt && ! cmp -s s5a.txt s6.txt && pass "--seed: the same seed repeats, another differs" \
  || fail "--seed does not decide the random matrix"
rm -f ./*.txt

# --- -eps is absolute; --relative multiplies by ||A||_2 ----------------------------------------
# pspec: the contour levels are eps ||A||_2, the title shows the eps given, not 17 digits of it
pspec grcar -n 32 -eps 1e-3,1e-2 --relative --grid 20 -o keep-rel.gp --quiet
nrm=$(sed -n 's/^# norm2: //p' keep-rel.gp)
awk -v n="$nrm" '/^# eps: [0-9]/ { d1 = $3 / (1e-3 * n) - 1; d2 = $4 / (1e-2 * n) - 1;
     if (d1 < 0) d1 = -d1; if (d2 < 0) d2 = -d2; ok = d1 < 1e-9 && d2 < 1e-9 } END { exit !ok }' keep-rel.gp \
  && pass "pspec --relative: levels eps ||A||_2 (||A||_2 = $nrm)" || fail "pspec --relative levels: $(grep '^# eps' keep-rel.gp)"
grep -q "^set title 'grcar, n = 32: ε = 1e-03, 1e-02 (× ||A||₂)'" keep-rel.gp \
  && pass "pspec --relative: the title shows the eps given" || fail "title: $(grep '^set title' keep-rel.gp)"
grep -q "^set cblabel 'ε/||A||₂'" keep-rel.gp && pass "the colour bar is relative too" || fail "cblabel: $(grep cblabel keep-rel.gp)"
pspec grcar -n 32 -eps 1e-2 --grid 20 -o keep-abs.gp --quiet
grep -q '^# eps: 0.01$' keep-abs.gp && grep -q "^set title 'grcar, n = 32: ε = 0.01'" keep-abs.gp \
  && pass "pspec: -eps absolute as given" || fail "absolute eps: $(grep -e '^# eps' -e '^set title' keep-abs.gp)"
pspec grcar -n 32 -eps 1e-2 --relative --grid 20 -o keep-abs.gp 2>err.txt
grep -q '^  eps 0.01 ||A||_2 = 0.0322:' err.txt && pass "the summary: the eps given and its absolute value" \
  || fail "summary: $(grep eps err.txt)"
# ptd-sweep: --eps-range absolute; its rows are ||E||_2/||A||_2, so A/||A||_2 to B/||A||_2
ptd-sweep grcar -n 12 --method random --points 2 --trials 1 --eps-range 1e-3:1e-1 --format tsv --quiet > keep-ps.tsv
ptd-sweep grcar -n 12 --method random --points 2 --trials 1 --eps-range 1e-3:1e-1 --relative --format tsv --quiet > keep-pr.tsv
pnrm=$(pspec grcar -n 12 -eps 1e-2 --grid 5 --format tsv --quiet | sed -n 's/^# norm2: //p')
awk -v n="$pnrm" '/^[0-9]/ { r[k++] = $1 } END { d = r[0] * n / 1e-3 - 1; e = r[1] * n / 1e-1 - 1;
     if (d < 0) d = -d; if (e < 0) e = -e; exit !(k == 2 && d < 1e-9 && e < 1e-9) }' keep-ps.tsv \
  && pass "ptd-sweep --eps-range absolute: rows at A/||A||_2, B/||A||_2" || fail "ptd-sweep absolute: $(grep '^[0-9]' keep-ps.tsv | cut -f1)"
awk '/^[0-9]/ { r[k++] = $1 } END { exit !(k == 2 && r[0] == 1e-3 && r[1] == 0.1) }' keep-pr.tsv \
  && pass "ptd-sweep --relative: rows at A, B" || fail "ptd-sweep relative: $(grep '^[0-9]' keep-pr.tsv | cut -f1)"
# tf-sweep: -eps absolute is ||E||_2 itself: norm_E_ptd (column 6) never exceeds it, and
# with --relative rel_E_ptd (column 5) does not exceed eps
tf-sweep hippo-legs --sizes 8:16 --models full,ptd --steps 30 -eps 0.5 --points 100 --format tsv --quiet > keep-tf.tsv
awk '/^[0-9]/ { k++; if (!($6 <= 0.5 * (1 + 1e-12))) bad = 1 } END { exit bad || k != 2 }' keep-tf.tsv \
  && pass "tf-sweep -eps 0.5: ||E||_2 <= 0.5 at every n" || fail "tf-sweep absolute eps: $(grep '^[0-9]' keep-tf.tsv)"
tf-sweep hippo-legs --sizes 8:16 --models full,ptd --steps 30 -eps 0.01 --relative --points 100 --format tsv --quiet > keep-tf.tsv
awk '/^[0-9]/ { k++; if (!($5 <= 0.01 * (1 + 1e-12))) bad = 1 } END { exit bad || k != 2 }' keep-tf.tsv \
  && pass "tf-sweep --relative: ||E||_2/||A||_2 <= 0.01 at every n" || fail "tf-sweep relative eps: $(grep '^[0-9]' keep-tf.tsv)"
usage_error "tf-sweep takes one eps" "0.1,0.2" tf-sweep hippo-legs -eps 0.1,0.2 -o x.tsv
rm -f keep-*
no_leftovers "eps"
# --- progress: a line per step with the elapsed time when stderr is a file ---------------------
# (PTD_PROGRESS_SECONDS=0 stands in for a long run: the first line at once, then at most one
# every 10 s, and one at the end)
PTD_PROGRESS_SECONDS=0 eigcond hippo-legs --sizes 4:32 --precision off -o keep-p.tsv 2>err.txt
grep -qE '^eigcond: sizes: [1-4]/4 \([0-9]+%\), [0-9]+ s elapsed, about [0-9]+ s left$' err.txt \
  && grep -qE '^eigcond: sizes: 4/4 done, [0-9]+ s elapsed$' err.txt \
  && pass "progress lines in a file: step, elapsed, left, done" || fail "progress: $(head -3 err.txt)"
PTD_PROGRESS_SECONDS=0 eigcond hippo-legs --sizes 4:32 --precision off -o keep-p.tsv --quiet 2>err.txt
[ ! -s err.txt ] && pass "--quiet: no progress" || fail "--quiet progress: $(cat err.txt)"
eigcond hippo-legs --sizes 4:32 --precision off -o keep-p.tsv 2>err.txt
! grep -q 'elapsed' err.txt && pass "no progress for a short run" || fail "progress in a short run: $(cat err.txt)"
# tf-sweep's moves within a size (the optimiser's steps): percentages, increasing, then done
PTD_PROGRESS_SECONDS=0 tf-sweep hippo-legs --sizes 8:16 --models full,ptd --steps 30 --points 50 -o keep-p.tsv 2>err.txt
grep -qE '^tf-sweep: sizes: [0-9]+%, [0-9]+ s elapsed, about [0-9]+ s left$' err.txt \
  && grep -qE '^tf-sweep: sizes: done, [0-9]+ s elapsed$' err.txt \
  && pass "tf-sweep progress within the sizes" || fail "tf-sweep progress: $(head -3 err.txt)"
# ptd-sweep's optimiser moves the bar within each size (it showed nothing but the line per
# size): percentages, then one done line, after the last size's line
PTD_PROGRESS_SECONDS=0 ptd-sweep hippo-legs -n 12 --points 3 --method optimize --steps 300 -o keep-p.tsv 2>err.txt
grep -qE '^ptd-sweep: optimised sizes: [0-9]+%, [0-9]+ s elapsed, about [0-9]+ s left$' err.txt \
  && [ "$(grep -c '^ptd-sweep: optimised sizes: done' err.txt)" -eq 1 ] \
  && [ "$(grep -n '^ptd-sweep: optimised sizes: done' err.txt | cut -d: -f1)" -gt "$(grep -n '^ptd-sweep: optimised size 3/3' err.txt | cut -d: -f1)" ] \
  && pass "ptd-sweep progress within the optimised sizes" || fail "ptd-sweep progress: $(head -6 err.txt)"
# transient: the times (in parallel, reported by the calling thread) and the powers.  On one
# thread the calling thread computes every time, so a line per time is certain; on three, how
# many times the calling thread gets depends on the scheduler (under load it may get only the
# last), so there every line must be well formed and the done line come once.
PTD_PROGRESS_SECONDS=0 transient grcar -n 24 --points 30 --threads 1 -o keep-p.tsv 2>err.txt
grep -qE '^transient: times: [0-9]+/30 \([0-9]+%\), [0-9]+ s elapsed, about [0-9]+ s left$' err.txt \
  && [ "$(grep -c '^transient: times: 30/30 done' err.txt)" -eq 1 ] \
  && pass "transient progress over the times, one done line" || fail "transient progress: $(head -3 err.txt)"
PTD_PROGRESS_SECONDS=0 transient grcar -n 24 --points 30 --threads 3 -o keep-p.tsv 2>err.txt
bad=$(grep '^transient: times:' err.txt | grep -vE '^transient: times: ([0-9]+/30 \([0-9]+%\), [0-9]+ s elapsed, about [0-9]+ s left|30/30 done, [0-9]+ s elapsed)$' || true)
[ -z "$bad" ] && [ "$(grep -c '^transient: times: 30/30 done' err.txt)" -eq 1 ] \
  && pass "transient progress on three threads: well-formed lines, one done line" || fail "transient progress, 3 threads: $(head -3 err.txt)"
PTD_PROGRESS_SECONDS=0 transient grcar -n 24 --discrete --t-range 0:30 -o keep-p.tsv 2>err.txt
grep -qE '^transient: powers: 30/30 done, [0-9]+ s elapsed$' err.txt \
  && pass "transient progress over the powers" || fail "transient powers progress: $(head -3 err.txt)"
rm -f keep-p.tsv
finish
