/* perturb.c - perturb-then-diagonalize (being written). */
#include "config.h"
#include "internal.h"
