/* plot.c - gnuplot scripts, tsv data, rendering.  (stub: being written) */
#include "config.h"
#include "internal.h"

int ptd_plot_pspec_gnuplot(FILE *f, const ptd_pspec_grid *g, const double *eps,
                           size_t neps, const double complex *eig, size_t neig,
                           const ptd_plot_meta *meta)
{
    (void)f; (void)g; (void)eps; (void)neps; (void)eig; (void)neig; (void)meta;
    return ptd_error(PTD_EINVAL, "not written yet");
}

int ptd_plot_pspec_tsv(FILE *f, const ptd_pspec_grid *g, const ptd_plot_meta *meta)
{
    (void)f; (void)g; (void)meta;
    return ptd_error(PTD_EINVAL, "not written yet");
}

int ptd_plot_render(const char *script, const char *path)
{
    (void)script; (void)path;
    return ptd_error(PTD_EINVAL, "not written yet");
}

int ptd_plot_is_image(const char *path) { (void)path; return 0; }

int ptd_plot_write_file(const char *path, const char *text, size_t len)
{
    (void)path; (void)text; (void)len;
    return ptd_error(PTD_EINVAL, "not written yet");
}
