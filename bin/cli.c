/* cli.c (being written) */
#include "cli.h"
int ptd_cli_placeholder_(void);
int ptd_cli_placeholder_(void) { return 0; }
