/* ptd-sweep - perturb-then-diagonalize over a range of perturbation sizes: what a
 * perturbation E buys (kappa_2(V) of A + E) for what it costs (||E||/||A||, the backward
 * error), random against optimised, at equal backward error. */
#include "config.h"
#include "cli.h"
#include "ptd.h"

#include <complex.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(void);

static const struct option own_opts[] = {
    {"method", required_argument, NULL, 'm'},    {"eps-range", required_argument, NULL, 'e'},
    {"trials", required_argument, NULL, 't'},    {"steps", required_argument, NULL, 'S'},
    {"objective", required_argument, NULL, 'O'}, {"optimizer", required_argument, NULL, 'P'},
    {"weight", required_argument, NULL, 'w'},    {"save", required_argument, NULL, 'v'},
    {"real", no_argument, NULL, 'R'},            {"margin", required_argument, NULL, 'g'},
    {"starts", required_argument, NULL, 'K'},    {"mat-version", required_argument, NULL, 'M'},
    {NULL, 0, NULL, 0}};

static const cli_tool tool = {
    .name = "ptd-sweep",
    .accept = CLI_OPT_N | CLI_OPT_RELATIVE | CLI_OPT_POINTS | CLI_OPT_SEED | CLI_OPT_THREADS,
    .own = own_opts,
    .usage = usage,
    .n_default = 32, .n_min = 2, .n_max = 1024,
    .points_default = 8, .points_min = 1, .points_max = 200,
    .help = {[CLI_H_N] = "order of a named matrix (default 32, not 64: the optimiser's\n"
                         "default run takes 33 s at 32 and 3.4 min at 64)",
             [CLI_H_RELATIVE] = "--eps-range is relative: ||E||_2/||A||_2",
             [CLI_H_POINTS] = "sizes, log-spaced (default 8)",
             [CLI_H_SEED] = "seed of the perturbations (default 1)",
             [CLI_H_THREADS] = "threads for the random trials of a size (default: all cores;\n"
                               "the optimiser runs on one)"},
};

