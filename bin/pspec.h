/* pspec.h - the pspec tool as a function, shared by pspec and pspec-mpi: the same options,
 * summary and files, with the grid evaluation left to a driver (MPI ranks, say). */
#ifndef PTD_PSPEC_TOOL_H
#define PTD_PSPEC_TOOL_H

#include <stddef.h>

#include "ptd.h"

typedef struct {
    /* Computes the grid in ptd_pspec_grid_compute's place, with its contract (the same values
     * to the bit, *out allocated, a PTD status; opts->progress called now and then).  On
     * failure the one-line message goes into err (errlen bytes; left empty: the library's
     * last error).  NULL: ptd_pspec_grid_compute. */
    int (*grid)(void *ctx, const ptd_pspec_plan *p, const ptd_box *box, size_t nx, size_t ny,
                const ptd_pspec_opts *opts, ptd_pspec_grid **out, char *err, size_t errlen);
    void *ctx;
    /* One more provenance line for the output's header (NULL: none). */
    const char *note;
    /* One more summary line, read after the grid (NULL or empty: none). */
    const char *summary;
    /* Processes that share the grid (0 or 1: this one alone), for the long-run notice. */
    int ranks;
} pspec_driver;

/* pspec's main (argv[0] names the program in messages); drv NULL is pspec itself.  Returns
 * the exit status, or exits with it (usage errors, failures) as every tool does. */
int pspec_run(int argc, char **argv, const pspec_driver *drv);

#endif
