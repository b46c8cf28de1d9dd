#!/bin/sh
# messages.sh - error messages say each thing once: no tool repeats a prefix the library (or
# the tool itself) already put there ("eigcond: extended precision: extended precision: ...").
# Each command below is a failure or an edge a user meets; whatever its exit status, no line
# of its standard error may hold a segment "X: " or "X ...: " followed by "X:" again (X whole
# words: "pseudospectral abscissa for eps 1e-16: pseudospectral abscissa: ..." repeats).
. "$TOP_SRCDIR/tests/lib.sh"
cd "$TMP"

repeated='(^|: )([^:]+)( [^:]*)?: \2:'
check() {
  name=$1; shift
  set +e; "$@" >out.txt 2>err.txt; set -e
  if grep -Eq "$repeated" err.txt; then
    fail "$name: a repeated prefix: $(grep -E "$repeated" err.txt | head -1)"
  else
    pass "$name"
  fi
}

printf '%%%%MatrixMarket matrix coordinate real general\n2 2 1\n1 1 nan\n' > nan.mtx
printf 'not a ptd file\n' > bad.ptd
check "eigcond jordan" eigcond jordan -n 8 --format tsv
check "eigcond lagt sizes" eigcond hippo-lagt --sizes 2:8:2 --format tsv
check "eigcond full matrix in extended precision" eigcond grcar -n 8 --precision 200
check "eigcond nan file" eigcond file:nan.mtx
check "eigcond unknown matrix" eigcond nosuch
check "pspec abscissa at small eps" pspec hippo-legs -n 64 -eps 1e-4,1e-16 --abscissa --radius --format tsv
check "pspec nan file" pspec file:nan.mtx
check "pspec missing file" pspec file:nonexistent.mtx
check "transient discrete jordan" transient jordan -n 4 --discrete --t-range 0:6 --format tsv --quiet
check "transient overflow" transient grcar -n 8 --discrete --t-range 0:1000 --format tsv --quiet
check "transient nan file" transient file:nan.mtx
check "ptd-sweep nan file" ptd-sweep file:nan.mtx
check "ptd-sweep unwritable save" ptd-sweep grcar -n 6 --points 1 --steps 5 --save /nonexistent/x.ptd
check "tf-sweep malformed ptd file" tf-sweep hippo-legs --ptd-file bad.ptd
check "tf-sweep s4d of lagt" tf-sweep hippo-lagt --sizes 8:8 --models full,s4d
check "ssm-train malformed ptd file" ssm-train --task listops --init s4-ptd --ptd bad.ptd
check "ssm-train missing data" ssm-train --task sfmnist --data-dir /nonexistent --epochs 1
finish
