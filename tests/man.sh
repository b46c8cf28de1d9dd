#!/bin/sh
# man.sh - the manual pages: every page renders without a groff warning (-ww), and each tool's
# SYNOPSIS names every option its --help lists (pspec-mpi's synopsis says "pspec options":
# those of pspec(1)).
. "$TOP_SRCDIR/tests/lib.sh"
cd "$TMP"

if command -v groff > /dev/null 2>&1; then
  for page in "$TOP_SRCDIR"/man/*.[137]; do
    name=$(basename "$page")
    groff -man -ww -z "$page" > warn.txt 2>&1
    [ ! -s warn.txt ] && pass "groff -ww: $name" || fail "groff -ww: $name: $(head -3 warn.txt)"
  done
else
  echo "SKIP: groff not installed (man-db brings it)"
fi

# the options of a --help text: on each line indented by two spaces, the option that starts it
# and every further one of the same column, each after ", " and its value's name
# ("  --min-len, --max-len, --max-depth, --max-args   ListOps ..." names four)
help_options() {
  "$1" --help 2>&1 | awk '/^  --?[a-z]/ {
    s = substr($0, 3)
    while (match(s, /^--?[a-z][-a-z0-9]*/)) {
      print substr(s, 1, RLENGTH)
      s = substr(s, RLENGTH + 1)
      sub(/^ [A-Z][^ ,]*/, "", s)          # the value: -n N, --sizes A:B[:S]
      if (s !~ /^, --?[a-z]/) break
      s = substr(s, 3)
    }
  }' | sort -u
}
synopsis() { sed -n '/^\.SH SYNOPSIS/,/^\.SH /p' "$TOP_SRCDIR/man/$1.1" | sed 's/\\-/-/g'; }

for tool in pspec pspec-mpi eigcond ptd-sweep tf-sweep transient ssm-train; do
  command -v "$tool" > /dev/null 2>&1 || { echo "SKIP: $tool not built"; continue; }
  page=$tool
  [ "$tool" = pspec-mpi ] && page=pspec
  synopsis "$page" > syn.txt
  missing=""
  for o in $(help_options "$tool"); do
    case "$o" in --help | --version) continue ;; esac
    grep -qE -- "(^|[^a-z-])$o([^a-z0-9-]|\$)" syn.txt || missing="$missing $o"
  done
  n=$(help_options "$tool" | wc -l)
  [ "$n" -ge 5 ] || fail "$tool: only $n options found in --help (the parser above is wrong?)"
  [ -z "$missing" ] && pass "$tool: the synopsis of $page(1) names all $n options of --help" \
    || fail "$tool: $page(1)'s synopsis lacks$missing"
done

# libptd(3) documents every function ptd.h declares, in its SYNOPSIS and its DESCRIPTION
sed -n 's/^[a-z_ ]*[ *]\(ptd_[a-z0-9_]*\)(.*/\1/p' "$TOP_SRCDIR/lib/ptd.h" | sort -u > declared.txt
sed -n '/^\.SH SYNOPSIS/,/^\.SH DESCRIPTION/p' "$TOP_SRCDIR/man/libptd.3" > syn3.txt
sed -n '/^\.SH DESCRIPTION/,$p' "$TOP_SRCDIR/man/libptd.3" > desc3.txt
nsyn=""; ndesc=""
for f in $(cat declared.txt); do
  grep -qw -- "$f" syn3.txt || nsyn="$nsyn $f"
  grep -qw -- "$f" desc3.txt || ndesc="$ndesc $f"
done
nd=$(wc -l < declared.txt)
[ "$nd" -ge 100 ] || fail "only $nd functions found in ptd.h (the pattern above is wrong?)"
[ -z "$nsyn" ] && pass "libptd(3): the synopsis names all $nd functions of ptd.h" || fail "libptd(3)'s synopsis lacks$nsyn"
[ -z "$ndesc" ] && pass "libptd(3): the description documents all $nd functions" || fail "libptd(3)'s description lacks$ndesc"
finish
