#!/bin/sh
# mpi.sh - pspec-mpi against pspec: on 2 and 3 ranks (loopback, oversubscribed) its data and
# gnuplot files are pspec's byte for byte but for the command line's program name and the
# "mpi ranks" header line, for a LegS, a Grcar and a Matrix Market case; the summary is
# pspec's but for timings and the MPI line; bad input gives pspec's one-line message and
# exit status and no file; a rank killed mid-grid ends the job with one line, a nonzero
# status and no file, temporary or not.  Run only when pspec-mpi is built (configure finds
# MPI); TESTS lists it then.
. "$TOP_SRCDIR/tests/lib.sh"
cd "$TMP"
if ! command -v pspec-mpi >/dev/null 2>&1 || ! command -v mpirun >/dev/null 2>&1; then
  echo "SKIP: pspec-mpi or mpirun not found"; finish; exit 0
fi
# root may run mpirun here (a test machine), every rank on this host whatever its cores,
# one thread per rank (two cores); -q: mpirun's own banners off, rank 0's line is the message
OMPI_ALLOW_RUN_AS_ROOT=1; OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1; OMPI_MCA_rmaps_base_oversubscribe=1
OMPI_MCA_btl=self,vader; OMP_NUM_THREADS=1
export OMPI_ALLOW_RUN_AS_ROOT OMPI_ALLOW_RUN_AS_ROOT_CONFIRM OMPI_MCA_rmaps_base_oversubscribe OMPI_MCA_btl OMP_NUM_THREADS
# an ASan build: LeakSanitizer reports Open MPI's own allocations at exit (57 of them, every
# stack in libmpi, libopen-pal or its unloaded plugins, none in ptdkit's code): leak checking
# is off in this test (pspec's code, which pspec-mpi shares, is leak-checked by the others)
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"; export ASAN_OPTIONS
run_mpi() { np=$1; shift; mpirun -q -np "$np" pspec-mpi "$@"; }

# a non-normal 40 x 40 complex matrix in Matrix Market coordinate form
awk 'BEGIN { n = 40; print "%%MatrixMarket matrix coordinate complex general"; m = 0
  for (j = 1; j <= n; j++) for (i = 1; i <= n; i++) if (i <= j + 2) m++
  print n, n, m
  for (j = 1; j <= n; j++) for (i = 1; i <= n; i++) if (i <= j + 2)
    printf "%d %d %.6f %.6f\n", i, j, (i == j ? i / 10 : sin(7 * i + 3 * j)), cos(5 * i - 2 * j) / (1 + j - i + 3) }' \
  > nn.mtx

# same NAME NP ARGS...: pspec and pspec-mpi -np NP write OUT.tsv and OUT.gp in their own
# directories; compare the files and the summaries
same() {
  name=$1; np=$2; shift 2
  rm -rf s m; mkdir s m
  (cd s && pspec "$@" -o out.tsv 2> sum.txt && pspec "$@" -o out.gp --quiet) ||
    { fail "$name: pspec failed: $(head -c 300 s/sum.txt)"; return; }
  (cd m && run_mpi "$np" "$@" -o out.tsv 2> sum.txt && run_mpi "$np" "$@" -o out.gp --quiet) ||
    { fail "$name: pspec-mpi -np $np failed: $(head -c 300 m/sum.txt)"; return; }
  for f in out.tsv out.gp; do
    if ! grep -qx "# mpi ranks: $np" "m/$f"; then fail "$name: $f: no '# mpi ranks: $np' line"; continue; fi
    grep -vx "# mpi ranks: $np" "m/$f" | sed 's/^# command: pspec-mpi /# command: pspec /' > "m/$f.cmp"
    if cmp -s "s/$f" "m/$f.cmp" && [ "$(wc -l < "m/$f")" -eq $(($(wc -l < "s/$f") + 1)) ]; then
      pass "$name: -np $np: $f is pspec's"
    else
      fail "$name: -np $np: $f differs from pspec's: $(diff "s/$f" "m/$f.cmp" | head -n 4 | cut -c1-120 | tr '\n' '|')"
    fi
  done
  # the summary: the same lines but the timings and the MPI line
  for d in s m; do
    sed -e '/^  grid /d' -e '/^  MPI: /d' -e 's/criss-cross: [0-9.e+-]* s/criss-cross: T s/' \
      -e 's/\(sigma_min evaluations\), [0-9.e+-]* s$/\1, T s/' -e 's/^pspec-mpi:/pspec:/' \
      "$d/sum.txt" > "$d/sum.cmp"
  done
  if cmp -s s/sum.cmp m/sum.cmp && grep -q "^  MPI: $np ranks, " m/sum.txt; then pass "$name: -np $np: the summary is pspec's"
  else fail "$name: -np $np: summary differs: $(diff s/sum.cmp m/sum.cmp | head -n 4 | tr '\n' '|')"; fi
}

same "hippo-legs" 2 hippo-legs -n 48 -eps 1e-2,1e-4 --grid 41x31
same "hippo-legs" 3 hippo-legs -n 48 -eps 1e-2,1e-4 --grid 41x31
same "grcar" 2 grcar -n 64 --grid 45x38 --abscissa --radius
same "grcar" 3 grcar -n 64 --grid 45x38 --abscissa --radius
same "matrix market" 2 "file:$TMP/nn.mtx" -eps 1e-1,1e-3 --grid 36
same "matrix market" 3 "file:$TMP/nn.mtx" -eps 1e-1,1e-3 --grid 36
same "svd" 2 grcar -n 20 --grid 14x12 --method svd --box -1,3,-3.5,3.5
# more ranks than chunks: a rank with no work ends with the others
same "4 ranks, 2 rows" 4 kahan -n 12 --grid 5x2 --box -1,2,-1,1

