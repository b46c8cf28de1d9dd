/* tf-sweep - transfer functions of a HiPPO system and its diagonal models (S4D: the normal
 * part's eigen-system; PTD: the eigen-system of A + E), and the strong (sup over frequency)
 * and weak (output L2, for a given input) errors of the models as n grows. */
#include "config.h"
#include "cli.h"
#include "ptd.h"

#include <complex.h>
#include <getopt.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(void);

static const struct option own_opts[] = {
    {"models", required_argument, NULL, 'm'},      {"steps", required_argument, NULL, 'S'},
    {"ptd-file", required_argument, NULL, 'p'},    {"C", required_argument, NULL, 'C'},
    {"normalize", no_argument, NULL, 'N'},         {"input", required_argument, NULL, 'u'},
    {"omega-range", required_argument, NULL, 'w'}, {"mode", required_argument, NULL, 'M'},
    {"real", no_argument, NULL, 'R'},              {"grid", required_argument, NULL, 'g'},
    {NULL, 0, NULL, 0}};

static const cli_tool tool = {
    .name = "tf-sweep",
    .accept = CLI_OPT_N | CLI_OPT_SIZES | CLI_OPT_EPS | CLI_OPT_RELATIVE | CLI_OPT_POINTS | CLI_OPT_SEED |
              CLI_OPT_THREADS,
    .own = own_opts,
    .usage = usage,
    .n_default = 64, .n_min = 2, .n_max = 4096,
    .sizes_min = 2, .sizes_max = 4096, .sizes_count_max = 64, .sizes_default = {8, 128},
    .eps_max = 1e150, .eps_one = 1,
    .points_default = 2000, .points_min = 10, .points_max = 1000000,
    .help = {[CLI_H_N] = "order for curves (default 64)",
             [CLI_H_SIZES] = "orders for errors: A, 2A, 4A, ... up to B (A:B:S steps by S,\n"
                             "A:B:xF multiplies by F; default 8:128)",
             [CLI_H_EPS] = "ptd's bound on ||E||_2, absolute (default: --relative 0.01)",
             [CLI_H_RELATIVE] = "-eps is relative: ||E||_2 <= eps ||A||_2",
             [CLI_H_POINTS] = "log-spaced frequencies per side (default 2000)",
             [CLI_H_SEED] = "seed of --C random and of the perturbations (default 1)",
             [CLI_H_THREADS] = "threads for the frequencies (default: all cores)"},
};

static void usage(void)
{
    printf("Usage: tf-sweep MATRIX [options]\n"
           "Transfer functions G(s) = C (sI - A)^{-1} B of a HiPPO system (full) and of its diagonal\n"
           "models: s4d (eigen-system of the normal part A + P P^T, rank-one term dropped), ptd\n"
           "(eigen-system of A + E, E optimised with ||E||_2 <= eps) and random (a complex\n"
           "Ginibre E of the same norm as ptd's); strong and weak errors against full.\n"
           "\n"
           "Options (single or double dash):\n"
           "  --mode M           curves (|G(iw)| at one n; default without --sizes) or errors\n"
           "                     (errors against n; default with --sizes)\n"
           "  --models LIST      comma-separated from full, s4d, ptd, random (default all four)\n"
           "  --steps S          L-BFGS iterations for ptd (default 800)\n"
           "  --real             ptd: a real E (the spectrum closed under conjugation)\n"
           "  --ptd-file F       use a saved PTD system (ptd-sweep --save: text or .mat; a MAT file\n"
           "                     with Lam, V and Vinv only is measured against this matrix)\n"
           "  --C CHOICE         ones (default), bt (B^T), e0, random (seeded)\n"
           "  --normalize        scale B and C to unit 2-norm (as in the theorem)\n"
           "  --input U          exp (e^-t, default), gauss, step (box on [0,1)), impulse\n"
           "  --omega-range A:B  frequency window A <= |w| <= B (default 1e-2 to 4 max(w_max, n))\n"
           );
    cli_help_shared(&tool);
    printf("\n"
           "Example:\n"
           "  tf-sweep hippo-legs --mode errors --normalize --sizes 8:128 -o legs-errors.png\n"
           "Exit status: 0 success, 1 numerical or I/O failure, 2 usage error.\n");
}

enum { M_FULL = 1, M_S4D = 2, M_PTD = 4, M_RANDOM = 8 };
typedef enum { C_ONES, C_BT, C_E0, C_RANDOM } c_choice;

typedef struct {
    size_t n;
    ptd_system *sys;
    ptd_matrix *B, *C;
    ptd_tf *full, *s4d, *ptd, *rnd;
    double wmax;       /* largest frequency of A_N (0 without a normal part) */
    double norm_A;
    double ptd_rel, ptd_normE, ptd_kappa, rnd_kappa;
    /* backward errors ||V L V^-1 - A||_2/||A||_2 of the diagonal systems used (L reflected) */
    double ptd_berr, rnd_berr;
    size_t ptd_refl, rnd_refl; /* eigenvalues reflected into the left half-plane */
    unsigned ptd_steps;
} models;

static void models_free(models *m)
{
    ptd_tf_free(m->full);
    ptd_tf_free(m->s4d);
    ptd_tf_free(m->ptd);
    ptd_tf_free(m->rnd);
    ptd_matrix_free(m->B);
    ptd_matrix_free(m->C);
    ptd_system_free(m->sys);
}

