#!/bin/sh
# mkseeds.sh - writes the seed corpora of the fuzz harnesses (tests/fuzz/corpus/TARGET):
# small valid files of each format, made by hand or by the tools, so that fuzzing starts
# from inputs that reach deep into each parser.  Run from a build tree:
#   sh tests/fuzz/mkseeds.sh [CORPUS_DIR]      (default: tests/fuzz/corpus beside this script)
# The Matrix Market harness also starts from tests/data/mm.  Regression inputs (crash-*,
# leak-*, oom-*, timeout-* found by make fuzz) live beside the seeds and are kept.
set -eu
LC_ALL=C; export LC_ALL
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/corpus}
bin=${BIN:-$(pwd)/bin}
mkdir -p "$out/mm" "$out/ptd" "$out/idx" "$out/ckpt"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/mkseeds.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

# --- Matrix Market: one of each format, field and symmetry the reader knows
printf '%%%%MatrixMarket matrix coordinate real general\n%% a comment\n2 3 2\n1 1 1.5\n2 3 -2e-3\n' > "$out/mm/seed-coord-real.mtx"
printf '%%%%MatrixMarket matrix coordinate complex hermitian\n3 3 3\n1 1 2 0\n2 1 1 -1\n3 3 -1 0\n' > "$out/mm/seed-coord-herm.mtx"
printf '%%%%MatrixMarket matrix coordinate pattern symmetric\n3 3 2\n2 1\n3 3\n' > "$out/mm/seed-coord-pattern.mtx"
printf '%%%%MatrixMarket matrix coordinate integer skew-symmetric\n3 3 1\n3 1 -4\n' > "$out/mm/seed-coord-skew.mtx"
printf '%%%%MatrixMarket matrix array complex general\n2 2\n1 0\n0 1\n-0.5 2\n3 4\n' > "$out/mm/seed-array-complex.mtx"
printf '%%%%MatrixMarket matrix array real symmetric\r\n2 2\r\n1\r\n2\r\n3' > "$out/mm/seed-array-sym-crlf.mtx"
printf '%%%%MatrixMarket matrix array real skew-symmetric\n3 3\n1\n2\n3\n' > "$out/mm/seed-array-skew.mtx"

# --- PTD files, as ptd-sweep saves them (with and without B)
"$bin/ptd-sweep" hippo-legs -n 2 --method random --eps-range 0.01:0.02 --points 2 --save "$out/ptd/seed-legs2.ptd" --quiet > /dev/null
"$bin/ptd-sweep" grcar -n 3 --method random --eps-range 0.01:0.02 --points 2 --save "$out/ptd/seed-grcar3.ptd" --quiet > /dev/null

# --- IDX: header and data, plain and gzip (gzip -n: no name or time, so the bytes repeat)
printf '\000\000\010\001\000\000\000\003\007\010\011' > "$out/idx/seed-labels.idx"
printf '\000\000\010\003\000\000\000\002\000\000\000\002\000\000\000\002\000\001\002\003\004\005\006\377' > "$out/idx/seed-images.idx"
printf '\000\000\010\004\000\000\000\001\000\000\000\001\000\000\000\001\000\000\000\002\000\377' > "$out/idx/seed-4d.idx"
gzip -n -c "$out/idx/seed-images.idx" > "$out/idx/seed-images.idx.gz"
gzip -n -c "$out/idx/seed-labels.idx" > "$out/idx/seed-labels.idx.gz"

# --- checkpoints from ssm-train: the smallest ListOps models, one of each initialisation
tiny="--task listops --min-len 2 --max-len 4 --max-depth 2 --width 1 --state 2 --layers 1 --train-subset 8 --test-subset 2 --val 2 --threads 1 --quiet --format tsv"
"$bin/ssm-train" $tiny --init s4d-legs --epochs 1 --save "$out/ckpt/seed-legs.ckpt" > /dev/null
"$bin/ssm-train" $tiny --init s4d-lin --epochs 1 --save "$out/ckpt/seed-lin.ckpt" > /dev/null
"$bin/ssm-train" $tiny --init s4-ptd --layers 2 --state 4 --epochs 2 --save "$out/ckpt/seed-ptd.ckpt" > /dev/null
ls "$out"/* | wc -l
