#!/bin/sh
# readme-ranges.sh CMD - a README block for CMD: run it under every OpenBLAS kernel this
# processor runs (the list of tests/kernels.sh) and print its output, every figure that varies
# between kernels written as min..max (tests/readme_compare --merge).  Run from the build
# directory with bin/ on PATH:  PATH=$PWD/bin:$PATH sh tests/readme-ranges.sh 'pspec grcar'
set -eu
[ $# -eq 1 ] || { echo "usage: readme-ranges.sh 'COMMAND'" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
compare=${README_COMPARE:-$here/readme_compare}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/ptdranges.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
outs=""
for k in ${PTD_KERNELS:-Prescott Nehalem Sandybridge Haswell Zen SkylakeX}; do
  mkdir "$tmp/$k"
  if (cd "$tmp/$k" && OPENBLAS_CORETYPE=$k sh -c "$1") > "$tmp/$k.out" 2>&1; then
    outs="$outs $tmp/$k.out"
  else
    echo "readme-ranges: kernel $k: the command failed or cannot run here; left out" >&2
  fi
done
[ -n "$outs" ] || { echo "readme-ranges: no kernel ran the command" >&2; exit 1; }
# shellcheck disable=SC2086
"$compare" --merge $outs
