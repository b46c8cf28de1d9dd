#!/bin/sh
# clang.sh - the sources compile warning-free under clang too (gcc builds them in make):
# every C file of lib/, bin/ and tests/ through clang -fsyntax-only with the project's warning
# flags and -Werror.  Skipped, with a line saying so, where clang is not installed.
. "$TOP_SRCDIR/tests/lib.sh"
CLANG=${CLANG:-clang}
if ! command -v "$CLANG" >/dev/null 2>&1; then
  echo "SKIP: $CLANG not installed (quickstart installs it)"; finish; exit 0
fi
flags="-std=gnu11 -fsyntax-only -fopenmp -Wall -Wextra -Wshadow -Wpointer-arith -Wstrict-prototypes
-Wmissing-prototypes -Wformat=2 -Wvla -Wundef -Werror -I$TOP_BUILDDIR -I$TOP_SRCDIR/lib -I$TOP_SRCDIR/bin
-I$TOP_SRCDIR/tests $(pkg-config --cflags gsl lapacke check mpfr zlib 2>/dev/null)"
mpi_flags=$(pkg-config --cflags ompi-c 2>/dev/null || true)
flags="$flags $mpi_flags"
for f in "$TOP_SRCDIR"/lib/*.c "$TOP_SRCDIR"/bin/*.c "$TOP_SRCDIR"/tests/*.c "$TOP_SRCDIR"/tests/fuzz/*.c; do
  [ -f "$f" ] || continue
  rel=${f#"$TOP_SRCDIR"/}
  # pspec-mpi needs MPI's header: checked where MPI is installed (configure builds it then)
  if [ "$rel" = bin/pspec-mpi.c ] && [ -z "$mpi_flags" ]; then echo "SKIP: clang: $rel (no MPI: ompi-c)"; continue; fi
  # shellcheck disable=SC2086
  if "$CLANG" $flags -DTOP_SRCDIR="\"$TOP_SRCDIR\"" "$f" > "$TMP/out" 2>&1; then pass "clang: $rel"
  else fail "clang: $rel"; head -n 20 "$TMP/out" | sed 's/^/    | /'; fi
done
finish
