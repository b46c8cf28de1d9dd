/* pspec-main.c - the pspec tool: pspec_run (bin/pspec.c) with the library's grid. */
#include "config.h"
#include "pspec.h"

int main(int argc, char **argv) { return pspec_run(argc, argv, NULL); }
