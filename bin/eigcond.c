/* eigcond - eigenvector and eigenvalue conditioning, in double and extended precision. */
#include "config.h"
#include "cli.h"
#include "ptd.h"

#include <complex.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define GROWTH (3.0 + 2.0 * M_SQRT2) /* LegS: kappa_2(V) ~ (3 + 2 sqrt2)^n */

static void usage(void);

static const struct option own_opts[] = {
    {"precision", required_argument, NULL, 'p'}, {"digits", required_argument, NULL, 'd'}, {NULL, 0, NULL, 0}};

static const cli_tool tool = {
    .name = "eigcond",
    .accept = CLI_OPT_N | CLI_OPT_SIZES | CLI_OPT_SEED | CLI_OPT_THREADS,
    .own = own_opts,
    .usage = usage,
    .n_default = 64, .n_min = 1, .n_max = PTD_ZOO_MAX_N,
    .sizes_min = 1, .sizes_max = 1024, .sizes_count_max = 256, .sizes_default = {4, 128},
    .help = {[CLI_H_N] = "order of a named matrix (default 64; at most 8192)",
             [CLI_H_SIZES] = "sweep n over A, 2A, 4A, ... up to B (A:B:S steps by S, A:B:xF\n"
                             "multiplies by F) and plot kappa_2(V) against n",
             [CLI_H_SEED] = "seed of the random matrices (default 1)",
             [CLI_H_THREADS] = "threads of LAPACK's BLAS (default: all cores; the extended\n"
                               "precision runs on one)"},
};

static void usage(void)
{
    printf("Usage: eigcond MATRIX [options]\n"
           "Eigenvector condition number kappa_2(V), eigenvalue condition numbers, departure from\n"
           "normality and numerical abscissa; for triangular matrices also in extended precision,\n"
           "where double precision cannot answer.\n"
           "\n"
           "MATRIX is a name (see pspec --help), file:PATH (Matrix Market) or - (stdin).\n"
           "\n"
           "Options (single or double dash):\n"
           "  --precision P      extended precision: auto (default for triangular matrices),\n"
           "                     BITS (a fixed starting precision), or off\n"
           "  --digits D         significant digits the extended values must be correct to\n"
           "                     (default 8; confirmed by repeating at a higher precision)\n");
    cli_help_shared(&tool);
    printf("\n"
           "Examples:\n"
           "  eigcond hippo-legs -n 64 | gnuplot -p\n"
           "  eigcond hippo-legs --sizes 4:128:4 -o legs-kappa.pdf\n"
           "Exit status: 0 success, 1 numerical or I/O failure, 2 usage error.\n");
}

/* "1.234e+05" or "at least 9.0e+15 (not resolved in double precision; computed 3.1e+19)" */
static void describe_double(char *buf, size_t n, double v, int resolved)
{
    if (resolved) snprintf(buf, n, "%.6g", v);
    else snprintf(buf, n, ">= %.2g (not resolved in double precision; LAPACK gave %.2g)", PTD_KAPPA_UNRESOLVED, v);
}

/* The extended kappa_2(V): a value with its digits, or inf for a defective matrix. */
static void describe_mp(char *buf, size_t n, const ptd_eig_mp *m)
{
    if (m->defective)
        snprintf(buf, n, "inf: not diagonalizable (%zu of %zu eigenvalues, with multiplicity, belong to defective "
                 "ones; decided exactly)", m->defective, m->n);
    else if (m->repeated)
        snprintf(buf, n, "%.*e (%d digits confirmed, %lu bits, %.2f s; %zu eigenvalues are multiple, each semisimple: "
                 "V holds an orthonormal basis of each eigenspace)", m->digits - 1, m->kappa_V, m->digits, m->bits,
                 m->seconds, m->repeated);
    else
        snprintf(buf, n, "%.*e (%d digits confirmed, %lu bits, %.2f s)", m->digits - 1, m->kappa_V, m->digits, m->bits,
                 m->seconds);
}

