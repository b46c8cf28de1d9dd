/* ssm-train - train a small S4D / S4-PTD or S5 / S5-PTD classifier on sequential
 * Fashion-MNIST or ListOps, then measure its test accuracy clean and under Fourier-mode noise
 * at w_max, where the transfer function of the normal-part initialisation spikes. */
#include "config.h"
#include "cli.h"
#include "ptd.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(void);

static cli_tool tool = {
    .name = "ssm-train",
    .accept = CLI_OPT_SEED | CLI_OPT_THREADS,
    .usage = usage,
    .help = {[CLI_H_SEED] = "initialisation, shuffling, noise and ListOps (default 1)",
             [CLI_H_THREADS] = "threads of training and testing (default: all cores)",
             [CLI_H_QUIET] = "no log or progress on standard error"},
};

static void usage(void)
{
    printf("Usage: ssm-train [options]\n"
           "Train an S4D-style classifier (diagonal SSM layers) and test it clean and under\n"
           "Fourier-mode noise a U[0,1) cos(w t) at w = w_max of the LegS normal part.\n"
           "\n"
           "Options (single or double dash):\n"
           "  --task T           sfmnist (sequential Fashion-MNIST, default), listops or\n"
           "                     pathfinder (32 x 32 images, two markers: joined by one path?)\n"
           "  --layer S          s4 (a diagonal SSM per channel, default) or s5 (one SSM of\n"
           "                     N/2 complex states shared by the channels, by a scan)\n"
           "  --init I           legs (default), lin or ptd; also named s4d-legs, s4d-lin,\n"
           "                     s4-ptd, s5, s5-lin, s5-ptd (an s5 name implies --layer s5)\n"
           "  --blocks J         s5: J blocks of order N/J, each from LegS of that order (default 1)\n"
           "  --no-conj-sym      s5: all N eigenvalues as states and y = Re(C x), not N/2 and 2 Re\n"
           "  --layers K         SSM layers (default 2)\n"
           "  --width H          channels (default 32)\n"
           "  --state N          LegS order N; N/2 complex modes per channel, s5: N/2 states\n"
           "                     per layer (default 32)\n"
           "  --epochs E         training epochs (default 1)\n"
           "  --batch B          mini-batch size (default 32)\n"
           "  --lr R             AdamW learning rate, at most 1 (default 5e-3)\n"
           "  --ssm-lr R         learning rate of Lambda, Btilde, log dt, at most 1 (default 1e-3)\n"
           "  --wd W             weight decay of the dense matrices, lr W <= 1 (default 0.01)\n"
           "  --clip C           gradient norm clip, 0 for none (default 1)\n"
           "  --train-subset K   train on K samples only (default: all)\n"
           "  --test-subset K    test on the first K test samples only (default: all)\n"
           "  --val K            validation samples held out of training (default: 10%%, at most 5000)\n"
           "  --freeze-ssm       train only C, D and the dense layers\n"
           "  --noise-amp A      noise amplitude a (default 1)\n"
           "  --noise-freq W     noise frequency w (default w_max of the chosen N)\n"
           "  --noise-at P       ssm (the SSM's input in every layer: K * (u + n) + D u, default),\n"
           "                     layers (the layer's input: K * (u + n) + D (u + n)) or input\n"
           "  --dt-range A:B     log-uniform range of the channels' steps dt (default 1e-3:1e-1)\n"
           "  --noise-sweep K    also test at K frequencies from 0 to 1.5 w_max (figure: accuracy\n"
           "                     against frequency)\n"
           "  --compare          train legs and ptd (s4d-legs and s4-ptd, or s5 and s5-ptd) with\n"
           "                     the same seed and data\n"
           "  --ptd FILE         ptd from a PTD file (ptd-sweep --save; s5: of order N/J)\n"
           "  --save FILE        write a checkpoint after training\n"
           "  --load FILE        start from a checkpoint (its shape and init override the options)\n"
           "  --data-dir DIR     Fashion-MNIST IDX files (default " PTD_FMNIST_DIR ")\n"
           "  --min-len, --max-len, --max-depth, --max-args   ListOps (default 20, 200, 6, 5)\n"
           "  --dashes K, --distractors K   Pathfinder: dashes per path (8), paths besides the\n"
           "                     two marked ones (2; a joined image has one more)\n"
           "  --samples K        draw the first K test sequences as images into -o and stop\n"
           "                     (sfmnist, pathfinder)\n"
           );
    cli_help_shared(&tool);
    printf("\nExample:\n"
           "  ssm-train --task listops --width 16 --epochs 2 --train-subset 256 -o curves.png\n"
           "Exit status: 0 success, 1 numerical or I/O failure, 2 usage error.\n");
}

typedef struct {
    cli_progress_state *prog;
    size_t epoch, epochs;
} prog_ctx;

static void on_progress(void *ctx, size_t done, size_t total, double loss)
{
    prog_ctx *p = ctx;
    (void)loss;
    cli_progress(p->prog, p->epoch * total + done, p->epochs * total);
}

/* A checkpoint goes to a temporary file renamed into place, so an interrupt never leaves
 * half a file, and the handlers cli_init installed remove the temporary whichever thread
 * the signal reaches (blocking signals here would cover the main thread only). */
static void save_model(const ptd_train_model *m, const char *path)
{
    if (ptd_train_model_save(m, path)) cli_fail("%s", ptd_last_error());
}