static ptd_tf *diag_of(const ptd_ptd *p, const ptd_matrix *B, const ptd_matrix *C)
{
    size_t n = p->n;
    double complex *b = malloc(n * sizeof *b), *c = malloc(n * sizeof *c);
    if (!b || !c) cli_fail("out of memory");
    for (size_t i = 0; i < n; i++) {
        double complex sb = 0, sc = 0;
        for (size_t k = 0; k < n; k++) {
            sb += PTD_AT(p->Vinv, i, k) * B->data[k];
            sc += C->data[k] * PTD_AT(p->V, k, i);
        }
        b[i] = sb;
        c[i] = sc;
    }
    ptd_tf *t = NULL;
    if (ptd_tf_diag_create(n, p->lambda, b, c, &t)) cli_fail("%s", ptd_last_error());
    free(b);
    free(c);
    return t;
}

typedef struct {
    const char *spec;
    unsigned which;
    double eps;
    int eps_relative; /* 0: eps is an absolute bound on ||E||_2 */
    unsigned steps;
    const ptd_ptd *loaded;
    c_choice cch;
    int normalize;
    unsigned long seed;
    int real;
    struct size_progress *prog; /* the optimiser's steps move the bar within a size */
} setup;

/* The part [base, base + span) of the whole run that one size's optimiser fills. */
typedef struct size_progress {
    cli_progress_state *bar;
    double base, span;
} size_progress;

static void optimiser_step(void *ctx, unsigned step, unsigned steps, double kappa, double rel_E)
{
    (void)kappa, (void)rel_E;
    size_progress *p = ctx;
    if (p && p->bar && steps) cli_progress_fraction(p->bar, p->base + p->span * (double)step / (double)steps);
}

/* "C = ones, unit B and C, ptd ||E||_2 <= 0.01 ||A||_2" (unicode: ||E||₂ ≤ ... ||A||₂) */
static void config_text(char *buf, size_t size, const setup *su, const char *cname, int loaded, int unicode)
{
    int len = snprintf(buf, size, "C = %s%s", cname, su->normalize ? ", unit B and C" : "");
    if (!(su->which & M_PTD) || loaded || len < 0 || (size_t)len >= size) return;
    if (su->eps_relative)
        snprintf(buf + len, size - (size_t)len, unicode ? ", ptd ||E||₂ ≤ %g ||A||₂" : ", ptd ||E||_2 <= %g ||A||_2", su->eps);
    else
        snprintf(buf + len, size - (size_t)len, unicode ? ", ptd ||E||₂ ≤ %g (absolute)" : ", ptd ||E||_2 <= %g (absolute)",
                 su->eps);
}

/* a fitted slope to two decimals, never "-0.00" */
static char *slope_text(char *buf, size_t size, double v)
{
    snprintf(buf, size, "%.2f", v);
    if (strcmp(buf, "-0.00") == 0) snprintf(buf, size, "0.00");
    return buf;
}

