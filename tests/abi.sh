#!/bin/sh
# abi.sh - the shared library exports exactly what ptd.h declares: every exported symbol is
# a declared ptd_ function, and every function ptd.h declares is defined and exported.
. "$TOP_SRCDIR/tests/lib.sh"
cd "$TMP"
lib="$TOP_BUILDDIR/lib/.libs/libptd.so"
if [ ! -f "$lib" ] || ! command -v nm >/dev/null 2>&1; then
  echo "SKIP: no shared library or no nm"; pass "skipped"; finish; exit 0
fi
nm -D --defined-only "$lib" | awk '$2 == "T" { print $3 }' | sort > exported.txt
# function declarations: an identifier ptd_... followed by '(' at the start of a declaration
sed -n 's/^[a-z_ ]*[ *]\(ptd_[a-z0-9_]*\)(.*/\1/p' "$TOP_SRCDIR/lib/ptd.h" | sort -u > declared.txt
[ -s declared.txt ] && pass "ptd.h declares functions" || fail "no declarations found in ptd.h"
extra=$(comm -23 exported.txt declared.txt | tr '\n' ' ')
missing=$(comm -13 exported.txt declared.txt | tr '\n' ' ')
[ -z "$extra" ] && pass "nothing exported beyond ptd.h" || fail "exported but not in ptd.h: $extra"
[ -z "$missing" ] && pass "everything in ptd.h is exported" || fail "declared in ptd.h but not exported: $missing"
finish
