#!/bin/sh
# examples.sh - every EXAMPLES command of every man page runs and succeeds, and the pages
# document every matrix the tools know.
. "$TOP_SRCDIR/tests/lib.sh"
cd "$TMP"
# the file the pspec examples read
printf '%%%%MatrixMarket matrix array real general\n3 3\n1\n0\n0\n2\n1\n0\n0\n3\n1\n' > mymatrix.mtx
# gnuplot -p has no display here: draw on the dumb terminal, which still parses everything
GNUTERM=dumb; export GNUTERM
# pspec-mpi's examples run mpirun: root may (a test machine), on this host whatever its cores
OMPI_ALLOW_RUN_AS_ROOT=1; OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1; OMPI_MCA_rmaps_base_oversubscribe=1
export OMPI_ALLOW_RUN_AS_ROOT OMPI_ALLOW_RUN_AS_ROOT_CONFIRM OMPI_MCA_rmaps_base_oversubscribe

for page in "$TOP_SRCDIR"/man/*.[1-9]; do
  name=$(basename "$page")
  # the lines starting with "$ " in the EXAMPLES section, roff escapes undone
  sed -n '/^\.SH EXAMPLES/,/^\.SH /p' "$page" | grep '^\$ ' | sed -e 's/^\$ //' -e 's/\\-/-/g' -e 's/\\e/\\/g' > cmds.txt
  count=$(wc -l < cmds.txt)
  case "$name" in *.1) [ "$count" -gt 0 ] || fail "$name has no EXAMPLES commands" ;; esac
  while IFS= read -r cmd; do
    if printf '%s' "$cmd" | grep -q 'pspec-mpi' && { [ "${PTD_MPI:-no}" != yes ] || ! command -v mpirun >/dev/null 2>&1; }; then
      echo "SKIP: $name: $cmd (pspec-mpi not built: no MPI)"
    elif command -v gnuplot >/dev/null 2>&1 || ! printf '%s' "$cmd" | grep -q -e gnuplot -e '\.png' -e '\.pdf' -e '\.svg' -e '\.tex'; then
      # an ASan build: Open MPI's own allocations at exit are no leak of ptdkit's (tests/mpi.sh)
      case "$cmd" in *mpirun*) asan="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" ;; *) asan="${ASAN_OPTIONS:-}" ;; esac
      if ASAN_OPTIONS=$asan bash -o pipefail -c "$cmd" < /dev/null > out.txt 2> err.txt; then
        # every -o FILE the example names exists and is not empty
        out=$(printf '%s\n' "$cmd" | sed -n 's/.*-o \([^ ]*\).*/\1/p')
        if [ -n "$out" ] && [ ! -s "$out" ]; then fail "$name: $cmd: no $out"; else pass "$name: $cmd"; fi
      else
        fail "$name: $cmd: $(head -c 300 err.txt)"
      fi
    else
      echo "SKIP: $name: $cmd (no gnuplot)"
    fi
  done < cmds.txt
done

# every matrix in pspec --help is documented in pspec.1 and libptd.3
pspec --help | sed -n '/^Matrices:/,/^$/p' | awk 'NF > 1 { print $1 }' > names.txt
[ -s names.txt ] || fail "pspec --help lists no matrices"
while IFS= read -r m; do
  esc=$(printf '%s' "$m" | sed 's/-/\\\\-/g')
  for page in pspec.1 libptd.3; do
    grep -q -e "$esc" -e "$m" "$TOP_SRCDIR/man/$page" && pass "$page documents $m" || fail "$page does not document $m"
  done
done < names.txt
finish
