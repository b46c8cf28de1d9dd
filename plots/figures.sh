#!/bin/sh
# figures.sh - the figures of the README, regenerated from the command line (make figures).
# PSPEC: the pspec program; OUTDIR: where the figures go.
set -eu
PSPEC=${PSPEC:-pspec}
OUTDIR=${OUTDIR:-figures}
mkdir -p "$OUTDIR"
# HiPPO-LegS, n = 64: the 1e-4-pseudospectrum reaches from -268 to -2 around eigenvalues -1..-64
"$PSPEC" hippo-legs -n 64 -eps 1e-4 -o "$OUTDIR/legs64.png"
# the same matrix over eight decades
"$PSPEC" hippo-legs -n 64 -eps 1e-2,1e-4,1e-6,1e-8,1e-10,1e-12,1e-14,1e-16 -o "$OUTDIR/legs64-decades.png"
# Grcar's matrix, the classic picture
"$PSPEC" grcar -n 100 -eps 1e-1,1e-2,1e-3,1e-4 -o "$OUTDIR/grcar100.png"
# Kahan's matrix: every component drawn (the grid's contours, and the components it misses traced)
"$PSPEC" kahan -n 40 -eps 1e-2,1e-4,1e-6,1e-8 -o "$OUTDIR/kahan40.png"
# its normal part: discs of radius eps around -1/2 + i w_k (w_max = 19.857 at n = 8)
"$PSPEC" hippo-legs-normal -n 8 -eps 3,1,0.3 -o "$OUTDIR/legs8-normal.png"
echo "figures.sh: wrote $OUTDIR/legs64.png legs64-decades.png grcar100.png kahan40.png legs8-normal.png"
