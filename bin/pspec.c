/* pspec - epsilon-pseudospectra of a dense matrix: pspec_run (bin/pspec-run.c) with the
 * library's grid. */
#include "config.h"
#include "pspec.h"

int main(int argc, char **argv) { return pspec_run(argc, argv, NULL); }