static void usage(void)
{
    printf("Usage: ptd-sweep MATRIX [options]\n"
           "kappa_2(V) of A + E against ||E||_2/||A||_2 for random (complex Ginibre) and optimised\n"
           "perturbations E, with the measured backward error.\n"
           "\n"
           "Options (single or double dash):\n"
           "  --method M         random, optimize or both (default both)\n"
           "  --eps-range A:B    sizes ||E||_2 from A to B, absolute (with --relative: times\n"
           "                     ||A||_2; default --relative 1e-8:1e-1)\n"
           "  --trials T         random perturbations per size (default 5)\n"
           "  --steps S          optimiser iterations per size (default: lbfgs 1200 per start,\n"
           "                     adam and bfgs 3000)\n"
           "  --optimizer O      lbfgs (default: smooth surrogates of kappa, each size a bound,\n"
           "                     every Re lambda <= -margin, sizes continued from the last), adam\n"
           "                     (the authors' method, the size by projection) or bfgs\n"
           "                     (unconstrained: needs --weight, ignores the sizes' bound)\n"
           "  --real             a real E (lbfgs; A real): the spectrum closed under conjugation\n"
           "  --margin D         lbfgs: keep Re lambda(A + E) <= -D (default: half of -alpha(A)\n"
           "                     for a stable A, alpha the spectral abscissa)\n"
           "  --starts K         lbfgs: starts at each size, the best kept (default 3: at the\n"
           "                     first size random, later the last size's E and K-1 random)\n"
           "  --objective O      adam, bfgs: kappa (kappa + weight ||E||_2, default) or kappa2\n"
           "                     (kappa^2 + weight ||E||_F, the authors' code)\n"
           "  --weight W         adam, bfgs: the objective's weight on ||E|| (default 0)\n"
           "  --save FILE        write the PTD system at the largest size (optimised if computed);\n"
           "                     FILE.mat: a MATLAB file (Lam, V, Vinv, E, A), else ptdkit's text\n"
           "  --mat-version V    5 (default, what scipy.io.loadmat reads) or 7.3 (HDF5)\n"
           );
    cli_help_shared(&tool);
    printf("\n"
           "Example:\n"
           "  ptd-sweep hippo-legs -n 32 --points 6 -o legs32-ptd.png\n"
           "Exit status: 0 success, 1 numerical or I/O failure, 2 usage error.\n");
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The largest distance from an eigenvalue of A + E to the spectrum of A. */
static double eig_shift(const ptd_ptd *p, const double complex *lam0, size_t n)
{
    double worst = 0;
    for (size_t i = 0; i < n; i++) {
        /* compare before the reflection: undo it for the real part's sign */
        double complex l = p->lambda[i];
        double best = INFINITY;
        for (size_t k = 0; k < n; k++) {
            best = fmin(best, cabs(l - lam0[k]));
            best = fmin(best, cabs(CMPLX(-creal(l), cimag(l)) - lam0[k]));
        }
        worst = fmax(worst, best);
    }
    return worst;
}

typedef struct {
    int quiet;
    double t0;
    cli_progress_state bar; /* the optimiser's steps within the sizes */
    size_t done, sizes;     /* sizes finished, of sizes */
} sweep_progress;

/* The line per optimised size, whether or not stderr is a terminal: long runs show where
 * they are (a terminal's bar cleared first, drawn again at the next step). */
static void size_line(void *ctx, size_t i, size_t k, const ptd_ptd *p, double seconds)
{
    sweep_progress *sp = ctx;
    sp->done = i + 1;
    if (sp->quiet) return;
    cli_progress_end(&sp->bar);
    fprintf(stderr, "ptd-sweep: optimised size %zu/%zu, ||E||/||A|| %.3g: kappa_2(V) %.4g, %zu reflected, %.1f s\n",
            i + 1, k, p->rel_E, p->kappa_V, p->reflected, seconds);
}

/* The optimiser's step within the size being optimised: the bar moves by the size's share
 * (a size that stops early, its phases converged, jumps to its end), short of its end
 * until the size is done: the done line comes once, after the last size's. */
static void optimiser_step(void *ctx, unsigned step, unsigned steps, double kappa, double rel_E)
{
    (void)kappa, (void)rel_E;
    sweep_progress *sp = ctx;
    if (steps && sp->sizes)
        cli_progress_fraction(&sp->bar, ((double)sp->done + fmin((double)step / (double)steps, 0.99)) / (double)sp->sizes);
}

/* BERR: the backward error of the system returned (eigenvalues reflected); BERR0: before the
 * reflection, of the diagonalization of A + E; REFL: eigenvalues reflected */
enum { COL_REL, COL_KMED, COL_KMIN, COL_KMAX, COL_BERR, COL_SHIFT, COL_BERR0, COL_REFL, COL_KOPT, COL_RELOPT,
       COL_BERROPT, COL_SHIFTOPT, COL_BERR0OPT, COL_REFLOPT, NCOL };

int main(int argc, char **argv)
{
    cli_args a;
    cli_args_init(&tool, &a, argc, argv);
    size_t trials = 5, steps = 0, starts = PTD_PERTURB_STARTS;
    int starts_given = 0, range_given = 0;
    double e0 = 1e-8, e1 = 1e-1, weight = 0, margin = 0;
    int do_rand = 1, do_opt = 1, real = 0, matver = 5;
    const char *save = NULL, *range_arg = NULL;
    ptd_perturb_objective objective = PTD_OBJ_KAPPA;
    ptd_perturb_optimizer optimizer = PTD_OPT_LBFGS;
    int c;
    while ((c = cli_next(&tool, &a, argc, argv)) != -1) {
        switch (c) {
        case 'm':
            if (strcmp(optarg, "random") == 0) do_rand = 1, do_opt = 0;
            else if (strcmp(optarg, "optimize") == 0) do_rand = 0, do_opt = 1;
            else if (strcmp(optarg, "both") == 0) do_rand = 1, do_opt = 1;
            else cli_usage("--method must be random, optimize or both (got '%s')", optarg);
            break;
        case 'e':
            cli_double_range("--eps-range", optarg, 1, &e0, &e1);
            range_given = 1;
            range_arg = optarg;
            break;
        case 't': trials = cli_size("--trials", optarg, 1, 1000); break;
        case 'S': steps = cli_size("--steps", optarg, 1, 1000000); break;
        case 'O':
            if (strcmp(optarg, "kappa") == 0) objective = PTD_OBJ_KAPPA;
            else if (strcmp(optarg, "kappa2") == 0) objective = PTD_OBJ_KAPPA2_FRO;
            else cli_usage("--objective must be kappa or kappa2 (got '%s')", optarg);
            break;
        case 'P':
            if (strcmp(optarg, "lbfgs") == 0) optimizer = PTD_OPT_LBFGS;
            else if (strcmp(optarg, "adam") == 0) optimizer = PTD_OPT_ADAM;
            else if (strcmp(optarg, "bfgs") == 0) optimizer = PTD_OPT_BFGS;
            else cli_usage("--optimizer must be lbfgs, adam or bfgs (got '%s')", optarg);
            break;
        case 'R': real = 1; break;
        case 'g':
            margin = cli_double("--margin", optarg);
            if (!(margin > 0)) cli_usage("--margin must be > 0 (got '%s')", optarg);
            break;
        case 'K': starts = cli_size("--starts", optarg, 1, 100), starts_given = 1; break;
        case 'M':
            if (strcmp(optarg, "5") == 0) matver = 5;
            else if (strcmp(optarg, "7.3") == 0 || strcmp(optarg, "73") == 0) matver = 73;
            else cli_usage("--mat-version must be 5 or 7.3 (got '%s')", optarg);
            break;
        case 'w':
            weight = cli_double("--weight", optarg);
            if (weight < 0) cli_usage("--weight must be >= 0 (got '%s')", optarg);
            break;
        case 'v': save = optarg; break;
        }
    }
    size_t n = a.n, points = a.points;
    int quiet = a.quiet, tsv = a.tsv, relative = a.relative || !range_given;
    unsigned long seed = a.seed;
    const char *out = a.out, *cmd = a.cmd;
    if (relative && e1 >= 10) cli_usage("--eps-range with --relative: sizes are below 10 ||A||_2 (got '%s')", range_arg);
    const char *spec = cli_one_matrix(argc, argv);
    if (optimizer == PTD_OPT_BFGS && do_opt && weight == 0)
        cli_usage("--optimizer bfgs is unconstrained: give it a --weight > 0");
    if ((real || margin > 0 || starts_given) && optimizer != PTD_OPT_LBFGS)
        cli_usage("--real, --margin and --starts are options of --optimizer lbfgs");
    if (optimizer == PTD_OPT_LBFGS && weight > 0) cli_usage("--weight is for --optimizer adam or bfgs");
    int save_mat = save && strlen(save) > 4 && strcmp(save + strlen(save) - 4, ".mat") == 0;
    cli_out_kind kind = cli_output_kind(out);
    if (save) cli_check_save(save, out);
    if (tsv && kind == OUT_IMAGE) cli_usage("--format tsv cannot be drawn as an image: use -o FILE.tsv");
    int want_tsv = kind == OUT_DATA || (kind == OUT_STDOUT && tsv);

    ptd_system *sys = cli_zoo_make(spec, n, seed);
    n = sys->n;
    for (size_t k = 0; real && k < n * n; k++)
        if (cimag(sys->A->data[k]) != 0) cli_usage("--real needs a real matrix; %s is complex", spec);
    { /* an optimiser step is an eigensystem and its gradient, about 1000 n^3 (n = 32: 3.5 ms) */
        double n3 = (double)n * (double)n * (double)n;
        double flops = (double)points * ((do_rand ? (double)trials * cli_flops_eig(n) : 0) + (do_opt ? (double)steps * 1000 * n3 : 0));
        cli_notice_work(quiet, n, cli_bytes_matrices(n, 12), flops / CLI_FLOP_RATE);
    }
    ptd_eig *e0ig = NULL;
    if (ptd_cond_eig(sys->A, &e0ig)) cli_fail("%s", ptd_last_error());
    double abs0 = e0, abs1 = e1; /* as given when absolute */
    if (!relative) {
        e0 /= e0ig->norm2;
        e1 /= e0ig->norm2;
        if (!(e0 > 0) || !(e1 < 10))
            cli_usage("--eps-range '%s' is %.3g to %.3g ||A||_2 (||A||_2 = %.6g): the sizes must lie in (0, 10 ||A||_2)",
                      range_arg, e0, e1, e0ig->norm2);
    }
    double *rows = calloc(points * NCOL, sizeof *rows), *kap = malloc(trials * sizeof *kap),
           *berr = malloc(trials * sizeof *berr), *shift = malloc(trials * sizeof *shift),
           *berr0 = malloc(trials * sizeof *berr0), *refl = malloc(trials * sizeof *refl);
    if (!rows || !kap || !berr || !shift || !berr0 || !refl) cli_fail("out of memory");
    ptd_ptd *keep = NULL;
    /* a trial's failure, kept by the thread that ran it and reported by this one */
    int *fail = calloc(trials, sizeof *fail);
    char (*msg)[256] = calloc(trials, sizeof *msg);
    if (!fail || !msg) cli_fail("out of memory");
    cli_progress_state prog;
    cli_progress_start(&prog, quiet || !do_rand, "random sizes");
    for (size_t k = 0; k < points; k++) {
        /* log-spaced, the ends exactly as given (exp(log a) is a few ulps off a) */
        double eps = k + 1 == points ? e1 : k == 0 ? e0
                     : exp(log(e0) + (log(e1) - log(e0)) * (double)k / (double)(points - 1));
        double *r = rows + k * NCOL;
        r[COL_REL] = eps;
        if (do_rand) {
            /* the trials in parallel: each is seeded by its index, so the values do not
             * depend on the threads; their failures are reported in trial order */
#pragma omp parallel for schedule(dynamic, 1)
            for (size_t t = 0; t < trials; t++) {
                ptd_ptd *p = NULL;
                if (ptd_perturb_random(sys->A, sys->B, NULL, eps, seed + t, &p)) {
                    fail[t] = 1;
                    snprintf(msg[t], sizeof msg[t], "%s", ptd_last_error());
                    continue;
                }
                kap[t] = p->kappa_V;
                berr[t] = p->backward_error;
                berr0[t] = p->backward_error_unreflected;
                refl[t] = (double)p->reflected;
                shift[t] = eig_shift(p, e0ig->lambda, n);
                if (k + 1 == points && t == 0 && !do_opt) keep = p;
                else ptd_ptd_free(p);
            }
            for (size_t t = 0; t < trials; t++)
                if (fail[t]) cli_fail("%s (size %g)", cli_lib_error_of("random perturbation", msg[t]), eps);
            qsort(kap, trials, sizeof *kap, cmp_double);
            qsort(berr, trials, sizeof *berr, cmp_double);
            qsort(shift, trials, sizeof *shift, cmp_double);
            qsort(berr0, trials, sizeof *berr0, cmp_double);
            qsort(refl, trials, sizeof *refl, cmp_double);
            r[COL_KMED] = trials % 2 ? kap[trials / 2] : sqrt(kap[trials / 2 - 1] * kap[trials / 2]);
            r[COL_KMIN] = kap[0];
            r[COL_KMAX] = kap[trials - 1];
            r[COL_BERR] = berr[trials / 2];
            r[COL_SHIFT] = shift[trials / 2];
            r[COL_BERR0] = berr0[trials / 2];
            r[COL_REFL] = refl[trials / 2];
        }
        cli_progress(&prog, k + 1, points);
    }
    cli_progress_end(&prog);
    if (do_opt) {
        /* one path over the sizes: each started from the last (lbfgs), never a larger kappa
         * at a larger size; a line per size on stderr, terminal or not */
        double *eps = malloc(points * sizeof *eps);
        ptd_ptd **res = calloc(points, sizeof *res);
        if (!eps || !res) cli_fail("out of memory");
        for (size_t k = 0; k < points; k++) eps[k] = rows[k * NCOL + COL_REL];
        sweep_progress sp = {.quiet = quiet, .t0 = cli_now(), .sizes = points};
        cli_progress_start(&sp.bar, quiet, "optimised sizes");
        ptd_perturb_opts o = {.objective = objective, .optimizer = optimizer, .weight = weight,
                              .steps = (unsigned)steps, .seed = seed, .real = real, .margin = margin,
                              .starts = (unsigned)starts, .size_done = size_line, .progress = optimiser_step,
                              .progress_ctx = &sp};
        int st;
        if (optimizer == PTD_OPT_LBFGS) st = ptd_perturb_optimize_path(sys->A, sys->B, NULL, eps, points, &o, res);
        else {
            /* adam, bfgs: each size on its own, as the authors ran them */
            st = PTD_OK;
            for (size_t k = 0; k < points && !st; k++) {
                o.max_rel = optimizer == PTD_OPT_ADAM ? eps[k] : 0;
                st = ptd_perturb_optimize(sys->A, sys->B, NULL, &o, &res[k]);
                if (!st) size_line(&sp, k, points, res[k], cli_now() - sp.t0);
            }
        }
        if (st) cli_fail("optimised perturbation: %s", ptd_last_error());
        cli_progress_fraction(&sp.bar, 1);
        cli_progress_end(&sp.bar);
        for (size_t k = 0; k < points; k++) {
            double *r = rows + k * NCOL;
            ptd_ptd *p = res[k];
            r[COL_KOPT] = p->kappa_V;
            r[COL_RELOPT] = p->rel_E;
            r[COL_BERROPT] = p->backward_error;
            r[COL_SHIFTOPT] = eig_shift(p, e0ig->lambda, n);
            r[COL_BERR0OPT] = p->backward_error_unreflected;
            r[COL_REFLOPT] = (double)p->reflected;
            if (k + 1 == points) {
                ptd_ptd_free(keep);
                keep = p;
            } else ptd_ptd_free(p);
        }
        free(res);
        free(eps);
    }

    /* the output */
    char title[160], notes_buf[8][160];
    const char *notes[8];
    size_t nn = 0;
    snprintf(notes_buf[nn++], 160, "matrix: %s, n: %zu, seed: %lu", spec, n, seed);
    if (relative)
        snprintf(notes_buf[nn++], 160, "sizes: %zu from %g to %g relative (times ||A||_2 = %.10g)", points, e0, e1, e0ig->norm2);
    else
        snprintf(notes_buf[nn++], 160, "sizes: %zu from %g to %g absolute (%.3g to %.3g relative, ||A||_2 = %.10g)", points,
                 abs0, abs1, e0, e1, e0ig->norm2);
    if (do_rand) snprintf(notes_buf[nn++], 160, "random: complex Ginibre, %zu trials per size (median, min, max)", trials);
    if (do_opt && optimizer == PTD_OPT_LBFGS)
        snprintf(notes_buf[nn++], 160, "optimised: lbfgs, %s E, margin %s, %zu start(s), %s iterations per size, continued",
                 real ? "real" : "complex", margin > 0 ? "given" : "default", starts, steps ? "given" : "1200");
    else if (do_opt)
        snprintf(notes_buf[nn++], 160, "optimised: %s, objective %s, weight %g, %zu steps%s",
                 optimizer == PTD_OPT_ADAM ? "adam" : "bfgs", objective == PTD_OBJ_KAPPA ? "kappa" : "kappa2", weight,
                 steps ? steps : 3000, optimizer == PTD_OPT_ADAM ? ", size as a constraint" : "");
    for (size_t k = 0; k < nn; k++) notes[k] = notes_buf[k];
    snprintf(title, sizeof title, "%s, n = %zu: perturb-then-diagonalize", spec, n);
    int latex = out && strlen(out) > 4 && strcmp(out + strlen(out) - 4, ".tex") == 0;
    ptd_plot_meta meta = {.title = title, .command = cmd, .notes = notes, .nnotes = nn, .latex = latex};
    cli_membuf text = {0};
    FILE *f = cli_mem_open(&text);
    int st;
    double *x = malloc(points * sizeof *x), *ym = malloc(points * sizeof *ym), *ylo = malloc(points * sizeof *ylo),
           *yhi = malloc(points * sizeof *yhi), *xo = malloc(points * sizeof *xo), *yo = malloc(points * sizeof *yo);
    if (!x || !ym || !ylo || !yhi || !xo || !yo) cli_fail("out of memory");
    for (size_t k = 0; k < points; k++) {
        const double *r = rows + k * NCOL;
        x[k] = r[COL_REL];
        ym[k] = r[COL_KMED];
        ylo[k] = r[COL_KMIN];
        yhi[k] = r[COL_KMAX];
        xo[k] = r[COL_RELOPT];
        yo[k] = r[COL_KOPT];
    }
    if (want_tsv) {
        const char *all[] = {"rel_E", "kappa_random_median", "kappa_random_min", "kappa_random_max",
                             "backward_error_random", "eig_shift_random", "backward_error_unreflected_random",
                             "reflected_random", "kappa_optimized", "rel_E_optimized", "backward_error_optimized",
                             "eig_shift_optimized", "backward_error_unreflected_optimized", "reflected_optimized"};
        /* only the columns of the methods that ran */
        size_t first = do_rand ? 1 : COL_KOPT, last = do_opt ? NCOL : COL_KOPT;
        size_t nc = 1 + (last - first);
        const char *cols[NCOL];
        double *sel = malloc(points * nc * sizeof *sel);
        if (!sel) cli_fail("out of memory");
        cols[0] = all[0];
        for (size_t c2 = first; c2 < last; c2++) cols[1 + c2 - first] = all[c2];
        for (size_t k = 0; k < points; k++) {
            sel[k * nc] = rows[k * NCOL];
            for (size_t c2 = first; c2 < last; c2++) sel[k * nc + 1 + c2 - first] = rows[k * NCOL + c2];
        }
        st = ptd_plot_table_tsv(f, cols, nc, sel, points, &meta);
        free(sel);
    } else {
        /* the 1/eps guide through the random median at the middle size (or the optimised) */
        size_t mid = points / 2;
        double ref = do_rand ? ym[mid] : yo[mid], xr = do_rand ? x[mid] : xo[mid];
        double gx[2] = {x[0], x[points - 1]}, gy[2] = {ref * xr / gx[0], ref * xr / gx[1]};
        ptd_plot_series s[4];
        size_t ns = 0;
        if (do_rand)
            s[ns++] = (ptd_plot_series){.title = "random E (median, min-max)", .x = x, .y = ym, .ylo = ylo, .yhi = yhi,
                                        .n = points, .style = "linespoints"};
        if (do_opt)
            s[ns++] = (ptd_plot_series){.title = "optimised E", .x = xo, .y = yo, .n = points, .style = "linespoints"};
        s[ns++] = (ptd_plot_series){.title = "1/eps", .x = gx, .y = gy, .n = points > 1 ? 2 : 0, .style = "lines",
                                    .colour = "#888888", .dashed = 1};
        /* A's own kappa as a line, so that the axis reaches it (an arrow would not) */
        double ka[2] = {e0ig->kappa_V, e0ig->kappa_V};
        char ktitle[96];
        snprintf(ktitle, sizeof ktitle, "κ₂(V) of A: %.2g", e0ig->kappa_V);
        if (e0ig->kappa_V_resolved)
            s[ns++] = (ptd_plot_series){.title = ktitle, .x = gx, .y = ka, .n = points > 1 ? 2 : 0, .style = "lines",
                                        .colour = "#000000", .dashed = 1};
        ptd_plot_axes ax = {.xlabel = latex ? "$\\|E\\|_2 / \\|A\\|_2$" : "||E||₂ / ||A||₂",
                            .ylabel = latex ? "$\\kappa_2(V)$" : "κ₂(V) of A + E", .logx = 1, .logy = 1,
                            .hline = NAN};
        st = ptd_plot_series_gnuplot(f, s, ns, &ax, &meta);
    }
    if (st) cli_fail("writing the output: %s", ptd_last_error());
    cli_mem_close(&text);
    if (save && save_mat) {
        if (ptd_perturb_save_mat(save, keep, sys->A, matver)) cli_fail("%s", ptd_last_error());
    } else if (save) {
        cli_membuf sb = {0};
        FILE *sf = cli_mem_open(&sb);
        if (ptd_perturb_save(sf, keep)) cli_fail("%s", ptd_last_error());
        cli_mem_close(&sb);
        if (ptd_plot_write_file(save, sb.buf, sb.len)) cli_fail("%s", ptd_last_error());
        free(sb.buf);
    }
    cli_emit(out, want_tsv, text.buf, text.len, text.buf, text.len);
    if (!quiet) {
        char kbuf[96];
        if (e0ig->kappa_V_resolved) snprintf(kbuf, sizeof kbuf, "%.3g", e0ig->kappa_V);
        else snprintf(kbuf, sizeof kbuf, ">= 1/u (not resolved in double precision)");
        fprintf(stderr, "ptd-sweep: %s, n = %zu, ||A||_2 = %.6g, kappa_2(V) of A %s\n", spec, n, e0ig->norm2, kbuf);
        if (!relative)
            fprintf(stderr, "  eps absolute, as given: ||E||_2 from %g to %g; shown relative, ||E||_2/||A||_2:\n", abs0, abs1);
        fprintf(stderr, "  %-10s", "||E||/||A||");
        if (do_rand) fprintf(stderr, "  %-31s %-10s %-4s", "random kappa: median [min, max]", "backward", "refl");
        if (do_opt) fprintf(stderr, "  %-10s %-10s %-10s %-4s", "optimised", "||E||/||A||", "backward", "refl");
        fputc('\n', stderr);
        for (size_t k = 0; k < points; k++) {
            const double *r = rows + k * NCOL;
            fprintf(stderr, "  %-10.3g", r[COL_REL]);
            if (do_rand) {
                char b[64];
                snprintf(b, sizeof b, "%.3g [%.3g, %.3g]", r[COL_KMED], r[COL_KMIN], r[COL_KMAX]);
                fprintf(stderr, "  %-31s %-10.3g %-4.0f", b, r[COL_BERR], r[COL_REFL]);
            }
            if (do_opt)
                fprintf(stderr, "  %-10.4g %-10.3g %-10.3g %-4.0f", r[COL_KOPT], r[COL_RELOPT], r[COL_BERROPT],
                        r[COL_REFLOPT]);
            fputc('\n', stderr);
        }
        fprintf(stderr, "  backward: ||V L V^-1 - A||/||A|| of the system returned, A + E = V L0 V^-1 with the\n"
                        "  eigenvalues of positive real part reflected into L (refl: how many%s);\n"
                        "  before the reflection it is ||E||/||A|| to rounding (tsv: backward_error_unreflected_*)\n",
                do_rand ? "; random: medians over the trials" : "");
        if (do_rand && points >= 3) {
            /* the log-log slope of the random median: about -1 (pseudospectral shattering) */
            double sx = 0, sy = 0, sxx = 0, sxy = 0, m = 0;
            for (size_t k = 0; k < points; k++) {
                double lx = log10(x[k]), ly = log10(ym[k]);
                if (!isfinite(ly)) continue;
                sx += lx, sy += ly, sxx += lx * lx, sxy += lx * ly, m++;
            }
            if (m >= 3) fprintf(stderr, "  random: log-log slope of the median kappa %.3f (theory about -1)\n",
                                (m * sxy - sx * sy) / (m * sxx - sx * sx));
        }
        if (save)
            fprintf(stderr, "  saved the PTD system at ||E||/||A|| = %.3g (kappa %.4g, backward error %.3g, %zu reflected) to %s\n",
                    keep->rel_E, keep->kappa_V, keep->backward_error, keep->reflected, save);
    }
    ptd_ptd_free(keep);
    ptd_eig_free(e0ig);
    ptd_system_free(sys);
    free(rows);
    free(fail);
    free(msg);
    free(kap);
    free(berr);
    free(shift);
    free(berr0);
    free(refl);
    free(x);
    free(ym);
    free(ylo);
    free(yhi);
    free(xo);
    free(yo);
    free(text.buf);
    return CLI_OK;
}