static ptd_train_layer layer = PTD_LAYER_S4;

static const char *init_name(ptd_train_init i)
{
    if (layer == PTD_LAYER_S5) return i == PTD_INIT_S4D_LEGS ? "s5" : i == PTD_INIT_S4D_LIN ? "s5-lin" : "s5-ptd";
    return i == PTD_INIT_S4D_LEGS ? "s4d-legs" : i == PTD_INIT_S4D_LIN ? "s4d-lin" : "s4-ptd";
}

static const char *noise_at_name(ptd_noise_at at, int prose)
{
    if (at == PTD_NOISE_SSM) return prose ? "the SSM input of every layer" : "ssm";
    if (at == PTD_NOISE_LAYERS) return prose ? "every layer's input" : "layers";
    return prose ? "the input" : "input";
}

/* The measurement behind the robustness result: how far the modes an initialisation gives
 * every channel (as the model uses them) are from LegS, at w_max and at worst over
 * [0, 1.5 w_max] (301 frequencies). */
static void note_strong_error(int quiet, const ptd_train_config *cfg, double wmax)
{
    if (quiet || cfg->init == PTD_INIT_S4D_LIN || cfg->layer == PTD_LAYER_S5) return;
    enum { K = 301 };
    double w[K + 1], e[K + 1];
    for (size_t i = 0; i < K; i++) w[i] = 1.5 * wmax * (double)i / (K - 1);
    w[K] = wmax;
    if (ptd_train_init_strong_error(cfg, w, K + 1, e)) cli_fail("%s", ptd_last_error());
    size_t at = 0;
    for (size_t i = 1; i < K; i++)
        if (e[i] > e[at]) at = i;
    fprintf(stderr, "  its modes against LegS (relative strong error, worst output row): %.3g at w_max, %.3g at worst "
            "over [0, 1.5 w_max] (at w = %.4g)\n", e[K], e[at], w[at]);
}

static const char *task_name(int listops, int pf) { return pf ? "pathfinder" : listops ? "listops" : "sfmnist"; }
static const char *task_title(int listops, int pf) { return pf ? "Pathfinder" : listops ? "ListOps" : "sFMNIST"; }

/* --samples K: the first K test sequences drawn as images (Fashion-MNIST's grey values
 * undone from the normalisation), each titled with its label. */
static void draw_samples(const ptd_dataset *test, int pf, size_t k, const char *out, const char *cmd)
{
    static const char *const fm[10] = {"T-shirt", "trouser", "pullover", "dress", "coat",
                                       "sandal", "shirt", "sneaker", "bag", "ankle boot"};
    size_t side = pf ? 32 : 28;
    if (test->len != side * side || test->din != 1) cli_fail("--samples: the test sequences are not %zu x %zu images", side, side);
    if (k > test->n) k = test->n;
    float *img = malloc(k * test->len * sizeof *img);
    char t[64][40];
    const char *titles[64];
    if (!img) cli_fail("out of memory");
    for (size_t i = 0; i < k; i++) {
        for (size_t j = 0; j < test->len; j++) {
            double v = test->x[i * test->len + j];
            img[i * test->len + j] = (float)(pf ? v : v * PTD_FMNIST_STD + PTD_FMNIST_MEAN);
        }
        snprintf(t[i], sizeof t[i], "%s", pf ? (test->y[i] ? "joined" : "apart") : fm[test->y[i] % 10]);
        titles[i] = t[i];
    }
    char title[120];
    snprintf(title, sizeof title, "%s: the first %zu test sequences as images", pf ? "Pathfinder" : "sFMNIST", k);
    ptd_plot_meta meta = {.title = title, .command = cmd};
    cli_membuf text = {0};
    FILE *f = cli_mem_open(&text);
    if (ptd_plot_images_gnuplot(f, img, k, side, side, titles, &meta)) cli_fail("%s", ptd_last_error());
    cli_mem_close(&text);
    cli_emit(out, 0, text.buf, text.len, text.buf, text.len);
    free(img), free(text.buf);
}

