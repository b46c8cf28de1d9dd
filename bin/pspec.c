/* pspec.c (being written) */
#include "ptd.h"
int main(void) { return 0; }