/* 1 if the extended computation shows that eigenvalue index i (of the diagonal) is multiple:
 * then LAPACK's 1/|y^* x| for its vectors is not its condition number (inf if defective, the
 * spectral projector's norm if semisimple), and the double value is not resolved. */
static int multiple_at(const ptd_eig_mp *m, size_t i)
{
    for (size_t k = 0; k < m->n; k++)
        if (k != i && m->lambda[k] == m->lambda[i]) return 1;
    return 0;
}

static int want_mp(const char *precision, const ptd_matrix *A)
{
    if (strcmp(precision, "off") == 0) return 0;
    int tri = ptd_matrix_is_upper(A) || ptd_matrix_is_lower(A);
    if (strcmp(precision, "auto") == 0) return tri;
    if (!tri) cli_fail("extended precision needs a triangular matrix (use --precision off)");
    return 1;
}

/* Seconds of the eigensystem of an n x n matrix in double precision and, when `mp`, in MPFR
 * (about 2e-7 n^3 s at a few hundred bits, hippo-legs n = 256: 3.2 s; more bits cost little
 * more, the repetition that confirms the digits included). */
static double work_seconds(size_t n, int mp, unsigned long bits)
{
    double nn = (double)n, b = bits ? (double)bits : 256;
    return (cli_flops_eig(n) + (mp ? 2000 * nn * nn * nn * (1 + b / 2000) : 0)) / CLI_FLOP_RATE;
}

/* the same rule as want_mp, without its message */
static int runs_mp(const char *precision, const ptd_matrix *A)
{
    return strcmp(precision, "off") != 0 && (strcmp(precision, "auto") != 0 || ptd_matrix_is_upper(A) || ptd_matrix_is_lower(A));
}

static double work_bytes(size_t n, int mp, unsigned long bits)
{
    double b = bits ? (double)bits : 256;
    return cli_bytes_matrices(n, 6) + (mp ? 8 * (double)n * (double)n * (32 + b / 8) : 0);
}

