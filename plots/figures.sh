#!/bin/sh
# figures.sh - every figure the README shows, each drawn by the command the README gives
# (make figures; make figures-training adds the two training figures, 20 minutes each).
# BINDIR: where the tools are (default: on the PATH); OUTDIR: where the figures go;
# TRAINING=1: the training figures too.  Each figure's -o FILE.gp twin (the same command with
# .gp) is the gnuplot script with its data inline, to restyle by hand.
set -eu
BINDIR=${BINDIR:-}
OUTDIR=${OUTDIR:-figures}
TRAINING=${TRAINING:-0}
tool() { t=$1; shift; if [ -n "$BINDIR" ]; then "$BINDIR/$t" "$@"; else "$t" "$@"; fi; }
mkdir -p "$OUTDIR"
made=""
draw() { # FILE TOOL ARGS...: the figure FILE by TOOL ARGS -o FILE
  f=$1; shift
  echo "figures.sh: $f: $*" >&2
  tool "$@" --quiet -o "$OUTDIR/$f"
  made="$made $f"
}
# the quick start's figure: HiPPO-LegS, n = 64, the 1e-4-pseudospectrum
draw legs64.png pspec hippo-legs -n 64 -eps 1e-4
# the same matrix over eight decades
draw legs64-decades.png pspec hippo-legs -n 64 -eps 1e-2,1e-4,1e-6,1e-8,1e-10,1e-12,1e-14,1e-16
# Grcar's matrix, the classic picture
draw grcar100.png pspec grcar -n 100 -eps 1e-1,1e-2,1e-3,1e-4
# Kahan's matrix: every component drawn (the grid's contours, the components it misses traced)
draw kahan40.png pspec kahan -n 40 -eps 1e-2,1e-4,1e-6,1e-8
# the pseudomode of LegS at a point where sigma_min is 2e-37, beside the nearest eigenvector
draw legs64-mode.png pspec hippo-legs -n 64 --mode -30.5+5i
# convection-diffusion, n = 2025: the Arnoldi projection's pseudospectra (inside A's), and A's dense
draw convdiff-arnoldi.png pspec convdiff --sparse 160 -eps 1e-1,1e-2,1e-3,1e-4,1e-5 --sparse-point -7.13 --grid 150
draw convdiff-dense.png pspec convdiff -eps 1e-1,1e-2,1e-3,1e-4,1e-5 --box -353.9,15.58,-92.07,92.69 --grid 120
# kappa_2(V) of LegS against n, double and extended precision
draw legs-kappa.png eigcond hippo-legs --sizes 4:128:4
# kappa_2(V) of LegS + E against ||E||_2/||A||_2, random and optimised
draw legs32-ptd.png ptd-sweep hippo-legs -n 32 --points 6 --eps-range 1e-6:1e-1 --relative
# the strong and weak errors of S4D and PTD against n
draw legs-tf.png tf-sweep hippo-legs --mode errors --normalize --sizes 8:128
# nine Pathfinder images of the generated task, titled by label
draw pathfinder-samples.png ssm-train --task pathfinder --samples 9
if [ "$TRAINING" = 1 ]; then
  # S5 against S5-PTD, the same sweep
  draw s5-sfmnist-noise-sweep.png ssm-train --task sfmnist --layer s5 --compare --state 64 --blocks 2 --width 64 \
    --layers 4 --epochs 2 --train-subset 40000 --lr 1e-2 --dt-range 1e-3:9.6e-3 --threads 2 --seed 1 --noise-sweep 7
  # test accuracy against the noise frequency, S4D against S4-PTD (sequential Fashion-MNIST)
  draw sfmnist-noise-sweep.png ssm-train --task sfmnist --compare --freeze-ssm --state 32 --width 64 --layers 4 \
    --epochs 3 --train-subset 20000 --lr 1e-2 --dt-range 1e-3:9.6e-3 --threads 2 --seed 1 --noise-sweep 7
  # the same with the usual steps dt up to 1e-1: aliasing
  draw sfmnist-noise-sweep-aliased.png ssm-train --task sfmnist --compare --freeze-ssm --state 32 --width 64 \
    --layers 4 --epochs 3 --train-subset 20000 --lr 1e-2 --threads 2 --seed 1 --noise-sweep 7
fi
echo "figures.sh: wrote into $OUTDIR/:$made"