int main(int argc, char **argv)
{
    cli_args a;
    cli_args_init(&tool, &a, argc, argv);
    int task_listops = 0, task_pf = 0, freeze = 0, compare = 0, layer_given = 0, init_layer = -1, no_conj = 0;
    size_t blocks = 0, nsamples = 0;
    ptd_pathfinder_opts pfo = PTD_PATHFINDER_DEFAULTS;
    ptd_train_init init = PTD_INIT_S4D_LEGS;
    size_t layers = 2, width = 32, state = 32, epochs = 1, batch = 32, subset = 0, tsubset = 0, sweep = 0;
    size_t nval = (size_t)-1;
    double lr = 5e-3, ssm_lr = 1e-3, wd = 0.01, clip = 1, amp = 1, freq = NAN;
    ptd_noise_at at = PTD_NOISE_SSM;
    double dt_min = 0, dt_max = 0;
    const char *save = NULL, *load = NULL, *ddir = NULL, *ptdfile = NULL;
    ptd_listops_opts lo = {.min_len = 20, .max_len = 200, .max_depth = 6, .max_args = 5};
    static const struct option opts[] = {
        {"task", required_argument, NULL, 'T'},       {"init", required_argument, NULL, 'I'},
        {"layers", required_argument, NULL, 'l'},     {"width", required_argument, NULL, 'w'},
        {"state", required_argument, NULL, 'N'},      {"epochs", required_argument, NULL, 'e'},
        {"batch", required_argument, NULL, 'b'},      {"lr", required_argument, NULL, 'r'},
        {"ssm-lr", required_argument, NULL, 'R'},     {"wd", required_argument, NULL, 'W'},
        {"clip", required_argument, NULL, 'c'},       {"train-subset", required_argument, NULL, 'u'},
        {"test-subset", required_argument, NULL, 'U'}, {"val", required_argument, NULL, 'v'},
        {"freeze-ssm", no_argument, NULL, 'F'},       {"noise-amp", required_argument, NULL, 'a'},
        {"noise-freq", required_argument, NULL, 'y'}, {"noise-at", required_argument, NULL, 'A'},
        {"noise-sweep", required_argument, NULL, 'S'}, {"compare", no_argument, NULL, 'C'},
        {"ptd", required_argument, NULL, 'P'},        {"save", required_argument, NULL, 's'},
        {"load", required_argument, NULL, 'L'},       {"data-dir", required_argument, NULL, 'd'},
        {"min-len", required_argument, NULL, '1'},    {"max-len", required_argument, NULL, '2'},
        {"max-depth", required_argument, NULL, '3'},  {"max-args", required_argument, NULL, '4'},
        {"dt-range", required_argument, NULL, 'D'},   {"layer", required_argument, NULL, 'Y'},
        {"blocks", required_argument, NULL, 'J'},     {"no-conj-sym", no_argument, NULL, 'Z'},
        {"dashes", required_argument, NULL, '5'},     {"distractors", required_argument, NULL, '6'},
        {"samples", required_argument, NULL, '7'},
        {NULL, 0, NULL, 0}};
    tool.own = opts;
    int c;
    while ((c = cli_next(&tool, &a, argc, argv)) != -1) {
        switch (c) {
        case 'T':
            task_listops = task_pf = 0;
            if (strcmp(optarg, "sfmnist") == 0) task_listops = 0;
            else if (strcmp(optarg, "listops") == 0) task_listops = 1;
            else if (strcmp(optarg, "pathfinder") == 0) task_pf = 1;
            else cli_usage("--task must be sfmnist, listops or pathfinder (got '%s')", optarg);
            break;
        case 'I': {
            static const struct {
                const char *name;
                ptd_train_init init;
                int layer; /* -1: either */
            } names[] = {{"legs", PTD_INIT_S4D_LEGS, -1}, {"lin", PTD_INIT_S4D_LIN, -1}, {"ptd", PTD_INIT_S4_PTD, -1},
                         {"s4d-legs", PTD_INIT_S4D_LEGS, PTD_LAYER_S4}, {"s4d-lin", PTD_INIT_S4D_LIN, PTD_LAYER_S4},
                         {"s4-ptd", PTD_INIT_S4_PTD, PTD_LAYER_S4}, {"s5", PTD_INIT_S4D_LEGS, PTD_LAYER_S5},
                         {"s5-lin", PTD_INIT_S4D_LIN, PTD_LAYER_S5}, {"s5-ptd", PTD_INIT_S4_PTD, PTD_LAYER_S5}};
            size_t k = 0;
            while (k < sizeof names / sizeof names[0] && strcmp(optarg, names[k].name)) k++;
            if (k == sizeof names / sizeof names[0])
                cli_usage("--init must be legs, lin, ptd, s4d-legs, s4d-lin, s4-ptd, s5, s5-lin or s5-ptd (got '%s')",
                          optarg);
            init = names[k].init, init_layer = names[k].layer;
            break;
        }
        case 'Y':
            if (strcmp(optarg, "s4") == 0) layer = PTD_LAYER_S4;
            else if (strcmp(optarg, "s5") == 0) layer = PTD_LAYER_S5;
            else cli_usage("--layer must be s4 or s5 (got '%s')", optarg);
            layer_given = 1;
            break;
        case 'J': blocks = cli_size("--blocks", optarg, 1, 512); break;
        case 'Z': no_conj = 1; break;
        case '5': pfo.dashes = (unsigned)cli_size("--dashes", optarg, 1, 64); break;
        case '6': pfo.distractors = (unsigned)cli_size("--distractors", optarg, 0, 16); break;
        case '7': nsamples = cli_size("--samples", optarg, 1, 64); break;
        case 'l': layers = cli_size("--layers", optarg, 1, 16); break;
        case 'w': width = cli_size("--width", optarg, 1, 4096); break;
        case 'N':
            state = cli_size("--state", optarg, 2, 1024);
            if (state % 2) cli_usage("--state must be even (conjugate pairs are halved; got '%s')", optarg);
            break;
        case 'e': epochs = cli_size("--epochs", optarg, 0, 100000); break;
        case 'b': batch = cli_size("--batch", optarg, 1, 65536); break;
        /* AdamW moves every parameter by about lr a step, whatever the gradient: beyond 1 that is
         * more than the parameters' own scale, and the first steps overflow */
        case 'r': lr = cli_positive_max("--lr", optarg, 1); break;
        case 'R': ssm_lr = cli_positive_max("--ssm-lr", optarg, 1); break;
        case 'W':
            wd = cli_double("--wd", optarg);
            if (wd < 0) cli_usage("--wd must be >= 0 (got '%s')", optarg);
            break;
        case 'c':
            clip = cli_double("--clip", optarg);
            if (clip < 0) cli_usage("--clip must be >= 0 (got '%s')", optarg);
            break;
        case 'u': subset = cli_size("--train-subset", optarg, 2, 100000000); break;
        case 'U': tsubset = cli_size("--test-subset", optarg, 1, 100000000); break;
        case 'v': nval = cli_size("--val", optarg, 0, 100000000); break;
        case 'F': freeze = 1; break;
        case 'D': cli_double_range("--dt-range", optarg, 1, &dt_min, &dt_max); break;
        case 'a': amp = cli_double("--noise-amp", optarg); break;
        case 'y':
            freq = cli_double("--noise-freq", optarg);
            if (freq < 0) cli_usage("--noise-freq must be >= 0 (got '%s')", optarg);
            break;
        case 'A':
            if (strcmp(optarg, "ssm") == 0) at = PTD_NOISE_SSM;
            else if (strcmp(optarg, "layers") == 0) at = PTD_NOISE_LAYERS;
            else if (strcmp(optarg, "input") == 0) at = PTD_NOISE_INPUT;
            else cli_usage("--noise-at must be ssm, layers or input (got '%s')", optarg);
            break;
        case 'S': sweep = cli_size("--noise-sweep", optarg, 2, 1000); break;
        case 'C': compare = 1; break;
        case 'P': ptdfile = optarg; break;
        case 's': save = optarg; break;
        case 'L': load = optarg; break;
        case 'd': ddir = optarg; break;
        case '1': lo.min_len = cli_size("--min-len", optarg, 1, 100000); break;
        case '2': lo.max_len = cli_size("--max-len", optarg, 1, 100000); break;
        case '3': lo.max_depth = (unsigned)cli_size("--max-depth", optarg, 1, 100); break;
        case '4': lo.max_args = (unsigned)cli_size("--max-args", optarg, 2, 64); break;
        }
    }
    int quiet = a.quiet, tsv = a.tsv, threads = a.threads;
    unsigned long seed = a.seed;
    const char *out = a.out, *cmd = a.cmd;
    if (optind < argc) cli_usage("no positional arguments are taken (got '%s')", argv[optind]);
    if (nsamples && task_listops) cli_usage("--samples draws images: --task sfmnist or pathfinder");
    if (nsamples && (tsv || cli_output_kind(out) == OUT_DATA)) cli_usage("--samples draws a figure, not a table");
    if (init_layer >= 0) {
        if (layer_given && (int)layer != init_layer)
            cli_usage("--init %s is an %s initialisation, but --layer is %s", init_name(init), init_layer ? "s5" : "s4",
                      layer == PTD_LAYER_S5 ? "s5" : "s4");
        layer = (ptd_train_layer)init_layer;
    }
    if (layer != PTD_LAYER_S5 && (blocks || no_conj)) cli_usage("--blocks and --no-conj-sym are for --layer s5");
    if (!blocks) blocks = 1;
    if (layer == PTD_LAYER_S5 && (state % blocks || (state / blocks) % 2))
        cli_usage("--blocks %zu must divide --state %zu into blocks of even order", blocks, state);
    /* the order of the LegS the PTD is made from: the state (s4) or a block (s5) */
    const size_t sys_order = layer == PTD_LAYER_S5 ? state / blocks : state;
    if (compare && (save || load)) cli_usage("--compare trains two models: it cannot --save or --load one");
    if (lo.min_len > lo.max_len) cli_usage("--min-len %zu exceeds --max-len %zu", lo.min_len, lo.max_len);
    if (ptdfile && init != PTD_INIT_S4_PTD && !compare) cli_usage("--ptd FILE needs --init ptd (s4-ptd, s5-ptd) or --compare");
    if (epochs == 0 && !load) cli_usage("--epochs 0 only makes sense with --load");
    /* decoupled weight decay multiplies each dense weight by 1 - lr wd a step */
    if (lr * wd > 1) cli_usage("--wd %g with --lr %g: lr wd = %g, but the decay factor 1 - lr wd must be >= 0", wd, lr, lr * wd);
    cli_out_kind kind = cli_output_kind(out);
    if (save) cli_check_save(save, out);
    if (tsv && kind == OUT_IMAGE) cli_usage("--format tsv cannot be drawn as an image: use -o FILE.tsv");
    int want_tsv = kind == OUT_DATA || (kind == OUT_STDOUT && tsv);

    ptd_ptd *ptd = NULL;
    if (ptdfile) {
        size_t fn;
        if (ptd_perturb_file_order(ptdfile, &fn)) cli_fail("--ptd: %s", ptd_last_error());
        if (fn != sys_order)
            cli_usage("--ptd %s has order %zu, but the %s is %zu", ptdfile, fn,
                      layer == PTD_LAYER_S5 ? "block order --state / --blocks" : "--state", sys_order);
        /* against LegS of that order, whose B gives the modes' inputs (text or MAT file) */
        ptd_system *legs = cli_zoo_make("hippo-legs", sys_order, 0);
        if (ptd_perturb_read(ptdfile, legs->A, legs->B, NULL, &ptd)) cli_fail("--ptd: %s", ptd_last_error());
        ptd_system_free(legs);
        char what[256];
        ptd_perturb_describe(ptd, what, sizeof what);
        cli_note(quiet, "ssm-train: --ptd %s: %s\n", ptdfile, what);
    }
    ptd_train_model *loaded = NULL;
    const int eval_only = load && epochs == 0;
    if (load) {
        if (ptd_train_model_load(load, &loaded)) cli_fail("%s", ptd_last_error());
        const ptd_train_config *lc = ptd_train_model_config(loaded);
        layers = lc->layers, width = lc->width, state = lc->state, init = lc->init;
        layer = lc->layer, blocks = lc->blocks ? lc->blocks : 1, no_conj = lc->s5_full;
    }

    /* data */
    ptd_dataset *all = NULL, *train = NULL, *val = NULL, *test = NULL;
    double t0 = cli_now();
    if (task_pf) {
        size_t ntr = subset ? subset : 10000, nte = tsubset ? tsubset : 1000;
        if ((!eval_only && !nsamples && ptd_data_pathfinder_generate(&pfo, ntr, seed, &all)) ||
            ptd_data_pathfinder_generate(&pfo, nte, seed + 1000003, &test))
            cli_fail("%s", ptd_last_error());
    } else if (task_listops) {
        size_t ntr = subset ? subset : 2000, nte = tsubset ? tsubset : 500;
        if ((!eval_only && ptd_data_listops_generate(&lo, ntr, seed, &all)) ||
            ptd_data_listops_generate(&lo, nte, seed + 1000003, &test))
            cli_fail("%s", ptd_last_error());
    } else {
        /* evaluating a checkpoint reads the test images only */
        if ((!eval_only && !nsamples && ptd_data_fmnist_load(ddir, 0, &all)) || ptd_data_fmnist_load(ddir, 1, &test))
            cli_fail("%s (install the Debian package dataset-fashion-mnist, or give --data-dir)", ptd_last_error());
        if (subset || tsubset) {
            ptd_dataset *tmp;
            if (all && subset && subset < all->n) {
                ptd_dataset *rest;
                if (ptd_dataset_split(all, all->n - subset, seed, &tmp, &rest)) cli_fail("%s", ptd_last_error());
                ptd_dataset_free(rest), ptd_dataset_free(all), all = tmp;
            }
            if (tsubset && tsubset < test->n) {
                size_t *ix = malloc(tsubset * sizeof *ix);
                if (!ix) cli_fail("out of memory");
                for (size_t i = 0; i < tsubset; i++) ix[i] = i;
                if (ptd_dataset_subset(test, ix, tsubset, &tmp)) cli_fail("%s", ptd_last_error());
                free(ix), ptd_dataset_free(test), test = tmp;
            }
        }
    }
    if (nsamples) {
        draw_samples(test, task_pf, nsamples, out, cmd);
        ptd_dataset_free(test);
        ptd_ptd_free(ptd);
        ptd_train_model_free(loaded);
        return CLI_OK;
    }
    if (eval_only) {
        cli_note(quiet, "ssm-train: %s: evaluation only: %zu test sequences of length %zu (%.1f s)\n",
                 task_name(task_listops, task_pf), test->n, test->len, cli_now() - t0);
    } else {
        if (nval == (size_t)-1) nval = all->n / 10 < 5000 ? all->n / 10 : 5000;
        if (nval >= all->n) cli_usage("--val %zu leaves no training data (of %zu)", nval, all->n);
        if (nval) {
            if (ptd_dataset_split(all, nval, seed + 17, &train, &val)) cli_fail("%s", ptd_last_error());
            ptd_dataset_free(all);
        } else {
            train = all;
        }
        all = NULL;
        cli_note(quiet, "ssm-train: %s: %zu training, %zu validation, %zu test sequences of length %zu (%.1f s)\n",
                 task_name(task_listops, task_pf), train->n, val ? val->n : 0, test->n, train->len, cli_now() - t0);
    }

    /* models */
    ptd_train_init inits[2] = {init, PTD_INIT_S4_PTD};
    if (compare) inits[0] = PTD_INIT_S4D_LEGS;
    size_t nm = compare ? 2 : 1;
    ptd_train_model *models[2] = {NULL, NULL};
    double *trloss = calloc(2 * (epochs + 1), sizeof *trloss), *tracc = calloc(2 * (epochs + 1), sizeof *tracc),
           *vacc = calloc(2 * (epochs + 1), sizeof *vacc);
    size_t nsw = sweep ? sweep : 0;
    double *swf = calloc(nsw + 1, sizeof *swf), *swacc = calloc(2 * (nsw + 1), sizeof *swacc);
    double clean[2], noisy[2], wmax = 0;
    if (!trloss || !tracc || !vacc || !swf || !swacc) cli_fail("out of memory");
    /* the PTD system of an s4-ptd model, computed once here (or read) so that the summary can
     * say what it cost, ||E||/||A||, and how far the system the modes come from, V L V^-1 with
     * the eigenvalues of positive real part reflected, is from LegS: its backward error */
    const int ptd_from_file = ptd != NULL;
    ptd_ptd *computed = NULL;
    double ptd_berr = NAN, tptd = 0;
    if (!loaded && (init == PTD_INIT_S4_PTD || compare)) {
        double tc = cli_now();
        if (!ptd) {
            ptd_train_config pc = {.state = state, .seed = seed, .layer = layer, .blocks = blocks};
            if (ptd_train_ptd_create(&pc, &computed)) cli_fail("%s", ptd_last_error());
            ptd = computed;
            ptd_berr = ptd->backward_error;
        } else { /* against LegS, whatever the file says (a version-1 file may not say) */
            ptd_system *legs = cli_zoo_make("hippo-legs", sys_order, seed);
            if (ptd_perturb_backward_error(legs->A, ptd, &ptd_berr)) cli_fail("%s", ptd_last_error());
            ptd_system_free(legs);
        }
        tptd = cli_now() - tc;
        cli_note(quiet,
                 "ssm-train: PTD of LegS, N = %zu%s: ||E||/||A|| = %.3g, kappa_2(V) = %.4g; %zu of %zu eigenvalues of "
                 "A + E reflected: backward error of V L V^-1 %.3g\n",
                 sys_order, ptd_from_file ? " (from file)" : "", ptd->rel_E, ptd->kappa_V, ptd->reflected, ptd->n, ptd_berr);
    }
    for (size_t k = 0; k < nm; k++) {
        if (loaded) {
            models[k] = loaded;
            if (ptd_train_model_config(loaded)->len != test->len || ptd_train_model_config(loaded)->din != test->din)
                cli_fail("%s: the checkpoint is for sequences of length %zu with %zu features, not this task's %zu, %zu",
                         load, ptd_train_model_config(loaded)->len, ptd_train_model_config(loaded)->din, test->len,
                         test->din);
        } else {
            ptd_train_config cfg = {.din = train->din, .nclass = train->nclass, .len = train->len, .layers = layers,
                                    .width = width, .state = state, .init = inits[k], .ptd = ptd, .seed = seed,
                                    .dt_min = dt_min, .dt_max = dt_max, .layer = layer,
                                    .blocks = layer == PTD_LAYER_S5 ? blocks : 0, .s5_full = no_conj};
            double tc = cli_now();
            if (ptd_train_model_create(&cfg, &models[k])) cli_fail("%s", ptd_last_error());
            cli_note(quiet, "ssm-train: %s: %zu layers, width %zu, N = %zu (%zu %s), %zu parameters, w_max = %.4g%s\n",
                     init_name(inits[k]), layers, width, state, ptd_train_model_config(models[k])->modes,
                     layer == PTD_LAYER_S5 ? "states a layer" : "modes a channel",
                     ptd_train_model_nparams(models[k]),
                     ptd_train_model_wmax(models[k]),
                     inits[k] == PTD_INIT_S4_PTD ? (ptd_from_file ? " (PTD from file)" : "") : "");
            if (inits[k] == PTD_INIT_S4_PTD && !ptd_from_file)
                cli_note(quiet, "  PTD of LegS computed in %.1f s\n", tptd + cli_now() - tc);
            note_strong_error(quiet, &cfg, ptd_train_model_wmax(models[k]));
        }
        ptd_train_model *m = models[k];
        wmax = ptd_train_model_wmax(m);
        cli_progress_state prog;
        cli_progress_start(&prog, quiet, init_name(inits[k]));
        prog_ctx pc = {&prog, 0, epochs};
        ptd_train_opts to = {.lr = lr, .ssm_lr = ssm_lr, .wd = wd, .clip = clip, .batch = batch,
                             .epochs = epochs, .freeze_ssm = freeze, .threads = threads, .seed = seed,
                             .progress = on_progress, .progress_ctx = &pc};
        for (size_t e = 0; e < epochs; e++) {
            ptd_train_epoch_stats st;
            pc.epoch = e;
            if (ptd_train_epoch(m, &to, train, ptd_train_model_epochs_done(m), &st)) cli_fail("%s", ptd_last_error());
            double va = NAN;
            if (val && ptd_train_evaluate(m, val, NULL, threads, NULL, &va)) cli_fail("%s", ptd_last_error());
            trloss[k * (epochs + 1) + e] = st.loss;
            tracc[k * (epochs + 1) + e] = st.acc;
            vacc[k * (epochs + 1) + e] = va;
            if (!quiet) {
                prog.shown ? fputs("\r\033[K", stderr) : 0;
                fprintf(stderr, "  %s epoch %zu/%zu: train loss %.4f, accuracy %.2f %%, validation %.2f %%, %.1f s (%.0f samples/s)\n",
                        init_name(inits[k]), e + 1, epochs, st.loss, 100 * st.acc, 100 * va, st.seconds,
                        st.samples_per_s);
            }
        }
        cli_progress_end(&prog);
        ptd_train_noise nz = {.at = at, .amp = amp, .freq = isnan(freq) ? wmax : freq, .seed = seed + 99};
        if (ptd_train_evaluate(m, test, NULL, threads, NULL, &clean[k]) ||
            ptd_train_evaluate(m, test, &nz, threads, NULL, &noisy[k]))
            cli_fail("%s", ptd_last_error());
        for (size_t j = 0; j < nsw; j++) {
            swf[j] = 1.5 * wmax * (double)j / (double)(nsw - 1);
            ptd_train_noise sz = nz;
            sz.freq = swf[j];
            if (ptd_train_evaluate(m, test, &sz, threads, NULL, &swacc[k * (nsw + 1) + j])) cli_fail("%s", ptd_last_error());
        }
        if (save) save_model(m, save);
    }
    double nfreq = isnan(freq) ? wmax : freq;

    /* output */
    char layer_text[64];
    if (layer == PTD_LAYER_S5 && blocks > 1)
        snprintf(layer_text, sizeof layer_text, "S5, N = %zu x %zu", blocks, state / blocks);
    else snprintf(layer_text, sizeof layer_text, "%s, N = %zu", layer == PTD_LAYER_S5 ? "S5" : "S4", state);
    char title[200], nb[7][200];
    const char *notes[7];
    size_t nn = 0;
    snprintf(nb[nn++], 200, "task: %s, train %zu, validation %zu, test %zu, seed %lu", task_name(task_listops, task_pf),
             train ? train->n : 0, val ? val->n : 0, test->n, seed);
    if (layer == PTD_LAYER_S5)
        snprintf(nb[nn++], 200, "model: s5, %zu layers, width %zu, state N %zu in %zu blocks, %s, %s", layers, width,
                 state, blocks, no_conj ? "N states, Re" : "conjugate symmetry", freeze ? "SSM frozen" : "SSM trained");
    else
        snprintf(nb[nn++], 200, "model: %zu layers, width %zu, state N %zu, %s", layers, width, state,
                 freeze ? "SSM frozen (C, D, dense trained)" : "SSM trained");
    snprintf(nb[nn++], 200, "training: %zu epochs, batch %zu, lr %g, ssm-lr %g, wd %g, clip %g", epochs, batch, lr,
             ssm_lr, wd, clip);
    snprintf(nb[nn++], 200, "noise: %g U[0,1) cos(w t) at %s, w %g (w_max %g)", amp,
             noise_at_name(at, 0), nfreq, wmax);
    if (ptd && !isnan(ptd_berr)) /* the PTD a model was made from here, not one inside a checkpoint */
        snprintf(nb[nn++], 200, "%s: PTD of LegS%s, ||E||/||A|| %.17g, kappa_2(V) %.17g, %zu reflected, "
                 "backward error of V L V^-1 %.17g", init_name(PTD_INIT_S4_PTD), ptd_from_file ? " from file" : "", ptd->rel_E, ptd->kappa_V,
                 ptd->reflected, ptd_berr);
    for (size_t k = 0; k < nm; k++)
        snprintf(nb[nn++], 200, "%s: clean test accuracy %.4f, noisy %.4f", init_name(inits[k]), clean[k], noisy[k]);
    for (size_t k = 0; k < nn; k++) notes[k] = nb[k];
    int latex = out && strlen(out) > 4 && strcmp(out + strlen(out) - 4, ".tex") == 0;
    ptd_plot_meta meta = {.title = title, .command = cmd, .notes = notes, .nnotes = nn, .latex = latex};
    cli_membuf text = {0};
    FILE *f = cli_mem_open(&text);
    int st;
    size_t E = epochs;
    if (sweep) {
        snprintf(title, sizeof title, "%s, %s: accuracy under noise a U[0,1) cos(w t), a = %g, at %s",
                 task_title(task_listops, task_pf), layer_text,  amp, noise_at_name(at, 1));
        double *y = malloc(2 * nsw * sizeof *y);
        if (!y) cli_fail("out of memory");
        for (size_t k = 0; k < nm; k++)
            for (size_t j = 0; j < nsw; j++) y[k * nsw + j] = 100 * swacc[k * (nsw + 1) + j];
        if (want_tsv) {
            const char *cols[3] = {"w", "accuracy_a", "accuracy_b"};
            char c1[40], c2[40];
            snprintf(c1, 40, "accuracy_%s", init_name(inits[0]));
            snprintf(c2, 40, "accuracy_%s", init_name(inits[1]));
            cols[1] = c1, cols[2] = c2;
            double *rows = malloc(nsw * 3 * sizeof *rows);
            if (!rows) cli_fail("out of memory");
            for (size_t j = 0; j < nsw; j++) {
                rows[j * (nm + 1)] = swf[j];
                for (size_t k = 0; k < nm; k++) rows[j * (nm + 1) + 1 + k] = y[k * nsw + j];
            }
            st = ptd_plot_table_tsv(f, cols, nm + 1, rows, nsw, &meta);
            free(rows);
        } else {
            ptd_plot_series s[5];
            size_t ns = 0;
            /* each init's clean accuracy as a dashed line in its colour: the reference the dips are
             * measured from */
            double cx[2] = {0, swf[nsw - 1]}, cy[2][2];
            char ct[2][64];
            for (size_t k = 0; k < nm; k++) {
                const char *col = k ? "#c0392b" : "#0060ad";
                s[ns++] = (ptd_plot_series){.title = init_name(inits[k]), .x = swf, .y = y + k * nsw, .n = nsw,
                                            .style = "linespoints", .colour = col};
                cy[k][0] = cy[k][1] = 100 * clean[k];
                snprintf(ct[k], sizeof ct[k], "%s, no noise", init_name(inits[k]));
                s[ns++] = (ptd_plot_series){.title = ct[k], .x = cx, .y = cy[k], .n = 2, .style = "lines",
                                            .colour = col, .dashed = 1};
            }
            double wx[2] = {wmax, wmax}, wy[2] = {0, 100};
            s[ns++] = (ptd_plot_series){.title = latex ? "$w_{\\max}$" : "w_{max}", .x = wx, .y = wy, .n = 2, .style = "lines",
                                        .colour = "#888888", .dashed = 1};
            ptd_plot_axes ax = {.xlabel = layer == PTD_LAYER_S5 ? "noise frequency w (per unit of each layer's mean step)"
                                                                : "noise frequency w (per unit of each channel's time)",
                                .ylabel = latex ? "test accuracy (\\%)" : "test accuracy (%)", .hline = NAN, .key = "below", .ymax = 100};
            st = ptd_plot_series_gnuplot(f, s, ns, &ax, &meta);
        }
        free(y);
    } else {
        snprintf(title, sizeof title, "%s, %s: learning curves", task_title(task_listops, task_pf), layer_text);
        double *x = malloc((E + 1) * sizeof *x);
        if (!x) cli_fail("out of memory");
        for (size_t e = 0; e < E; e++) x[e] = (double)(e + 1);
        if (want_tsv) {
            const char *all6[] = {"epoch", NULL, NULL, NULL, NULL, NULL, NULL};
            char cn[6][48];
            for (size_t k = 0; k < nm; k++) {
                snprintf(cn[3 * k], 48, "train_loss_%s", init_name(inits[k]));
                snprintf(cn[3 * k + 1], 48, "train_accuracy_%s", init_name(inits[k]));
                snprintf(cn[3 * k + 2], 48, "validation_accuracy_%s", init_name(inits[k]));
                all6[1 + 3 * k] = cn[3 * k], all6[2 + 3 * k] = cn[3 * k + 1], all6[3 + 3 * k] = cn[3 * k + 2];
            }
            size_t nc = 1 + 3 * nm;
            double *rows = malloc((E + 1) * nc * sizeof *rows);
            if (!rows) cli_fail("out of memory");
            for (size_t e = 0; e < E; e++) {
                rows[e * nc] = x[e];
                for (size_t k = 0; k < nm; k++) {
                    double v = vacc[k * (E + 1) + e];
                    rows[e * nc + 1 + 3 * k] = trloss[k * (E + 1) + e];
                    rows[e * nc + 2 + 3 * k] = tracc[k * (E + 1) + e];
                    rows[e * nc + 3 + 3 * k] = isnan(v) ? -1 : v; /* -1: no validation set */
                }
            }
            st = ptd_plot_table_tsv(f, all6, nc, rows, E, &meta);
            free(rows);
        } else {
            ptd_plot_series s[4];
            double *ya = malloc(2 * (E + 1) * sizeof *ya), *yv = malloc(2 * (E + 1) * sizeof *yv);
            if (!ya || !yv) cli_fail("out of memory");
            char tt[4][64];
            size_t ns = 0;
            for (size_t k = 0; k < nm; k++) {
                for (size_t e = 0; e < E; e++) {
                    ya[k * (E + 1) + e] = 100 * tracc[k * (E + 1) + e];
                    yv[k * (E + 1) + e] = 100 * vacc[k * (E + 1) + e];
                }
                snprintf(tt[2 * k], 64, "%s, training", init_name(inits[k]));
                snprintf(tt[2 * k + 1], 64, "%s, validation", init_name(inits[k]));
                const char *col = k ? "#c0392b" : "#0060ad";
                s[ns++] = (ptd_plot_series){.title = tt[2 * k], .x = x, .y = ya + k * (E + 1), .n = E,
                                            .style = "linespoints", .colour = col, .dashed = 1};
                if (val)
                    s[ns++] = (ptd_plot_series){.title = tt[2 * k + 1], .x = x, .y = yv + k * (E + 1), .n = E,
                                                .style = "linespoints", .colour = col};
            }
            ptd_plot_axes ax = {.xlabel = "epoch", .ylabel = latex ? "accuracy (\\%)" : "accuracy (%)", .hline = NAN, .key = "below", .ymax = 100};
            st = ptd_plot_series_gnuplot(f, s, ns, &ax, &meta);
            free(ya), free(yv);
        }
        free(x);
    }
    if (st) cli_fail("writing the output: %s", ptd_last_error());
    cli_mem_close(&text);
    if (!want_tsv && !sweep && E <= 30) {
        /* whole epochs on the x axis: the writer has no tics setting, so set them before the plot */
        char *pl = strstr(text.buf, "\nplot ");
        if (pl) {
            const char *ins = "\nset xtics 1";
            size_t at2 = (size_t)(pl - text.buf), il = strlen(ins);
            char *nbuf = malloc(text.len + il + 1);
            if (!nbuf) cli_fail("out of memory");
            memcpy(nbuf, text.buf, at2);
            memcpy(nbuf + at2, ins, il);
            memcpy(nbuf + at2 + il, text.buf + at2, text.len - at2 + 1);
            free(text.buf);
            text.buf = nbuf, text.len += il;
        }
    }
    cli_emit(out, want_tsv, text.buf, text.len, text.buf, text.len);
    if (!quiet) {
        fprintf(stderr, "ssm-train: test accuracy on %zu sequences, noise %g U[0,1) cos(%.4g t) at %s\n", test->n, amp,
                nfreq, noise_at_name(at, 1));
        fprintf(stderr, "  %-10s %8s %8s %8s\n", "init", "clean", "noisy", "drop");
        for (size_t k = 0; k < nm; k++)
            fprintf(stderr, "  %-10s %7.2f%% %7.2f%% %7.2f\n", init_name(inits[k]), 100 * clean[k], 100 * noisy[k],
                    100 * (clean[k] - noisy[k]));
        if (save) fprintf(stderr, "  saved the model to %s\n", save);
    }
    for (size_t k = 0; k < nm; k++) ptd_train_model_free(models[k]);
    ptd_ptd_free(ptd);
    ptd_dataset_free(train);
    ptd_dataset_free(val);
    ptd_dataset_free(test);
    free(trloss), free(tracc), free(vacc), free(swf), free(swacc);
    free(text.buf);
    return CLI_OK;
}
