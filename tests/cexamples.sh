#!/bin/sh
# cexamples.sh - the C programs the documentation shows compile warning-free against the built
# library and run: the EXAMPLES program of libptd(3) and the README's "library in ten lines"
# (whose comment gives the value it prints).
. "$TOP_SRCDIR/tests/lib.sh"
cd "$TMP"
CC=${CC:-cc}
LIBDIR="$TOP_BUILDDIR/lib/.libs"
[ -e "$LIBDIR/libptd.so" ] || { echo "SKIP: no shared libptd in $LIBDIR"; finish; exit 0; }
build_run() { # name source
  # shellcheck disable=SC2086 # SAN_CFLAGS: the sanitizers the library was built with, if any
  if $CC -std=c11 -Wall -Wextra -Werror ${SAN_CFLAGS:-} -I"$TOP_SRCDIR/lib" -I"$TOP_BUILDDIR" "$2" -L"$LIBDIR" -lptd -lm \
      -o "$1" > cc.txt 2>&1; then
    pass "$1 compiles with -Wall -Wextra -Werror"
  else
    fail "$1 does not compile: $(head -5 cc.txt)"; return 1
  fi
  if LD_LIBRARY_PATH="$LIBDIR${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}" ./"$1" > "$1.out" 2> "$1.err"; then
    pass "$1 runs"
  else
    fail "$1 fails: $(head -3 "$1.err")"; return 1
  fi
}

# libptd(3): the first .EX block of EXAMPLES is the program, the second what it prints; roff
# escapes undone (\e is a backslash, \- a minus)
ex_block() {
  sed -n '/^\.SH EXAMPLES/,/^\.SH /p' "$TOP_SRCDIR/man/libptd.3" | awk -v k="$1" '/^\.EX/ { n++; on = 1; next } /^\.EE/ { on = 0; next }
    on && n == k { print }' | sed -e 's/\\e/\\/g' -e 's/\\-/-/g' -e "s/\\\\(aq/'/g"
}
ex_block 1 > man3.c
ex_block 2 > man3.want
[ "$(grep -c 'int main' man3.c)" -eq 1 ] && pass "libptd(3) EXAMPLES holds one program" || fail "libptd(3): $(grep -c 'int main' man3.c) mains"
if build_run man3 man3.c; then
  # every line but the last (its thread count is the machine's) as the page shows it
  sed '$d' man3.want > want.txt; sed '$d' man3.out > got.txt
  cmp -s want.txt got.txt && pass "libptd(3) example prints what the page shows" \
    || fail "libptd(3) example output differs: $(diff want.txt got.txt | head -6)"
fi

# README: the block after "## The library in ten lines"
sed -n '/^## The library in ten lines/,/^## /p' "$TOP_SRCDIR/README.md" | sed -n '/^```c/,/^```$/p' | sed '/^```/d' > legs.c
if build_run legs legs.c; then
  want=$(sed -n 's|.*/\* \([0-9.e+-]*\) \*/.*|\1|p' legs.c | tail -1)
  got=$(sed -n 's/^sigma_min = \([^ ]*\) .*/\1/p' legs.out)
  [ -n "$want" ] && [ "$got" = "$want" ] && pass "the README's program prints sigma_min = $want, as its comment says" \
    || fail "the README's program printed '$got', its comment says '$want'"
fi
# the static library, linked with what libptd.pc says a static link needs (Requires.private,
# Libs.private)
if [ -e "$LIBDIR/libptd.a" ] && command -v pkg-config > /dev/null 2>&1; then
  deps=$(PKG_CONFIG_PATH="$TOP_BUILDDIR" pkg-config --static --libs libptd | sed 's/-L[^ ]* -lptd //')
  # shellcheck disable=SC2086
  if $CC -std=c11 ${SAN_CFLAGS:-} -I"$TOP_SRCDIR/lib" -I"$TOP_BUILDDIR" legs.c "$LIBDIR/libptd.a" $deps -o legs-static \
      > cc.txt 2>&1 && ./legs-static > static.out 2>&1 && cmp -s static.out legs.out; then
    pass "the README's program linked statically (libptd.a and pkg-config --static) prints the same"
  else
    fail "static link: $(head -5 cc.txt static.out 2>/dev/null)"
  fi
else
  echo "SKIP: no libptd.a (--disable-static) or no pkg-config"
fi
finish