int main(int argc, char **argv)
{
    cli_args a;
    cli_args_init(&tool, &a, argc, argv);
    int digits = 8;
    unsigned long bits = 0;
    const char *precision = "auto";
    int c;
    while ((c = cli_next(&tool, &a, argc, argv)) != -1) {
        switch (c) {
        case 'p':
            if (strcmp(optarg, "auto") == 0 || strcmp(optarg, "off") == 0) precision = optarg;
            else {
                bits = (unsigned long)cli_size("--precision", optarg, 53, 1000000);
                precision = "bits";
            }
            break;
        case 'd': digits = (int)cli_size("--digits", optarg, 1, 15); break;
        }
    }
    size_t n = a.n;
    int sweep = a.sizes_given, quiet = a.quiet, tsv = a.tsv;
    unsigned long seed = a.seed;
    const char *out = a.out, *cmd = a.cmd;
    const char *spec = cli_one_matrix(argc, argv);
    if (sweep && (strncmp(spec, "file:", 5) == 0 || strcmp(spec, "-") == 0))
        cli_usage("--sizes needs a named matrix, not a file");
    cli_out_kind kind = cli_output_kind(out);
    if (tsv && kind == OUT_IMAGE) cli_usage("--format tsv cannot be drawn as an image: use -o FILE.tsv");
    int want_tsv = kind == OUT_DATA || (kind == OUT_STDOUT && tsv);
    cli_membuf text = {0};
    FILE *f = cli_mem_open(&text);
    char title[160], notes_buf[6][160];
    const char *notes[6];
    size_t nn = 0;
    snprintf(notes_buf[nn++], 160, "matrix: %s", spec);
    snprintf(notes_buf[nn++], 160, "seed: %lu", seed);
    snprintf(notes_buf[nn++], 160, "precision: %s%s%s, digits: %d", precision, bits ? " " : "",
             bits ? "(bits given)" : "", digits);
    int latex = out && strlen(out) > 4 && strcmp(out + strlen(out) - 4, ".tex") == 0;
    int st;

    if (!sweep) {
        ptd_system *sys = cli_zoo_make(spec, n, seed);
        n = sys->n;
        int mp = runs_mp(precision, sys->A);
        cli_notice_work(quiet, n, work_bytes(n, mp, bits), work_seconds(n, mp, bits));
        ptd_eig *e = NULL;
        if ((st = ptd_cond_eig(sys->A, &e))) cli_fail("%s", ptd_last_error());
        ptd_eig_mp *m = NULL;
        if (want_mp(precision, sys->A) && (st = ptd_cond_mp(sys->A, bits, digits, &m)))
            cli_fail("%s", cli_lib_error("extended precision"));
        snprintf(notes_buf[nn++], 160, "n: %zu", n);
        for (size_t k = 0; k < nn; k++) notes[k] = notes_buf[k];
        snprintf(title, sizeof title, "%s, n = %zu: eigenvalue condition numbers", spec, n);
        if (m && m->defective) /* what the figure cannot draw, said where it is seen */
            snprintf(title + strlen(title), sizeof title - strlen(title), " (defective: %zu of %zu infinite, not drawn)",
                     m->defective, n);
        ptd_plot_meta meta = {.title = title, .command = cmd, .notes = notes, .nnotes = nn, .latex = latex};
        /* match each double eigenvalue to the nearest unused one of the exact spectrum (the
         * diagonal), for the table and for what the extended analysis says about it */
        size_t *match = malloc(n * sizeof *match);
        int *resolved = malloc(n * sizeof *resolved);
        char *used = calloc(n, 1);
        if (!match || !resolved || !used) cli_fail("out of memory");
        size_t unresolved = 0;
        for (size_t i = 0; i < n; i++) {
            match[i] = 0;
            if (m) {
                double bd = INFINITY;
                for (size_t k = 0; k < n; k++)
                    if (!used[k] && cabs(m->lambda[k] - e->lambda[i]) < bd) {
                        bd = cabs(m->lambda[k] - e->lambda[i]);
                        match[i] = k;
                    }
                used[match[i]] = 1;
            }
            /* a multiple eigenvalue's condition is not LAPACK's 1/|y^* x| of some vectors */
            resolved[i] = e->eig_cond[i] < PTD_KAPPA_UNRESOLVED && !(m && multiple_at(m, match[i]));
            unresolved += !resolved[i];
        }
        /* the double kappa of a matrix proved defective is not resolved, whatever its size */
        int kappa_resolved = e->kappa_V_resolved && !(m && m->defective);
        double *x = malloc(n * sizeof *x), *y = malloc(n * sizeof *y), *xm = malloc(n * sizeof *xm),
               *ym = malloc(n * sizeof *ym);
        if (!x || !y || !xm || !ym) cli_fail("out of memory");
        size_t yinf = 0;
        for (size_t i = 0; i < n; i++) {
            x[i] = creal(e->lambda[i]);
            y[i] = e->eig_cond[i];
            yinf += !isfinite(y[i]);
            if (m) {
                xm[i] = creal(m->lambda[i]);
                ym[i] = m->eig_cond[i];
            }
        }
        if (want_tsv) {
            size_t nc = m ? 6 : 4;
            double *rows = malloc(n * nc * sizeof *rows);
            if (!rows) cli_fail("out of memory");
            for (size_t i = 0; i < n; i++) {
                rows[i * nc + 0] = creal(e->lambda[i]);
                rows[i * nc + 1] = cimag(e->lambda[i]);
                rows[i * nc + 2] = e->eig_cond[i];
                rows[i * nc + 3] = resolved[i];
                if (m) {
                    rows[i * nc + 4] = m->eig_cond[match[i]];
                    rows[i * nc + 5] = m->defective_at[match[i]];
                }
            }
            const char *cols[] = {"re", "im", "cond_double", "resolved", "cond_extended", "defective"};
            st = ptd_plot_table_tsv(f, cols, nc, rows, n, &meta);
            free(rows);
        } else {
            /* infinite values are not drawn (a data set holds no inf): the key says how many */
            char t0[160], t1[160];
            snprintf(t0, sizeof t0, "double precision (LAPACK zgeevx)");
            if (yinf) snprintf(t0 + strlen(t0), sizeof t0 - strlen(t0), "; %zu infinite, not drawn", yinf);
            snprintf(t1, sizeof t1, "extended precision (MPFR)");
            if (m && m->defective)
                snprintf(t1 + strlen(t1), sizeof t1 - strlen(t1), "; %zu defective: κ = ∞, not drawn", m->defective);
            /* double in rings, extended in dots drawn over them: where they agree (the
             * resolved ones, and LAPACK's at n = 64 all of them) each dot sits in its ring */
            ptd_plot_series s[2] = {{.title = t0, .x = x, .y = y, .n = n, .style = "points"},
                                    {.title = t1, .x = xm, .y = ym, .n = n, .style = "dots"}};
            ptd_plot_axes ax = {.xlabel = latex ? "$\\mathrm{Re}\\,\\lambda$" : "Re λ",
                                .ylabel = latex ? "$\\kappa(\\lambda)$" : "κ(λ) = 1/|y^* x|",
                                .logy = 1, .hline = PTD_KAPPA_UNRESOLVED,
                                .hline_label = "1/u: the limit of double precision"};
            st = ptd_plot_series_gnuplot(f, s, m ? 2 : 1, &ax, &meta);
        }
        if (st) cli_fail("writing the output: %s", ptd_last_error());
        cli_mem_close(&text);
        cli_emit(out, want_tsv, text.buf, text.len, text.buf, text.len);
        if (!quiet) {
            char buf[320];
            double cmax = 0;
            for (size_t i = 0; i < n; i++) cmax = fmax(cmax, e->eig_cond[i]);
            fprintf(stderr, "eigcond: %s, n = %zu, ||A||_2 = %.6g\n", spec, n, e->norm2);
            describe_double(buf, sizeof buf, e->kappa_V, kappa_resolved);
            fprintf(stderr, "  kappa_2(V), double:      %s%s\n", buf,
                    m && m->repeated && !m->defective && kappa_resolved
                        ? " (of LAPACK's basis of each multiple eigenspace: not unique)" : "");
            if (m) {
                describe_mp(buf, sizeof buf, m);
                fprintf(stderr, "  kappa_2(V), extended:    %s\n", buf);
            }
            fprintf(stderr, "  eigenvalue condition:    max %.3g in double%s", cmax, unresolved ? "" : "\n");
            if (unresolved)
                fprintf(stderr, "; %zu of %zu not resolved (at or above 1/u%s)\n", unresolved, n,
                        m && m->repeated ? ", or of a multiple eigenvalue" : "");
            if (m) {
                if (m->defective)
                    fprintf(stderr, "                           inf in extended precision for the %zu defective\n",
                            m->defective);
                if (m->defective < n) {
                    double mf = 0; /* the largest over the eigenvalues that are not defective */
                    for (size_t i = 0; i < n; i++)
                        if (!m->defective_at[i]) mf = fmax(mf, m->eig_cond[i]);
                    fprintf(stderr, "                           max %.*e in extended precision%s\n", m->digits - 1, mf,
                            m->defective ? " over the others" : "");
                }
            }
            fprintf(stderr, "  departure from normality (Henrici): %.6g (%.3g of ||A||_F)\n", e->henrici,
                    e->norm_fro > 0 ? e->henrici / e->norm_fro : 0.0);
            fprintf(stderr, "  numerical abscissa %.6g, spectral abscissa %.6g\n", e->numerical_abscissa,
                    e->spectral_abscissa);
            /* the distance to instability min_w sigma_min(iwI - A) (0 when A is not stable) */
            ptd_pspec_plan *sp = NULL;
            ptd_pspec_instability si;
            if (ptd_pspec_plan_create(sys->A, &sp) || ptd_pspec_stability_radius(sp, 0, &si))
                fprintf(stderr, "  distance to instability: not computed: %s\n", ptd_last_error());
            else
                cli_print_instability(&si, 0, ptd_pspec_plan_floor(sp));
            ptd_pspec_plan_free(sp);
            if (!m && !e->kappa_V_resolved) {
                if (ptd_matrix_is_upper(sys->A) || ptd_matrix_is_lower(sys->A))
                    fprintf(stderr, "  (extended precision is off: --precision auto computes it for this triangular "
                                    "matrix)\n");
                else fprintf(stderr, "  (extended precision is available for triangular matrices only)\n");
            }
        }
        free(match);
        free(resolved);
        free(used);
        free(x);
        free(y);
        free(xm);
        free(ym);
        ptd_eig_free(e);
        ptd_eig_mp_free(m);
        ptd_system_free(sys);
    } else {
        size_t count = a.nsizes, *sz = a.sizes;
        double *ns = malloc(count * sizeof *ns), *kd = malloc(count * sizeof *kd), *km = malloc(count * sizeof *km),
               *rows = malloc(count * 7 * sizeof *rows);
        if (!ns || !kd || !km || !rows) cli_fail("out of memory");
        int any_mp = 0;
        { /* a named matrix is triangular at every order or at none */
            ptd_system *s0 = cli_zoo_make(spec, sz[0], seed);
            int mp = runs_mp(precision, s0->A);
            ptd_system_free(s0);
            double secs = 0;
            for (size_t k = 0; k < count; k++) secs += work_seconds(sz[k], mp, bits);
            cli_notice_work(quiet, sz[count - 1], work_bytes(sz[count - 1], mp, bits), secs);
        }
        cli_progress_state prog;
        cli_progress_start(&prog, quiet, "sizes");
        for (size_t k = 0; k < count; k++) {
            size_t nk = sz[k];
            ptd_system *sys = cli_zoo_make(spec, nk, seed);
            ptd_eig *e = NULL;
            if ((st = ptd_cond_eig(sys->A, &e))) cli_fail("n = %zu: %s", nk, ptd_last_error());
            ptd_eig_mp *m = NULL;
            if (want_mp(precision, sys->A)) {
                if ((st = ptd_cond_mp(sys->A, bits, digits, &m))) cli_fail("n = %zu: %s", nk, cli_lib_error("extended precision"));
                any_mp = 1;
            }
            ns[k] = (double)nk;
            kd[k] = e->kappa_V;
            km[k] = m ? m->kappa_V : NAN;
            double *r = rows + 7 * k;
            r[0] = (double)nk;
            r[1] = e->kappa_V;
            r[2] = e->kappa_V_resolved && !(m && m->defective); /* no value is right for a defective A */
            r[3] = m ? m->kappa_V : 0;
            r[4] = m ? m->log10_kappa_V : 0;
            r[5] = m ? m->digits : 0;
            r[6] = m ? (double)m->defective : 0;
            ptd_eig_free(e);
            ptd_eig_mp_free(m);
            ptd_system_free(sys);
            cli_progress(&prog, k + 1, count);
        }
        cli_progress_end(&prog);
        cli_sizes_text(notes_buf[nn++], 160, sz, count);
        for (size_t k = 0; k < nn; k++) notes[k] = notes_buf[k];
        snprintf(title, sizeof title, "%s: eigenvector condition number against n", spec);
        ptd_plot_meta meta = {.title = title, .command = cmd, .notes = notes, .nnotes = nn, .latex = latex};
        /* the growth line (3 + 2 sqrt2)^n through the last finite extended (else resolved
         * double) value; none when there is none (a defective family: kappa = inf) */
        double gx[2] = {ns[0], ns[count - 1]}, gy[2];
        size_t ka = count - 1, ndef = 0;
        for (size_t k = 0; k < count; k++) ndef += rows[7 * k + 6] > 0;
        while (ka > 0 && !(any_mp ? isfinite(km[ka]) : rows[7 * ka + 2] != 0)) ka--;
        double anchor = any_mp ? km[ka] : kd[ka];
        if (!(any_mp ? isfinite(anchor) : rows[7 * ka + 2] != 0)) anchor = NAN;
        gy[0] = anchor * pow(GROWTH, gx[0] - ns[ka]);
        gy[1] = anchor * pow(GROWTH, gx[1] - ns[ka]);
        if (ndef) /* what the figure cannot draw, said where it is seen */
            snprintf(title + strlen(title), sizeof title - strlen(title), " (defective at %zu of %zu sizes: inf, not drawn)",
                     ndef, count);
        if (want_tsv) {
            const char *cols[] = {"n", "kappa_double", "resolved", "kappa_extended", "log10_kappa_extended", "digits",
                                  "defective"};
            st = ptd_plot_table_tsv(f, cols, 7, rows, count, &meta);
        } else {
            ptd_plot_series s[3] = {
                {.title = "double precision (LAPACK)", .x = ns, .y = kd, .n = count, .style = "points"},
                {.title = "extended precision (MPFR)", .x = ns, .y = km, .n = count, .style = "linespoints"},
                {.title = "(3 + 2√2)ⁿ", .x = gx, .y = gy, .n = 2, .style = "lines", .colour = "#888888", .dashed = 1}};
            if (!any_mp) s[1] = s[2];
            ptd_plot_axes ax = {.xlabel = "n", .ylabel = latex ? "$\\kappa_2(V)$" : "κ₂(V)", .logy = 1, .key = "top left",
                                .hline = PTD_KAPPA_UNRESOLVED, .hline_label = "1/u: the limit of double precision"};
            st = ptd_plot_series_gnuplot(f, s, any_mp ? 3 : 2, &ax, &meta);
        }
        if (st) cli_fail("writing the output: %s", ptd_last_error());
        cli_mem_close(&text);
        cli_emit(out, want_tsv, text.buf, text.len, text.buf, text.len);
        if (!quiet) {
            fprintf(stderr, "eigcond: %s, %s: kappa_2(V)\n", spec, notes_buf[nn - 1]);
            for (size_t k = 0; k < count; k++) {
                char buf[160];
                describe_double(buf, sizeof buf, rows[7 * k + 1], rows[7 * k + 2] != 0);
                fprintf(stderr, "  n = %4zu  double %s", (size_t)ns[k], buf);
                if (any_mp && rows[7 * k + 6] > 0)
                    fprintf(stderr, "  extended inf (defective: %.0f of %zu eigenvalues)", rows[7 * k + 6], (size_t)ns[k]);
                else if (any_mp) fprintf(stderr, "  extended %.6e", km[k]);
                fputc('\n', stderr);
            }
            if (any_mp && count >= 3) {
                /* least-squares growth rate of log kappa over the upper half of the sizes */
                size_t k0 = count / 2;
                double sx = 0, sy = 0, sxx = 0, sxy = 0, m = 0;
                for (size_t k = k0; k < count; k++) {
                    double lx = ns[k], ly = log(km[k]);
                    if (!isfinite(ly)) continue;
                    sx += lx;
                    sy += ly;
                    sxx += lx * lx;
                    sxy += lx * ly;
                    m++;
                }
                double slope = (m * sxy - sx * sy) / (m * sxx - sx * sx);
                if (m >= 2)
                    fprintf(stderr, "  growth rate per unit n (fit over n >= %zu): %.6f; 3 + 2 sqrt2 = %.6f\n",
                        (size_t)ns[k0], exp(slope), GROWTH);
            }
        }
        free(ns);
        free(kd);
        free(km);
        free(rows);
    }
    free(text.buf);
    free(a.sizes);
    return CLI_OK;
}