static void build(const setup *su, size_t n, models *m)
{
    memset(m, 0, sizeof *m);
    m->n = n;
    m->sys = cli_zoo_make(su->spec, n, su->seed);
    n = m->n = m->sys->n;
    if (!m->sys->B) cli_usage("%s has no input vector B: tf-sweep needs a system (a hippo-* matrix)", su->spec);
    m->B = ptd_matrix_copy(m->sys->B);
    if (ptd_matrix_norm2(m->sys->A, &m->norm_A)) cli_fail("%s", ptd_last_error());
    m->C = ptd_matrix_alloc(1, n);
    if (!m->B || !m->C) cli_fail("out of memory");
    gsl_rng *r = NULL;
    if (su->cch == C_RANDOM) {
        r = gsl_rng_alloc(gsl_rng_mt19937);
        if (!r) cli_fail("out of memory");
        gsl_rng_set(r, su->seed);
    }
    for (size_t i = 0; i < n; i++)
        m->C->data[i] = su->cch == C_ONES ? 1 : su->cch == C_BT ? m->B->data[i] : su->cch == C_E0 ? (i == 0)
                                                                                          : gsl_ran_gaussian(r, 1);
    gsl_rng_free(r);
    if (su->normalize) {
        double nb = ptd_matrix_norm_fro(m->B), nc = ptd_matrix_norm_fro(m->C);
        if (!(nb > 0) || !(nc > 0)) cli_fail("--normalize: B or C is zero");
        for (size_t i = 0; i < n; i++) m->B->data[i] /= nb, m->C->data[i] /= nc;
    }
    ptd_tf *nplr = NULL;
    if (m->sys->P) {
        if (ptd_tf_nplr_create(m->sys->A, m->sys->P, m->B, m->C, &nplr)) cli_fail("%s", ptd_last_error());
        const double complex *lam;
        ptd_tf_modes(nplr, &lam, NULL, NULL);
        for (size_t k = 0; k < n; k++) m->wmax = fmax(m->wmax, fabs(cimag(lam[k])));
    } else if (su->which & M_S4D)
        cli_usage("--models s4d needs a normal-plus-low-rank form (hippo-legs, -legt, -lagt, -fout), which %s has not", su->spec);
    /* A normal part with eigenvalues on the imaginary axis (LagT, FouT: a skew A_N) puts the
     * poles of the S4D model on the axis, where its errors are infinite, and makes the
     * Woodbury form divide 0 by 0 there */
    double maxre = -INFINITY, maxabs = 0;
    if (nplr) {
        const double complex *lam;
        ptd_tf_modes(nplr, &lam, NULL, NULL);
        for (size_t k = 0; k < n; k++) maxre = fmax(maxre, creal(lam[k])), maxabs = fmax(maxabs, cabs(lam[k]));
    }
    int on_axis = nplr && maxre >= -1e-8 * (1 + maxabs);
    if ((su->which & M_S4D) && on_axis)
        cli_fail("s4d: the normal part of %s has eigenvalues on the imaginary axis (largest real part %.3g), so the "
                 "S4D model has poles there and unbounded errors; leave s4d out or use hippo-legs",
                 su->spec, maxre);
    if (su->which & M_S4D)
        if (ptd_tf_s4d_create(nplr, &m->s4d)) cli_fail("%s", ptd_last_error());
    /* full: the Woodbury form when there is a usable one (O(n) per frequency, well
     * conditioned), else the Hessenberg form */
    if (nplr && !on_axis) m->full = nplr;
    else {
        ptd_tf_free(nplr);
        if (ptd_tf_dense_create(m->sys->A, m->B, m->C, &m->full)) cli_fail("%s", ptd_last_error());
    }
    double rel = su->eps;
    if (!su->eps_relative) {
        rel = su->eps / m->norm_A;
        if (!(rel < 1))
            cli_usage("-eps %g is %.3g ||A||_2 at n = %zu: ptd's bound must be below ||A||_2", su->eps, rel, n);
    }
    if (su->which & M_PTD) {
        ptd_ptd *p = NULL;
        if (su->loaded) {
            if (su->loaded->n != n) cli_usage("--ptd-file holds a system of order %zu, not %zu", su->loaded->n, n);
            m->ptd = diag_of(su->loaded, m->B, m->C);
            m->ptd_rel = su->loaded->rel_E;
            m->ptd_normE = su->loaded->norm_E;
            m->ptd_kappa = su->loaded->kappa_V;
            m->ptd_steps = su->loaded->steps;
            m->ptd_refl = su->loaded->reflected;
            /* against this A, whatever the file says (a version-1 file does not say) */
            if (ptd_perturb_backward_error(m->sys->A, su->loaded, &m->ptd_berr)) cli_fail("%s", ptd_last_error());
        } else {
            ptd_perturb_opts o = {.max_rel = rel, .steps = su->steps, .seed = su->seed, .real = su->real,
                                  .progress = optimiser_step, .progress_ctx = su->prog};
            if (ptd_perturb_optimize(m->sys->A, m->B, NULL, &o, &p))
                cli_fail("optimised perturbation at n = %zu: %s", n, ptd_last_error());
            m->ptd = diag_of(p, m->B, m->C);
            m->ptd_rel = p->rel_E;
            m->ptd_normE = p->norm_E;
            m->ptd_kappa = p->kappa_V;
            m->ptd_steps = p->steps;
            m->ptd_refl = p->reflected;
            m->ptd_berr = p->backward_error;
            ptd_ptd_free(p);
        }
        rel = m->ptd_rel;
    }
    if (su->which & M_RANDOM) {
        ptd_ptd *p = NULL;
        if (ptd_perturb_random(m->sys->A, m->B, NULL, rel, su->seed, &p))
            cli_fail("n = %zu: %s", n, cli_lib_error("random perturbation"));
        m->rnd = diag_of(p, m->B, m->C);
        m->rnd_kappa = p->kappa_V;
        m->rnd_refl = p->reflected;
        m->rnd_berr = p->backward_error;
        if (!(su->which & M_PTD)) m->ptd_rel = p->rel_E, m->ptd_normE = p->norm_E;
        ptd_ptd_free(p);
    }
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* least-squares slope of log y against log x over finite positive values */
static double slope(const double *x, const double *y, size_t n)
{
    double sx = 0, sy = 0, sxx = 0, sxy = 0, m = 0;
    for (size_t k = 0; k < n; k++) {
        if (!(y[k] > 0) || !isfinite(y[k])) continue;
        double lx = log(x[k]), ly = log(y[k]);
        sx += lx, sy += ly, sxx += lx * lx, sxy += lx * ly, m++;
    }
    if (m < 2) return NAN;
    return (m * sxy - sx * sy) / (m * sxx - sx * sx);
}

static unsigned parse_models(const char *s)
{
    unsigned w = 0;
    cli_list_check("--models", s, "full, s4d, ptd or random");
    char *copy = strdup(s);
    if (!copy) cli_fail("out of memory");
    for (char *save = NULL, *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        if (strcmp(tok, "full") == 0) w |= M_FULL;
        else if (strcmp(tok, "s4d") == 0) w |= M_S4D;
        else if (strcmp(tok, "ptd") == 0) w |= M_PTD;
        else if (strcmp(tok, "random") == 0) w |= M_RANDOM;
        else cli_usage("--models takes full, s4d, ptd and random, comma-separated (got '%s': '%s' is not one)", s, tok);
    }
    free(copy);
    if (!w) cli_usage("--models: no model given");
    return w;
}

int main(int argc, char **argv)
{
    cli_args a;
    cli_args_init(&tool, &a, argc, argv);
    int mode = -1;
    setup su = {.which = M_FULL | M_S4D | M_PTD | M_RANDOM, .eps = 0.01, .eps_relative = 1, .steps = 800, .cch = C_ONES};
    ptd_tf_input input = PTD_INPUT_EXP;
    double w0 = 1e-2, w1 = 0;
    const char *out = NULL, *ptd_file = NULL;
    int c;
    while ((c = cli_next(&tool, &a, argc, argv)) != -1) {
        switch (c) {
        case 'm': su.which = parse_models(optarg); break;
        case 'S': su.steps = (unsigned)cli_size("--steps", optarg, 1, 1000000); break;
        case 'p': ptd_file = optarg; break;
        case 'C':
            if (strcmp(optarg, "ones") == 0) su.cch = C_ONES;
            else if (strcmp(optarg, "bt") == 0) su.cch = C_BT;
            else if (strcmp(optarg, "e0") == 0) su.cch = C_E0;
            else if (strcmp(optarg, "random") == 0) su.cch = C_RANDOM;
            else cli_usage("--C must be ones, bt, e0 or random (got '%s')", optarg);
            break;
        case 'N': su.normalize = 1; break;
        case 'R': su.real = 1; break;
        case 'u': {
            int u = ptd_tf_input_parse(optarg);
            if (u < 0) cli_usage("--input must be exp, gauss, step or impulse (got '%s')", optarg);
            input = (ptd_tf_input)u;
            break;
        }
        case 'w': cli_double_range("--omega-range", optarg, 1, &w0, &w1); break;
        case 'M':
            if (strcmp(optarg, "curves") == 0) mode = 0;
            else if (strcmp(optarg, "errors") == 0) mode = 1;
            else cli_usage("--mode must be curves or errors (got '%s')", optarg);
            break;
        case 'g': cli_usage("--grid is the two-dimensional grid of pspec; tf-sweep's frequencies are --points K");
        }
    }
    size_t n = a.n, grid = a.points;
    int tsv = a.tsv, quiet = a.quiet, sizes_given = a.sizes_given;
    const char *cmd = a.cmd;
    out = a.out;
    su.seed = a.seed;
    if (a.eps) {
        su.eps = a.eps[0];
        su.eps_relative = a.relative;
        if (a.relative && !(su.eps < 1)) cli_usage("-eps with --relative must be below 1 (got %g)", su.eps);
    }
    su.spec = cli_one_matrix(argc, argv);
    if (strncmp(su.spec, "hippo-", 6) != 0)
        cli_usage("tf-sweep needs a HiPPO system (hippo-legs, hippo-legt, hippo-lagt, ...), not '%s'", su.spec);
    if (mode < 0) mode = sizes_given ? 1 : 0;
    if (mode == 0 && sizes_given) cli_usage("--sizes is for --mode errors; curves use -n");
    if (mode == 1 && !(su.which & (M_S4D | M_PTD | M_RANDOM)))
        cli_usage("--mode errors compares s4d, ptd or random against full: name one in --models");
    cli_out_kind kind = cli_output_kind(out);
    if (tsv && kind == OUT_IMAGE) cli_usage("--format tsv cannot be drawn as an image: use -o FILE.tsv");
    int want_tsv = kind == OUT_DATA || (kind == OUT_STDOUT && tsv);
    ptd_ptd *loaded = NULL;
    if (ptd_file) {
        if (!(su.which & M_PTD)) cli_usage("--ptd-file without ptd in --models");
        if (su.real) cli_usage("--real is for an optimised E, not --ptd-file");
        size_t fn;
        if (ptd_perturb_file_order(ptd_file, &fn)) cli_fail("--ptd-file: %s", ptd_last_error());
        if (!ptd_zoo_valid_n(su.spec, fn)) cli_usage("--ptd-file holds a system of order %zu, which %s has not", fn, su.spec);
        /* measured against this run's matrix (a MAT file without E gets its E from it) */
        ptd_system *fs = cli_zoo_make(su.spec, fn, su.seed);
        if (ptd_perturb_read(ptd_file, fs->A, NULL, NULL, &loaded)) cli_fail("--ptd-file: %s", ptd_last_error());
        ptd_system_free(fs);
        su.loaded = loaded;
        if (mode == 0) n = loaded->n;
        else if (!sizes_given) a.sizes[0] = loaded->n, a.nsizes = 1;
        else if (a.nsizes != 1)
            cli_usage("--ptd-file holds one system, of order %zu: give --sizes %zu:%zu or no --sizes", loaded->n,
                      loaded->n, loaded->n);
        else if (a.sizes[0] != loaded->n) cli_usage("--ptd-file holds a system of order %zu, not %zu", loaded->n, a.sizes[0]);
        char what[256];
        ptd_perturb_describe(loaded, what, sizeof what);
        cli_note(quiet, "tf-sweep: --ptd-file %s: %s\n", ptd_file, what);
    }

    /* the orders */
    size_t ns = 0, *ord = malloc(64 * sizeof *ord);
    if (!ord) cli_fail("out of memory");
    if (mode == 0) ord[ns++] = n;
    else
        for (size_t k = 0; k < a.nsizes; k++) ord[ns++] = a.sizes[k];
    for (size_t k = 0; k < ns; k++)
        if (!ptd_zoo_valid_n(su.spec, ord[k])) cli_usage("%s has no order %zu", su.spec, ord[k]);

    char title[320], nb[8][200];
    const char *notes[8];
    size_t nn = 0;
    static const char *cnames[] = {"ones", "bt", "e0", "random"};
    snprintf(nb[nn++], 200, "matrix: %s, C: %s, normalize: %s, seed: %lu", su.spec, cnames[su.cch],
             su.normalize ? "yes" : "no", su.seed);
    if (su.which & M_PTD) {
        if (loaded) snprintf(nb[nn++], 200, "ptd: from %s", ptd_file);
        else snprintf(nb[nn++], 200, "ptd: optimised %s E, ||E||_2 <= %g%s, %u L-BFGS iterations",
                      su.real ? "real" : "complex", su.eps, su.eps_relative ? " ||A||_2 (relative eps)" : " (absolute eps)",
                      su.steps);
    }
    if (su.which & M_RANDOM) snprintf(nb[nn++], 200, "random: complex Ginibre E of ptd's norm (or eps)");
    /* what the figures and the summary show, said in their titles: which C, which eps; the
     * summary in ASCII, a figure's title with ||E||₂ ≤ 0.01 ||A||₂ (LaTeX gets the ASCII,
     * escaped) */
    int latex = out && strlen(out) > 4 && strcmp(out + strlen(out) - 4, ".tex") == 0;
    char cfg[120], cfgt[120];
    config_text(cfg, sizeof cfg, &su, cnames[su.cch], loaded != NULL, 0);
    config_text(cfgt, sizeof cfgt, &su, cnames[su.cch], loaded != NULL, !latex);
    cli_membuf text = {0};
    FILE *f = cli_mem_open(&text);
    int st;
    cli_progress_state prog;
    cli_progress_start(&prog, quiet, "sizes");

    if (mode == 1) {
        /* errors over the orders */
        enum { E_N, E_S4D_S, E_S4D_W, E_S4D_WEAK, E_PTD_S, E_PTD_W, E_PTD_WEAK, E_PTD_REL, E_PTD_NE, E_PTD_K,
               E_BOUND, E_RND_S, E_RND_W, E_RND_WEAK, E_RND_K, E_WMAX, E_PTD_BERR, E_RND_BERR, E_PTD_REFL, E_RND_REFL,
               NE };
        double *rows = calloc(ns * NE, sizeof *rows);
        double *tm = calloc(ns, sizeof *tm);
        if (!rows || !tm) cli_fail("out of memory");
        /* the bar's share of each size: its cost grows like n^3, nine tenths of it the
         * optimiser's (when there is one) */
        double wsum = 0, wdone = 0;
        for (size_t k = 0; k < ns; k++) wsum += pow((double)ord[k], 3);
        size_progress sp = {.bar = &prog};
        su.prog = &sp;
        for (size_t k = 0; k < ns; k++) {
            double t0 = cli_now();
            models m;
            double wk = pow((double)ord[k], 3) / wsum;
            sp.base = wdone, sp.span = 0.9 * wk;
            build(&su, ord[k], &m);
            wdone += wk;
            double *r = rows + k * NE;
            r[E_N] = (double)m.n;
            r[E_WMAX] = m.wmax;
            double hi = w1 > 0 ? w1 : 4 * fmax(m.wmax, (double)m.n);
            if (!(hi > w0)) cli_usage("--omega-range: the window must end above its start");
            ptd_tf *mods[3] = {m.s4d, m.ptd, m.rnd};
            int base[3] = {E_S4D_S, E_PTD_S, E_RND_S};
            for (int q = 0; q < 3; q++) {
                if (!mods[q]) continue;
                ptd_tf_sup sup;
                if (ptd_tf_strong_error(m.full, mods[q], w0, hi, grid, &sup)) cli_fail("%s", ptd_last_error());
                double we, ae;
                int wst = ptd_tf_weak_error(m.full, mods[q], input, &we, &ae);
                if (wst && wst != PTD_ENOCONV) cli_fail("%s", ptd_last_error());
                if (wst) cli_note(quiet, "  n = %zu: %s\n", m.n, ptd_last_error());
                r[base[q]] = sup.value;
                r[base[q] + 1] = sup.w;
                r[base[q] + 2] = we;
            }
            r[E_PTD_REL] = m.ptd_rel;
            r[E_PTD_NE] = m.ptd_normE;
            r[E_PTD_K] = m.ptd_kappa;
            /* the theorem bounds the error of A + D for any small D: here D = V L V^-1 - A, the
             * system used, which is A + E only when nothing was reflected */
            r[E_PTD_BERR] = (su.which & M_PTD) ? m.ptd_berr : m.rnd_berr;
            r[E_RND_BERR] = m.rnd_berr;
            r[E_BOUND] = (2 * log((double)m.n) + 4) * r[E_PTD_BERR] * m.norm_A;
            r[E_RND_K] = m.rnd_kappa;
            r[E_PTD_REFL] = (double)m.ptd_refl;
            r[E_RND_REFL] = (double)m.rnd_refl;
            models_free(&m);
            tm[k] = cli_now() - t0;
            cli_progress_fraction(&prog, k + 1 == ns ? 1 : wdone);
        }
        cli_progress_end(&prog);
        double *xs = malloc(ns * sizeof *xs), *ys[9];
        for (int q = 0; q < 9; q++) ys[q] = malloc(ns * sizeof *ys[q]);
        int cols9[9] = {E_S4D_S, E_S4D_WEAK, E_PTD_S, E_PTD_WEAK, E_RND_S, E_RND_WEAK, E_BOUND, E_PTD_REL, E_PTD_K};
        for (size_t k = 0; k < ns; k++) {
            xs[k] = rows[k * NE + E_N];
            for (int q = 0; q < 9; q++) ys[q][k] = rows[k * NE + cols9[q]];
        }
        double sl[6];
        for (int q = 0; q < 6; q++) sl[q] = slope(xs, ys[q], ns);
        snprintf(nb[nn++], 200, "input for the weak error: %s; frequency window %g <= |w| <= %s", ptd_tf_input_name(input),
                 w0, w1 > 0 ? "given" : "4 max(w_max, n)");
        for (size_t k = 0; k < nn; k++) notes[k] = nb[k];
        snprintf(title, sizeof title, "%s: errors of the diagonal models against the full system (%s)", su.spec, cfgt);
        ptd_plot_meta meta = {.title = title, .command = cmd, .notes = notes, .nnotes = nn, .latex = latex};
        if (want_tsv) {
            static const char *all[NE] = {"n", "strong_s4d", "w_s4d", "weak_s4d", "strong_ptd", "w_ptd", "weak_ptd",
                                          "rel_E_ptd", "norm_E_ptd", "kappa_ptd", "bound_ptd", "strong_random",
                                          "w_random", "weak_random", "kappa_random", "w_max", "backward_error_ptd",
                                          "backward_error_random", "reflected_ptd", "reflected_random"};
            const char *cols[NE];
            int pick[NE];
            size_t nc = 0;
            for (int q = 0; q < NE; q++) {
                if (q == E_PTD_REFL || q == E_RND_REFL) continue; /* stderr only */
                int keep = q == E_N || q == E_WMAX || ((q >= E_S4D_S && q <= E_S4D_WEAK) && (su.which & M_S4D)) ||
                           ((q >= E_PTD_S && q <= E_BOUND) && (su.which & M_PTD)) ||
                           ((q == E_PTD_REL || q == E_PTD_NE || q == E_BOUND) && (su.which & M_RANDOM)) ||
                           ((q >= E_RND_S && q <= E_RND_K) && (su.which & M_RANDOM)) ||
                           (q == E_PTD_BERR && (su.which & M_PTD)) || (q == E_RND_BERR && (su.which & M_RANDOM));
                if (keep) pick[nc] = q, cols[nc++] = all[q];
            }
            double *sel = malloc(ns * nc * sizeof *sel);
            if (!sel) cli_fail("out of memory");
            for (size_t k = 0; k < ns; k++)
                for (size_t q = 0; q < nc; q++) sel[k * nc + q] = rows[k * NE + pick[q]];
            st = ptd_plot_table_tsv(f, cols, nc, sel, ns, &meta);
            free(sel);
        } else {
            ptd_plot_series s[8];
            size_t nser = 0;
            char tt[7][96];
            const char *names[3] = {"S4D", "PTD", "random PTD"};
            const char *colours[3] = {"#d62728", "#1f77b4", "#2ca02c"};
            unsigned bits[3] = {M_S4D, M_PTD, M_RANDOM};
            double emax = 0; /* the largest error drawn: a bound far above it is vacuous */
            for (int q = 0; q < 6; q++)
                for (size_t k = 0; k < ns; k++)
                    if (isfinite(ys[q][k])) emax = fmax(emax, ys[q][k]);
            for (int q = 0; q < 3; q++) {
                if (!(su.which & bits[q])) continue;
                char a1[16], a2[16];
                snprintf(tt[2 * q], 96, "%s strong (slope %s)", names[q], slope_text(a1, sizeof a1, sl[2 * q]));
                snprintf(tt[2 * q + 1], 96, "%s weak, %s input (slope %s)", names[q], ptd_tf_input_name(input),
                         slope_text(a2, sizeof a2, sl[2 * q + 1]));
                s[nser++] = (ptd_plot_series){.title = tt[2 * q], .x = xs, .y = ys[2 * q], .n = ns,
                                              .style = "linespoints", .colour = colours[q]};
                s[nser++] = (ptd_plot_series){.title = tt[2 * q + 1], .x = xs, .y = ys[2 * q + 1], .n = ns,
                                              .style = "linespoints", .colour = colours[q], .dashed = 1};
            }
            /* the y range: a decade above the errors; a bound above that leaves the frame, and
             * its key says so */
            double top = emax > 0 ? 10 * emax : 0, bmax = 0;
            for (size_t k = 0; k < ns; k++)
                if (isfinite(ys[6][k])) bmax = fmax(bmax, ys[6][k]);
            if (su.which & (M_PTD | M_RANDOM)) {
                snprintf(tt[6], 96, "theorem's bound (2 ln n + 4) ||VΛV⁻¹ − A||₂%s",
                         top > 0 && bmax > top ? ", above the frame where vacuous" : "");
                s[nser++] = (ptd_plot_series){.title = tt[6], .x = xs, .y = ys[6], .n = ns, .style = "lines",
                                              .colour = "#888888", .dashed = 1};
            }
            ptd_plot_axes ax = {.xlabel = "n", .ylabel = latex ? "error" : "error against the full system",
                                .logx = 1, .logy = 1, .hline = NAN, .key = "below",
                                .ymax = bmax > top ? top : 0};
            st = ptd_plot_series_gnuplot(f, s, nser, &ax, &meta);
        }
        if (st) cli_fail("writing the output: %s", ptd_last_error());
        cli_mem_close(&text);
        cli_emit(out, want_tsv, text.buf, text.len, text.buf, text.len);
        if (!quiet) {
            fprintf(stderr, "tf-sweep: %s, %s, %s; weak error for the %s input; sup over %g <= |w| <= %s\n",
                    su.spec, mode ? "errors" : "curves", cfg, ptd_tf_input_name(input), w0, w1 > 0 ? "B" : "4 max(w_max, n)");
            fprintf(stderr, "  %5s %9s", "n", "w_max");
            if (su.which & M_S4D) fprintf(stderr, " | %-10s %-10s %-10s", "S4D strong", "at w", "weak");
            if (su.which & M_PTD) fprintf(stderr, " | %-10s %-10s %-10s %-9s %-8s %-10s", "PTD strong", "at w", "weak",
                                          "||E||/||A||", "kappa", "bound");
            if (su.which & M_PTD) fprintf(stderr, " %-10s %-10s %-4s", "bound rel", "backward", "refl");
            if (su.which & M_RANDOM)
                fprintf(stderr, " | %-10s %-10s %-10s %-8s %-10s %-4s", "rnd strong", "at w", "weak", "kappa", "backward",
                        "refl");
            fprintf(stderr, " | %s\n", "seconds");
            for (size_t k = 0; k < ns; k++) {
                const double *r = rows + k * NE;
                fprintf(stderr, "  %5.0f %9.4g", r[E_N], r[E_WMAX]);
                if (su.which & M_S4D) fprintf(stderr, " | %-10.4g %-10.5g %-10.4g", r[E_S4D_S], r[E_S4D_W], r[E_S4D_WEAK]);
                if (su.which & M_PTD)
                    fprintf(stderr, " | %-10.4g %-10.5g %-10.4g %-11.3g %-8.3g %-10.4g", r[E_PTD_S], r[E_PTD_W],
                            r[E_PTD_WEAK], r[E_PTD_REL], r[E_PTD_K], r[E_BOUND]);
                if (su.which & M_PTD)
                    fprintf(stderr, " %-10.4g %-10.4g %-4.0f", (2 * log(r[E_N]) + 4) * r[E_PTD_BERR], r[E_PTD_BERR],
                            r[E_PTD_REFL]);
                if (su.which & M_RANDOM)
                    fprintf(stderr, " | %-10.4g %-10.5g %-10.4g %-8.3g %-10.4g %-4.0f", r[E_RND_S], r[E_RND_W], r[E_RND_WEAK],
                            r[E_RND_K], r[E_RND_BERR], r[E_RND_REFL]);
                fprintf(stderr, " | %.2f\n", tm[k]);
            }
            for (int q = 0; q < 3; q++) {
                unsigned bits[3] = {M_S4D, M_PTD, M_RANDOM};
                const char *names[3] = {"S4D", "PTD", "random PTD"};
                if (su.which & bits[q])
                    fprintf(stderr, "  fitted log-log slopes against n, %s: strong %.3f, weak (%s) %.3f\n", names[q],
                            sl[2 * q], ptd_tf_input_name(input), sl[2 * q + 1]);
            }
            if (su.which & (M_PTD | M_RANDOM))
                fprintf(stderr, "  backward: ||V L V^-1 - A||_2/||A||_2 of the diagonal system used, whose eigenvalues L are\n"
                                "  those of A + E with positive real parts reflected (Re l <- -|Re l|; refl: how many), so\n"
                                "  that it is A + D with ||D||_2 = backward ||A||_2, not A + E (the same when refl = 0);\n"
                                "  bound: (2 ln n + 4) ||D||_2, the theorem's (docs/mathematics.md section 10), which holds for any small\n"
                                "  perturbation D, with the absolute ||D||_2; bound rel: the same with ||D||_2/||A||_2\n");
        }
        free(rows);
        free(tm);
        free(xs);
        for (int q = 0; q < 9; q++) free(ys[q]);
    } else {
        /* curves at one n */
        models m;
        size_progress sp = {.bar = &prog, .base = 0, .span = 0.9};
        su.prog = &sp;
        build(&su, ord[0], &m);
        cli_progress_end(&prog);
        double hi = w1 > 0 ? w1 : 4 * fmax(m.wmax, (double)m.n);
        if (!(hi > w0)) cli_usage("--omega-range: the window must end above its start");
        /* a log grid, with points added around every pole of the diagonal models so that the
         * narrow peaks are drawn, not skipped */
        size_t cap = grid + 16 * 3 * m.n, np = 0;
        double *w = malloc(cap * sizeof *w);
        if (!w) cli_fail("out of memory");
        for (size_t k = 0; k < grid; k++) w[np++] = exp(log(w0) + (log(hi) - log(w0)) * (double)k / (double)(grid - 1));
        ptd_tf *dm[3] = {m.s4d, m.ptd, m.rnd};
        for (int q = 0; q < 3; q++) {
            if (!dm[q]) continue;
            const double complex *lam;
            ptd_tf_modes(dm[q], &lam, NULL, NULL);
            for (size_t k = 0; k < m.n; k++) {
                double wi = cimag(lam[k]), h = fmax(fabs(creal(lam[k])), 1e-6);
                for (int j = -7; j <= 7; j++) {
                    double v = wi + h * j / 2.0;
                    if (v >= w0 && v <= hi && np < cap) w[np++] = v;
                }
            }
        }
        qsort(w, np, sizeof *w, cmp_double);
        double complex *s = malloc(np * sizeof *s), *G = malloc(np * sizeof *G);
        double *y[4];
        for (int q = 0; q < 4; q++) y[q] = malloc(np * sizeof *y[q]);
        if (!s || !G) cli_fail("out of memory");
        for (size_t k = 0; k < np; k++) s[k] = CMPLX(0, w[k]);
        ptd_tf *all[4] = {(su.which & M_FULL) ? m.full : NULL, m.s4d, m.ptd, m.rnd};
        for (int q = 0; q < 4; q++) {
            if (!all[q]) continue;
            if (ptd_tf_eval(all[q], s, np, G)) cli_fail("%s", ptd_last_error());
            for (size_t k = 0; k < np; k++) y[q][k] = cabs(G[k]);
        }
        double ymin = INFINITY, ymax = 0;
        for (int q = 0; q < 4; q++)
            if (all[q])
                for (size_t k = 0; k < np; k++)
                    if (y[q][k] > 0 && isfinite(y[q][k])) ymin = fmin(ymin, y[q][k]), ymax = fmax(ymax, y[q][k]);
        snprintf(nb[nn++], 200, "n: %zu, w_max (largest frequency of A_N): %.10g", m.n, m.wmax);
        for (size_t k = 0; k < nn; k++) notes[k] = nb[k];
        /* (a LaTeX title is escaped text: ASCII there) */
        snprintf(title, sizeof title, "%s, n = %zu: |G(%s)| of the full system and its diagonal models (%s)", su.spec,
                 m.n, latex ? "iw" : "iω", cfgt);
        ptd_plot_meta meta = {.title = title, .command = cmd, .notes = notes, .nnotes = nn, .latex = latex};
        const char *names[4] = {"full", "s4d", "ptd", "random"};
        if (want_tsv) {
            const char *cols[5] = {"w"};
            size_t nc = 1;
            int pick[4];
            for (int q = 0; q < 4; q++)
                if (all[q]) pick[nc - 1] = q, cols[nc++] = names[q];
            double *sel = malloc(np * nc * sizeof *sel);
            if (!sel) cli_fail("out of memory");
            for (size_t k = 0; k < np; k++) {
                sel[k * nc] = w[k];
                for (size_t q = 1; q < nc; q++) sel[k * nc + q] = y[pick[q - 1]][k];
            }
            st = ptd_plot_table_tsv(f, cols, nc, sel, np, &meta);
            free(sel);
        } else {
            ptd_plot_series ser[5];
            size_t nser = 0;
            char tt[4][96], wt[96];
            const char *colours[4] = {"#000000", "#d62728", "#1f77b4", "#2ca02c"};
            const char *labels[4] = {"full (HiPPO)", "S4D", "PTD", "random PTD"};
            for (int q = 0; q < 4; q++) {
                if (!all[q]) continue;
                if (q == 2)
                    snprintf(tt[q], 96, "PTD (||E||/||A|| = %.2g, backward error %.2g, κ = %.3g)", m.ptd_rel, m.ptd_berr,
                             m.ptd_kappa);
                else if (q == 3) snprintf(tt[q], 96, "random PTD (backward error %.2g, κ = %.3g)", m.rnd_berr, m.rnd_kappa);
                else snprintf(tt[q], 96, "%s", labels[q]);
                ser[nser++] = (ptd_plot_series){.title = tt[q], .x = w, .y = y[q], .n = np, .style = "lines",
                                                .colour = colours[q], .dashed = q == 3};
            }
            double mx[2] = {m.wmax, m.wmax}, my[2] = {ymin > 0 && isfinite(ymin) ? ymin : 1e-3, ymax > 0 ? ymax : 1};
            snprintf(wt, 96, latex ? "largest frequency of $A_N$: %.4g" : "largest frequency of A_N: %.4g", m.wmax);
            if (m.wmax > w0 && m.wmax < hi)
                ser[nser++] = (ptd_plot_series){.title = wt, .x = mx, .y = my, .n = 2, .style = "lines",
                                                .colour = "#888888", .dashed = 1};
            ptd_plot_axes ax = {.xlabel = latex ? "$\\omega$" : "frequency ω", .ylabel = latex ? "$|G(i\\omega)|$" : "|G(iω)|",
                                .logx = 1, .logy = 1, .hline = NAN, .key = "bottom left"};
            st = ptd_plot_series_gnuplot(f, ser, nser, &ax, &meta);
        }
        if (st) cli_fail("writing the output: %s", ptd_last_error());
        cli_mem_close(&text);
        cli_emit(out, want_tsv, text.buf, text.len, text.buf, text.len);
        if (!quiet) {
            fprintf(stderr, "tf-sweep: %s, n = %zu, %s; curves at %zu frequencies over [%g, %g]; largest frequency of A_N "
                    "%.6g\n", su.spec, m.n, cfg, np, w0, hi, m.wmax);
            if (m.ptd)
                fprintf(stderr, "  ptd: ||E||_2/||A||_2 = %.3g, kappa_2(V) = %.4g, %zu eigenvalues reflected: backward error "
                                "of the system used %.3g\n", m.ptd_rel, m.ptd_kappa, m.ptd_refl, m.ptd_berr);
            if (m.rnd)
                fprintf(stderr, "  random: kappa_2(V) = %.4g, %zu eigenvalues reflected: backward error %.3g\n", m.rnd_kappa,
                        m.rnd_refl, m.rnd_berr);
        }
        free(w);
        free(s);
        free(G);
        for (int q = 0; q < 4; q++) free(y[q]);
        models_free(&m);
    }
    ptd_ptd_free(loaded);
    free(ord);
    free(text.buf);
    free(a.sizes);
    free(a.eps);
    return CLI_OK;
}