# bad input: pspec's message (but for the program name) and status, nothing written
for args in "nosuch" "grcar -n 0" "grcar --grid 1" "file:$TMP/none.mtx"; do
  rm -rf b && mkdir b && cd b
  # shellcheck disable=SC2086
  set +e; pspec $args -o x.tsv > /dev/null 2> want.txt; ws=$?
  run_mpi 2 $args -o x.tsv > /dev/null 2> got.txt; gs=$?; set -e
  sed 's/^pspec-mpi: /pspec: /; s/see pspec-mpi --help/see pspec --help/' got.txt > got.cmp
  if [ "$gs" -eq "$ws" ] && [ "$ws" -ne 0 ] && [ "$(wc -l < got.txt)" -eq 1 ] && cmp -s want.txt got.cmp && [ ! -e x.tsv ]; then
    pass "bad input '$args': exit $gs, pspec's message, no file"
  else
    fail "bad input '$args': exit $gs (pspec $ws), '$(cat got.txt)' against '$(cat want.txt)'"
  fi
  cd ..
done
# a rank on other OpenBLAS kernels than rank 0's (a processor of another kind) would give other
# last bits: it refuses, rank 0 reports it (a failure on another rank), nothing is written;
# with OPENBLAS_CORETYPE given to every rank the values are those of pspec under that kernel
native=$(OPENBLAS_VERBOSE=2 pspec grcar -n 8 --grid 3 --box -1,1,-1,1 -eps 0.1 --format tsv --quiet 2>&1 >/dev/null |
  sed -n 's/^Core: //p')
other=Prescott; [ "$native" = Prescott ] && other=Nehalem
rm -rf kk && mkdir kk && cd kk
set +e
mpirun -q -np 1 pspec-mpi grcar -n 40 --grid 30 -o x.tsv : -np 1 env OPENBLAS_CORETYPE=$other pspec-mpi > /dev/null 2> err.txt
ks=$?
set -e
if [ "$ks" -eq 1 ] && [ "$(wc -l < err.txt)" -eq 1 ] && grep -q "^pspec-mpi: rank 1 runs OpenBLAS's $other kernels, rank 0 $native" err.txt &&
   [ -z "$(ls -A | grep -v err.txt)" ]; then
  pass "rank 1 on $other kernels, rank 0 on $native: refused, exit 1, one line, nothing written"
else
  fail "rank 1 on other kernels: exit $ks, '$(head -c 300 err.txt)', files: $(ls -A | tr '\n' ' ')"
fi
OPENBLAS_CORETYPE=$other pspec grcar -n 40 --grid 30 -o ref.tsv --quiet
mkdir m && cd m
OPENBLAS_CORETYPE=$other mpirun -q -x OPENBLAS_CORETYPE -np 2 pspec-mpi grcar -n 40 --grid 30 -o ref.tsv --quiet 2> ../err.txt
cd ../..
if grep -v '^# mpi ranks: 2$' kk/m/ref.tsv | sed 's/^# command: pspec-mpi /# command: pspec /' | cmp -s - kk/ref.tsv; then
  pass "every rank on $other kernels: pspec's values under $other"
else
  fail "every rank on $other kernels: differs from pspec under $other: $(head -c 200 kk/err.txt)"
fi

# a failure on rank 0 after the grid (writing), and --help: the other ranks end too
expect 1 "write failure after the grid (/dev/full)" run_mpi 2 grcar -n 20 --grid 10 -o /dev/full
expect 0 "--help on 2 ranks" run_mpi 2 --help

# a rank killed mid-run: the job ends, one line, nonzero, no file and no temporary file
rm -rf k && mkdir k && cd k
# (--quiet: no notice of the long run ahead) the grid takes each rank about 10 s of CPU time (1.5 s at --grid 150 was too little: on a
# loaded machine rank 0 took most chunks and the job ended before rank 1 had its 0.5 s)
mpirun -q -np 2 pspec-mpi grcar -n 200 --grid 400 -o k.tsv --quiet 2> ../kill-err.txt &
mp=$!
w=""
for i in $(seq 1 100); do
  for pid in $(pgrep -P "$mp" 2>/dev/null || true); do
    grep -qz '^OMPI_COMM_WORLD_RANK=1$' "/proc/$pid/environ" 2>/dev/null && w=$pid
  done
  [ -n "$w" ] && break
  sleep 0.1
done
if [ -z "$w" ]; then
  fail "killed rank: rank 1 not found"; kill "$mp" 2>/dev/null || true
else
  # mid-grid: once rank 1 has computed for 0.5 s of CPU time (its start and the plan take
  # far less; the whole grid takes it seconds), however loaded the machine
  for i in $(seq 1 600); do
    ticks=$(awk '{ print $14 + $15 }' "/proc/$w/stat" 2>/dev/null || echo 0)
    [ "$ticks" -ge $(( $(getconf CLK_TCK) / 2 )) ] && break
    sleep 0.1
  done
  kill -KILL "$w" 2>/dev/null || fail "killed rank: rank 1 ended before it could be killed"
fi
set +e; wait "$mp"; ks=$?; set -e
cd ..
left=$(ls -A k)
if [ "$ks" -ne 0 ] && [ "$(wc -l < kill-err.txt)" -eq 1 ] && grep -q '^pspec-mpi: ' kill-err.txt && [ -z "$left" ]; then
  pass "killed rank: exit $ks, '$(cat kill-err.txt)', nothing written"
else
  fail "killed rank: exit $ks, stderr '$(head -c 300 kill-err.txt)', left: $left"
fi
finish
