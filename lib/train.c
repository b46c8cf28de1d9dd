/* train.c - a small S4D / S4-PTD sequence classifier: diagonal SSM layers with ZOH kernels,
 * FFT convolutions, hand-written backward passes, AdamW, checkpoints.
 *
 * Activations are time-major, L x H row-major (u[t H + h]), so that the dense layers and the
 * LayerNorm work on contiguous rows; the convolutions gather one channel at a time.
 * Complex parameters are stored as (re, im) pairs and their gradients as (df/dre, df/dim),
 * which for a holomorphic dependence h(p) is g_p = conj(h'(p)) g_h. */
#include "config.h"
#include "internal.h"

#include <errno.h>
#include <fftw3.h>
#include <gsl/gsl_cblas.h>
#include <gsl/gsl_fft_complex.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <lapacke.h>
#include <math.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#define MAXT 256

typedef struct {
    char name[32];
    size_t off, size;
    int group; /* 0: decayed matrix, 1: not decayed, 2: SSM (Lambda, B, log dt) */
} tensor;

typedef struct {
    size_t lre, lim, B, C, logdt, D, W, b, gam, bet;
} layer_off;

/* Spectra: with FFTW (the default) the nf/2 + 1 coefficients of a real transform, each
 * channel's at a stride ks rounded up to 4 (64 bytes, so every channel's block has the
 * alignment of the fftw_malloc'd base the plans were made for); with GSL all nf of a complex
 * transform that carries two real channels (ks = nf). */
typedef struct {
    gsl_fft_complex_workspace *fw;
    double *u, *z, *y, *g, *r, *mu, *rs, *d1, *d2, *d3, *xin, *pool, *prob;
    double complex *Zf, *buf, *ya, *yb;       /* fftw_malloc'd */
    double *grad;                             /* the batch part this thread sums into: the */
    double complex *dKf;                      /* model's sgrad[s], sdkf[s], borrowed (NULL
                                                 between parts) */
    double *rin_h, *rout_h;                   /* H x nf, channel-major, for the H-channel plans
                                                 (row 0 for the one-channel ones); rin_h's
                                                 tails past L stay 0 */
    double complex *cb_h, *Y_h;               /* H x ks spectra */
    double *gd;                               /* GELU'(y) of every layer, from the forward pass */
    double loss;
    size_t correct;
    ptd_train_timing tm;
} work;

enum { NSLOT = 16 };

struct ptd_train_model {
    ptd_train_config cfg;
    size_t H, M, L, nfft, ks, np, nt, epochs_done;
    unsigned long step;
    double *p, *am, *av, *gtmp, *K, wmax;
    double *ncos, *nsin; /* the noise's cos(w t dt) and sin(w t dt) w t dt of every layer and
                            channel (nl H L each), or cos(w t 0.01) (L), made once per call */
    double complex *Kf;
    tensor t[MAXT];
    layer_off *lo;
    size_t enc_W, enc_b, dec_W, dec_b;
    gsl_fft_complex_wavetable *wt;
    ptd_train_fft fft;
    fftw_plan r2c, c2r;     /* one channel; made once per model, executed from every thread */
    fftw_plan r2c_h, c2r_h; /* all H channels of a layer in one call (channel-major, dist nf / ks) */
    work **ws;
    int nws, overflow;
    /* a batch is summed in NSLOT fixed parts, part s the samples s, s + S, s + 2S, ... in
     * order, and the parts in order: the same bits whatever the number of threads (at most
     * NSLOT of them share a batch); a part's gradient and spectra gradient live here */
    double *sgrad[NSLOT];
    double complex *sdkf[NSLOT];
    int nslots;
    ptd_train_timing tm;
};

static void slots_free(ptd_train_model *m)
{
    for (int i = 0; i < m->nslots; i++) free(m->sgrad[i]), fftw_free(m->sdkf[i]);
    m->nslots = 0;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* A tensor of rows x cols parameters at the end of the layout.  The sizes are checked
 * (rows * cols and the running total must not wrap): m->overflow records a wrap, and the
 * layout is then refused. */
static size_t add_tensor(ptd_train_model *m, const char *name, size_t rows, size_t cols, int group)
{
    tensor *t = &m->t[m->nt++];
    size_t size;
    if (__builtin_mul_overflow(rows, cols, &size) || __builtin_add_overflow(m->np, size, &m->np)) m->overflow = 1;
    snprintf(t->name, sizeof t->name, "%s", name);
    t->off = m->np - size;
    t->size = size;
    t->group = group;
    return t->off;
}

/* FFTW's planner is not thread-safe (its execute functions are): plans are made and
 * destroyed under this lock, so models may be created from several threads. */
static pthread_mutex_t planner_lock = PTHREAD_MUTEX_INITIALIZER;

static void plans_free(ptd_train_model *m)
{
    pthread_mutex_lock(&planner_lock);
    if (m->r2c) fftw_destroy_plan(m->r2c);
    if (m->c2r) fftw_destroy_plan(m->c2r);
    if (m->r2c_h) fftw_destroy_plan(m->r2c_h);
    if (m->c2r_h) fftw_destroy_plan(m->c2r_h);
    pthread_mutex_unlock(&planner_lock);
    m->r2c = m->c2r = m->r2c_h = m->c2r_h = NULL;
}

/* The stride of one channel's nf/2 + 1 real-transform coefficients, rounded up to 4 (64 bytes). */
static size_t fftw_stride(size_t nf) { return (nf / 2 + 1 + 3) / 4 * 4; }

/* The real-to-complex and complex-to-real plans of length nf, made on fftw_malloc'd arrays
 * (the alignment every buffer they are executed on has).  FFTW_ESTIMATE: the plan does not
 * depend on timings, so a run's bits do not depend on the machine's load. */
static int plans_make(ptd_train_model *m)
{
    size_t nf = m->nfft, H = m->H, ks = fftw_stride(nf);
    double *r = fftw_malloc(H * nf * sizeof *r);
    fftw_complex *c = fftw_malloc(H * ks * sizeof *c);
    if (r && c) {
        int n = (int)nf;
        pthread_mutex_lock(&planner_lock);
        m->r2c = fftw_plan_dft_r2c_1d(n, r, c, FFTW_ESTIMATE);
        m->c2r = fftw_plan_dft_c2r_1d(n, c, r, FFTW_ESTIMATE);
        m->r2c_h = fftw_plan_many_dft_r2c(1, &n, (int)H, r, NULL, 1, n, c, NULL, 1, (int)ks, FFTW_ESTIMATE);
        m->c2r_h = fftw_plan_many_dft_c2r(1, &n, (int)H, c, NULL, 1, (int)ks, r, NULL, 1, n, FFTW_ESTIMATE);
        pthread_mutex_unlock(&planner_lock);
    }
    fftw_free(r), fftw_free(c);
    if (!m->r2c || !m->c2r || !m->r2c_h || !m->c2r_h) {
        plans_free(m);
        return ptd_error(PTD_ENOMEM, "out of memory for FFTW plans of length %zu", nf);
    }
    return PTD_OK;
}

static size_t spectrum_stride(const ptd_train_model *m)
{
    return m->fft == PTD_TRAIN_FFT_GSL ? m->nfft : fftw_stride(m->nfft);
}

static void work_free(work *w)
{
    if (!w) return;
    gsl_fft_complex_workspace_free(w->fw);
    free(w->u), free(w->z), free(w->y), free(w->g), free(w->r), free(w->mu), free(w->rs);
    free(w->d1), free(w->d2), free(w->d3), free(w->xin), free(w->pool), free(w->prob);
    fftw_free(w->Zf), fftw_free(w->buf), fftw_free(w->ya), fftw_free(w->yb);
    fftw_free(w->rin_h), fftw_free(w->rout_h), fftw_free(w->cb_h);
    fftw_free(w->Y_h), free(w->gd);
    free(w);
}

static work *work_alloc(const ptd_train_model *m)
{
    size_t L = m->L, H = m->H, nl = m->cfg.layers, LH = L * H;
    work *w = calloc(1, sizeof *w);
    if (!w) return NULL;
    w->fw = gsl_fft_complex_workspace_alloc(m->nfft);
    w->u = malloc((nl + 1) * LH * sizeof *w->u);
    w->z = malloc(nl * LH * sizeof *w->z);
    w->y = malloc(nl * LH * sizeof *w->y);
    w->g = malloc(nl * LH * sizeof *w->g);
    w->r = malloc(nl * LH * sizeof *w->r);
    w->mu = malloc(nl * L * sizeof *w->mu);
    w->rs = malloc(nl * L * sizeof *w->rs);
    w->d1 = malloc(LH * sizeof *w->d1);
    w->d2 = malloc(LH * sizeof *w->d2);
    w->d3 = malloc(LH * sizeof *w->d3);
    w->xin = malloc(L * m->cfg.din * sizeof *w->xin);
    w->pool = malloc(H * sizeof *w->pool);
    w->prob = malloc(m->cfg.nclass * sizeof *w->prob);
    w->Zf = fftw_malloc(nl * H * m->ks * sizeof *w->Zf);
    w->buf = fftw_malloc(m->nfft * sizeof *w->buf);
    w->ya = fftw_malloc(m->nfft * sizeof *w->ya);
    w->yb = fftw_malloc(m->nfft * sizeof *w->yb);
    w->rin_h = fftw_malloc(H * m->nfft * sizeof *w->rin_h);
    w->rout_h = fftw_malloc(H * m->nfft * sizeof *w->rout_h);
    w->cb_h = fftw_malloc(H * m->ks * sizeof *w->cb_h);
    w->Y_h = fftw_malloc(H * m->ks * sizeof *w->Y_h);
    w->gd = malloc(nl * LH * sizeof *w->gd);
    if (!w->fw || !w->u || !w->z || !w->y || !w->g || !w->r || !w->mu || !w->rs || !w->d1 || !w->d2 || !w->d3 ||
        !w->xin || !w->pool || !w->prob || !w->Zf || !w->buf || !w->ya || !w->yb ||
        !w->rin_h || !w->rout_h || !w->cb_h || !w->Y_h || !w->gd) {
        work_free(w);
        return NULL;
    }
    memset(w->rin_h, 0, H * m->nfft * sizeof *w->rin_h);
    return w;
}

void ptd_train_model_free(ptd_train_model *m)
{
    if (!m) return;
    for (int i = 0; i < m->nws; i++) work_free(m->ws[i]);
    free(m->ws);
    slots_free(m);
    free(m->p), free(m->am), free(m->av), free(m->gtmp), free(m->K), free(m->lo), free(m->ncos), free(m->nsin);
    fftw_free(m->Kf);
    gsl_fft_complex_wavetable_free(m->wt);
    plans_free(m);
    free(m);
}

/* The configuration's limits (the tool's and the checkpoint loader's): each size within
 * PTD_TRAIN_MAX_*, which also keeps every product of sizes far from wrapping. */
static int check_config(const ptd_train_config *c)
{
    if (c->din < 1 || c->din > PTD_TRAIN_MAX_DIN || c->nclass < 2 || c->nclass > PTD_TRAIN_MAX_NCLASS ||
        c->len < 2 || c->len > PTD_TRAIN_MAX_LEN || c->layers < 1 || c->layers > PTD_TRAIN_MAX_LAYERS ||
        c->width < 1 || c->width > PTD_TRAIN_MAX_WIDTH || c->state < 2 || c->state % 2 ||
        c->state > PTD_TRAIN_MAX_STATE || (c->modes && (c->modes < c->state / 2 || c->modes > c->state)))
        return ptd_error(PTD_EINVAL,
                         "model: need 1 <= din <= %d, 2 <= nclass <= %d, 2 <= len <= %d, 1 <= layers <= %d, "
                         "1 <= width <= %d, even state 2 <= N <= %d, modes 0 or N/2..N (got %zu, %zu, %zu, %zu, %zu, %zu, "
                         "%zu)",
                         PTD_TRAIN_MAX_DIN, PTD_TRAIN_MAX_NCLASS, PTD_TRAIN_MAX_LEN, PTD_TRAIN_MAX_LAYERS,
                         PTD_TRAIN_MAX_WIDTH, PTD_TRAIN_MAX_STATE, c->din, c->nclass, c->len, c->layers,
                         c->width, c->state, c->modes);
    return PTD_OK;
}

/* The structure: the tensor layout and its parameter count, no buffers (a few hundred bytes
 * for any configuration within the limits).  The checkpoint loader compares the count with
 * the file before model_buffers allocates. */
static int model_layout(const ptd_train_config *c, ptd_train_model **out)
{
    *out = NULL;
    int st = check_config(c);
    if (st) return st;
    ptd_train_model *m = calloc(1, sizeof *m);
    if (!m) return ptd_error(PTD_ENOMEM, "out of memory");
    m->cfg = *c;
    m->cfg.ptd = NULL;
    if (m->cfg.dt_min <= 0) m->cfg.dt_min = 1e-3;
    if (m->cfg.dt_max <= 0) m->cfg.dt_max = 1e-1;
    m->H = c->width, m->M = c->modes ? c->modes : c->state / 2, m->L = c->len, m->nfft = 2 * c->len;
    m->cfg.modes = m->M;
    size_t H = m->H, M = m->M, nl = c->layers;
    m->lo = calloc(nl, sizeof *m->lo);
    if (!m->lo) {
        ptd_train_model_free(m);
        return ptd_error(PTD_ENOMEM, "out of memory");
    }
    m->enc_W = add_tensor(m, "encoder.W", H, c->din, 0);
    m->enc_b = add_tensor(m, "encoder.b", H, 1, 1);
    /* nl <= PTD_TRAIN_MAX_LAYERS already; saying so again shows gcc that the names fit */
    for (size_t l = 0; l < nl && l < PTD_TRAIN_MAX_LAYERS; l++) {
        char nm[32];
        layer_off *o = &m->lo[l];
#define T(field, what, rows, cols, group) \
    snprintf(nm, sizeof nm, "layer%zu.%s", l + 1, what), o->field = add_tensor(m, nm, rows, cols, group)
        T(lre, "log_neg_re_Lambda", H, M, 2);
        T(lim, "im_Lambda", H, M, 2);
        T(B, "Btilde", H, 2 * M, 2);
        T(C, "C", H, 2 * M, 1);
        T(logdt, "log_dt", H, 1, 2);
        T(D, "D", H, 1, 1);
        T(W, "out.W", H, H, 0);
        T(b, "out.b", H, 1, 1);
        T(gam, "norm.gamma", H, 1, 1);
        T(bet, "norm.beta", H, 1, 1);
#undef T
    }
    m->dec_W = add_tensor(m, "decoder.W", c->nclass, H, 0);
    m->dec_b = add_tensor(m, "decoder.b", c->nclass, 1, 1);
    if (m->overflow) {
        ptd_train_model_free(m);
        return ptd_error(PTD_EINVAL, "model: the parameter count overflows");
    }
    *out = m;
    return PTD_OK;
}

/* The parameter, optimiser and kernel buffers of a laid-out model. */
static int model_buffers(ptd_train_model *m)
{
    size_t nl = m->cfg.layers, H = m->H;
    m->p = calloc(m->np, sizeof *m->p);
    m->am = calloc(m->np, sizeof *m->am);
    m->av = calloc(m->np, sizeof *m->av);
    m->gtmp = calloc(m->np, sizeof *m->gtmp);
    m->K = calloc(nl * H * m->L, sizeof *m->K);
    m->Kf = fftw_malloc(nl * H * m->nfft * sizeof *m->Kf); /* room for either layout */
    m->wt = gsl_fft_complex_wavetable_alloc(m->nfft);
    if (!m->p || !m->am || !m->av || !m->gtmp || !m->K || !m->Kf || !m->wt)
        return ptd_error(PTD_ENOMEM, "out of memory for a model of %zu parameters", m->np);
    memset(m->Kf, 0, nl * H * m->nfft * sizeof *m->Kf);
    m->fft = PTD_TRAIN_FFT_FFTW;
    m->ks = spectrum_stride(m);
    return plans_make(m);
}

static int model_alloc(const ptd_train_config *c, ptd_train_model **out)
{
    int st = model_layout(c, out);
    if (!st && (st = model_buffers(*out))) {
        ptd_train_model_free(*out);
        *out = NULL;
    }
    return st;
}

/* The eigenvalues with positive imaginary part of A_N (ascending) and Btilde = V^* B, and w_max. */
static int legs_normal_modes(size_t N, double complex *lam, double complex *bt, double complex *Vk, double *wmax)
{
    ptd_system *sn = NULL, *s = NULL;
    ptd_eig *e = NULL;
    int st = ptd_zoo_make("hippo-legs-normal", N, 0, &sn);
    if (!st) st = ptd_zoo_make("hippo-legs", N, 0, &s);
    if (!st) st = ptd_cond_eig(sn->A, &e);
    if (st) goto done;
    /* pairs (lambda, index) sorted by imaginary part; the top half are the positive ones */
    double complex *tmp = malloc(N * sizeof *tmp);
    size_t *ix = malloc(N * sizeof *ix);
    if (!tmp || !ix) {
        free(tmp), free(ix);
        st = ptd_error(PTD_ENOMEM, "out of memory");
        goto done;
    }
    for (size_t i = 0; i < N; i++) ix[i] = i;
    /* selection by insertion sort on Im lambda (N is small) */
    for (size_t i = 1; i < N; i++)
        for (size_t j = i; j > 0 && cimag(e->lambda[ix[j]]) < cimag(e->lambda[ix[j - 1]]); j--) {
            size_t t = ix[j];
            ix[j] = ix[j - 1], ix[j - 1] = t;
        }
    *wmax = 0;
    for (size_t i = 0; i < N; i++) *wmax = fmax(*wmax, cimag(e->lambda[i]));
    for (size_t k = 0; k < N / 2; k++) {
        size_t i = ix[N / 2 + k];
        lam[k] = CMPLX(-0.5, cimag(e->lambda[i]));
        double complex acc = 0;
        for (size_t r = 0; r < N; r++) acc += conj(PTD_AT(e->V, r, i)) * PTD_AT(s->B, r, 0);
        bt[k] = acc;
        if (Vk)
            for (size_t r = 0; r < N; r++) Vk[r + k * N] = PTD_AT(e->V, r, i);
    }
    free(tmp), free(ix);
done:
    ptd_eig_free(e);
    ptd_system_free(s);
    ptd_system_free(sn);
    return st;
}

/* A PTD system the model can be made from: order N, with Btilde. */
static int ptd_system_fits(const ptd_ptd *p, size_t N)
{
    if (p->n != N || !p->Btilde)
        return ptd_error(PTD_EINVAL, "s4-ptd: the PTD system has order %zu%s; the model needs %zu with Btilde", p->n,
                         p->Btilde ? "" : " and no Btilde", N);
    return PTD_OK;
}

/* How many modes a PTD system gives each channel: for a real E (a spectrum of conjugate
 * pairs and real eigenvalues) the eigenvalues with Im >= 0, so that with 2 Re they are
 * exactly the transfer function of A + E: N/2 + r/2 for r real eigenvalues; for a complex E
 * the N/2 of largest imaginary part. */
static size_t ptd_mode_count(const ptd_ptd *p)
{
    if (!p->real) return p->n / 2;
    size_t k = 0;
    for (size_t i = 0; i < p->n; i++) k += cimag(p->lambda[i]) >= 0;
    return k;
}

/* Those modes (ptd_mode_count of them), by decreasing imaginary part, and with Vk their
 * eigenvectors (N x M). */
static int ptd_modes(const ptd_ptd *p, size_t N, double complex *lam, double complex *bt, double complex *Vk)
{
    int st = ptd_system_fits(p, N);
    if (st) return st;
    size_t M = ptd_mode_count(p);
    size_t *ix = malloc(N * sizeof *ix);
    if (!ix) return ptd_error(PTD_ENOMEM, "out of memory");
    for (size_t i = 0; i < N; i++) ix[i] = i;
    for (size_t i = 1; i < N; i++)
        for (size_t j = i; j > 0 && cimag(p->lambda[ix[j]]) > cimag(p->lambda[ix[j - 1]]); j--) {
            size_t t = ix[j];
            ix[j] = ix[j - 1], ix[j - 1] = t;
        }
    for (size_t k = 0; k < M; k++) {
        size_t i = ix[k];
        /* the kernel needs Re Lambda < 0: the reflection made it <= 0, keep it off zero */
        lam[k] = CMPLX(fmin(creal(p->lambda[i]), -1e-4), cimag(p->lambda[i]));
        /* a real eigenvalue of a real E is its own conjugate: half its input, so that 2 Re
         * counts it once */
        bt[k] = PTD_AT(p->Btilde, i, 0) * (p->real && cimag(p->lambda[i]) == 0 ? 0.5 : 1);
        if (Vk)
            for (size_t r = 0; r < N; r++) Vk[r + k * N] = PTD_AT(p->V, r, i);
    }
    free(ix);
    return PTD_OK;
}

int ptd_train_ptd_create(const ptd_train_config *c, ptd_ptd **out)
{
    ptd_clear_error();
    if (!out) return ptd_error(PTD_EINVAL, "s4-ptd: no output pointer");
    *out = NULL;
    if (!c || c->state < 2) return ptd_error(PTD_EINVAL, "s4-ptd: a state order N >= 2 is needed");
    ptd_system *s = NULL;
    int st = ptd_zoo_make("hippo-legs", c->state, 0, &s);
    /* a real E: the spectrum of A + E is closed under conjugation, so its modes with
     * Im >= 0 (ptd_modes) with 2 Re are exactly the transfer function of A + E (the N/2 of
     * largest imaginary part of a complex E are not: ptd_train_init_strong_error measures it) */
    ptd_perturb_opts po = {.max_rel = c->ptd_rel > 0 ? c->ptd_rel : 0.04,
                           .steps = c->ptd_steps ? c->ptd_steps : 1000, .seed = c->seed, .real = 1};
    if (!st) st = ptd_perturb_optimize(s->A, s->B, NULL, &po, out);
    ptd_system_free(s);
    return st;
}

int ptd_train_model_create(const ptd_train_config *c0, ptd_train_model **out)
{
    ptd_clear_error();
    ptd_train_model *m;
    ptd_train_config cc = *c0;
    const ptd_train_config *c = &cc;
    ptd_ptd *made = NULL;
    const ptd_ptd *pp = NULL;
    cc.modes = 0;
    if (c->init == PTD_INIT_S4_PTD) { /* the system first: it decides how many modes */
        if (!c->ptd) {
            int st = ptd_train_ptd_create(c, &made);
            if (st) return st;
        }
        pp = c->ptd ? c->ptd : made;
        int st = ptd_system_fits(pp, c->state);
        if (st) {
            ptd_ptd_free(made);
            return st;
        }
        cc.modes = ptd_mode_count(pp);
    }
    int st = model_alloc(c, &m);
    if (st) {
        ptd_ptd_free(made);
        return st;
    }
    size_t N = c->state, M = m->M, H = m->H, din = c->din;
    double complex *lam = malloc(M * sizeof *lam), *bt = malloc(M * sizeof *bt), *l0 = malloc(M * sizeof *l0),
                   *b0 = malloc(M * sizeof *b0);
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    if (!lam || !bt || !l0 || !b0 || !r) {
        st = ptd_error(PTD_ENOMEM, "out of memory");
        goto done;
    }
    gsl_rng_set(r, c->seed);
    st = legs_normal_modes(N, l0, b0, NULL, &m->wmax); /* l0, b0: N/2 <= M entries */
    if (st) goto done;
    if (c->init == PTD_INIT_S4D_LEGS) {
        memcpy(lam, l0, M * sizeof *lam);
        memcpy(bt, b0, M * sizeof *bt);
    } else if (c->init == PTD_INIT_S4D_LIN) {
        for (size_t k = 0; k < M; k++) lam[k] = CMPLX(-0.5, M_PI * (double)k), bt[k] = 1;
    } else if (c->init == PTD_INIT_S4_PTD) {
        st = ptd_modes(pp, N, lam, bt, NULL);
        if (st) goto done;
    } else {
        st = ptd_error(PTD_EINVAL, "model: unknown initialisation %d", (int)c->init);
        goto done;
    }
    double *p = m->p;
    double a = 1 / sqrt((double)din);
    for (size_t i = 0; i < H * din; i++) p[m->enc_W + i] = gsl_ran_flat(r, -a, a);
    a = 1 / sqrt((double)H);
    for (size_t l = 0; l < c->layers; l++) {
        const layer_off *o = &m->lo[l];
        for (size_t h = 0; h < H; h++) {
            for (size_t k = 0; k < M; k++) {
                size_t i = h * M + k;
                p[o->lre + i] = log(-creal(lam[k]));
                p[o->lim + i] = cimag(lam[k]);
                p[o->B + 2 * i] = creal(bt[k]);
                p[o->B + 2 * i + 1] = cimag(bt[k]);
                p[o->C + 2 * i] = gsl_ran_gaussian(r, M_SQRT1_2);
                p[o->C + 2 * i + 1] = gsl_ran_gaussian(r, M_SQRT1_2);
            }
            p[o->logdt + h] = log(m->cfg.dt_min) + gsl_rng_uniform(r) * (log(m->cfg.dt_max) - log(m->cfg.dt_min));
            p[o->D + h] = gsl_ran_gaussian(r, 1.0);
            p[o->gam + h] = 1;
        }
        for (size_t i = 0; i < H * H; i++) p[o->W + i] = gsl_ran_flat(r, -a, a);
    }
    for (size_t i = 0; i < c->nclass * H; i++) p[m->dec_W + i] = gsl_ran_flat(r, -a, a);
done:
    free(lam), free(bt), free(l0), free(b0);
    gsl_rng_free(r);
    ptd_ptd_free(made);
    if (st) ptd_train_model_free(m);
    else *out = m;
    return st;
}

int ptd_train_init_strong_error(const ptd_train_config *c, const double *w, size_t nw, double *err)
{
    ptd_clear_error();
    if (!c || c->state < 2 || c->state % 2 || c->state > PTD_TRAIN_MAX_STATE)
        return ptd_error(PTD_EINVAL, "strong error: an even state order 2 <= N <= %d is needed", PTD_TRAIN_MAX_STATE);
    if (c->init == PTD_INIT_S4_PTD && !c->ptd)
        return ptd_error(PTD_EINVAL, "strong error: an s4-ptd configuration needs its PTD system (c->ptd)");
    size_t N = c->state, M = c->init == PTD_INIT_S4_PTD && c->ptd ? ptd_mode_count(c->ptd) : N / 2;
    if (c->init == PTD_INIT_S4D_LIN) { /* not a model of LegS: no V relates its modes to it */
        for (size_t i = 0; i < nw; i++) err[i] = NAN;
        return PTD_OK;
    }
    if (c->init != PTD_INIT_S4D_LEGS && c->init != PTD_INIT_S4_PTD)
        return ptd_error(PTD_EINVAL, "strong error: unknown initialisation %d", (int)c->init);
    double complex *lam = malloc(M * sizeof *lam), *bt = malloc(M * sizeof *bt), *Vk = malloc(N * M * sizeof *Vk);
    double complex *R = malloc(N * N * sizeof *R), *x = malloc(N * sizeof *x);
    lapack_int *piv = malloc(N * sizeof *piv);
    ptd_system *s = NULL;
    double wmax;
    int st = !lam || !bt || !Vk || !R || !x || !piv ? ptd_error(PTD_ENOMEM, "out of memory") : PTD_OK;
    if (!st) st = ptd_zoo_make("hippo-legs", N, 0, &s);
    if (!st) st = c->init == PTD_INIT_S4D_LEGS ? legs_normal_modes(N, lam, bt, Vk, &wmax) : ptd_modes(c->ptd, N, lam, bt, Vk);
    for (size_t i = 0; !st && i < nw; i++) {
        double complex iw = I * w[i];
        for (size_t j = 0; j < N; j++)
            for (size_t r = 0; r < N; r++) R[r + j * N] = (r == j ? iw : 0) - PTD_AT(s->A, r, j);
        for (size_t r = 0; r < N; r++) x[r] = PTD_AT(s->B, r, 0);
        lapack_int info = LAPACKE_zgesv(LAPACK_COL_MAJOR, (lapack_int)N, 1, (lapack_complex_double *)R, (lapack_int)N,
                                        piv, (lapack_complex_double *)x, (lapack_int)N);
        if (info) {
            st = ptd_lapack_status("zgesv", info);
            break;
        }
        double num = 0, den = 0;
        for (size_t r = 0; r < N; r++) {
            double complex y = 0;
            for (size_t k = 0; k < M; k++)
                y += Vk[r + k * N] * bt[k] / (iw - lam[k]) + conj(Vk[r + k * N] * bt[k]) / (iw - conj(lam[k]));
            num += creal((y - x[r]) * conj(y - x[r])), den += creal(x[r] * conj(x[r]));
        }
        err[i] = sqrt(num / den);
    }
    free(lam), free(bt), free(Vk), free(R), free(x), free(piv);
    ptd_system_free(s);
    return st;
}

const ptd_train_config *ptd_train_model_config(const ptd_train_model *m) { return &m->cfg; }
size_t ptd_train_model_nparams(const ptd_train_model *m) { return m->np; }
double *ptd_train_model_params(ptd_train_model *m) { return m->p; }
double ptd_train_model_wmax(const ptd_train_model *m) { return m->wmax; }
size_t ptd_train_model_epochs_done(const ptd_train_model *m) { return m->epochs_done; }

static const tensor *tensor_of(const ptd_train_model *m, size_t i)
{
    for (size_t k = 0; k < m->nt; k++)
        if (i >= m->t[k].off && i < m->t[k].off + m->t[k].size) return &m->t[k];
    return NULL;
}
int ptd_train_param_is_ssm(const ptd_train_model *m, size_t i)
{
    const tensor *t = tensor_of(m, i);
    return t && t->group == 2;
}
const char *ptd_train_param_name(const ptd_train_model *m, size_t i)
{
    const tensor *t = tensor_of(m, i);
    return t ? t->name : "";
}

int ptd_train_set_fft(ptd_train_model *m, ptd_train_fft fft)
{
    ptd_clear_error();
    if (fft != PTD_TRAIN_FFT_FFTW && fft != PTD_TRAIN_FFT_GSL)
        return ptd_error(PTD_EINVAL, "model: unknown FFT %d", (int)fft);
    if (fft == m->fft) return PTD_OK;
    /* the workspaces' spectra have the other layout: made again on the next call */
    for (int i = 0; i < m->nws; i++) work_free(m->ws[i]);
    m->nws = 0;
    slots_free(m);
    m->fft = fft;
    m->ks = spectrum_stride(m);
    return PTD_OK;
}
ptd_train_fft ptd_train_get_fft(const ptd_train_model *m) { return m->fft; }

void ptd_train_timing_get(const ptd_train_model *m, ptd_train_timing *t) { *t = m->tm; }
void ptd_train_timing_reset(ptd_train_model *m) { memset(&m->tm, 0, sizeof m->tm); }

/* ---- kernels ------------------------------------------------------------------------ */

/* K_t = 2 Re sum_n W_n e_n^t with e_n = e^{dt Lambda_n}, W_n = C_n B_n (e_n - 1)/Lambda_n. */
static void kernel_gen(ptd_train_model *m, size_t l, size_t h, work *w)
{
    const layer_off *o = &m->lo[l];
    const double *p = m->p;
    size_t M = m->M, L = m->L;
    double *K = m->K + (l * m->H + h) * L;
    double dt = exp(p[o->logdt + h]);
    memset(K, 0, L * sizeof *K);
    for (size_t n = 0; n < M; n++) {
        size_t i = h * M + n;
        double complex lam = CMPLX(-exp(p[o->lre + i]), p[o->lim + i]);
        double complex B = CMPLX(p[o->B + 2 * i], p[o->B + 2 * i + 1]), C = CMPLX(p[o->C + 2 * i], p[o->C + 2 * i + 1]);
        double complex e = cexp(dt * lam), pw = 2 * C * B * (e - 1) / lam;
        for (size_t t = 0; t < L; t++) {
            K[t] += creal(pw);
            pw *= e;
        }
    }
    double complex *Kf = m->Kf + (l * m->H + h) * m->ks;
    if (m->fft == PTD_TRAIN_FFT_FFTW) {
        /* scaled by 1/nf here, once, so that the convolutions need no division */
        memcpy(w->rin_h, K, L * sizeof *K);
        fftw_execute_dft_r2c(m->r2c, w->rin_h, (fftw_complex *)Kf);
        for (size_t k = 0; k < m->nfft / 2 + 1; k++) Kf[k] /= (double)m->nfft;
        return;
    }
    double complex *buf = w->buf;
    for (size_t t = 0; t < m->nfft; t++) buf[t] = t < L ? K[t] : 0;
    gsl_fft_complex_forward((double *)buf, 1, m->nfft, m->wt, w->fw);
    memcpy(Kf, buf, m->nfft * sizeof *buf);
}

/* Gradients of the SSM parameters of channel h of layer l from dK (length L). */
static void kernel_back(ptd_train_model *m, size_t l, size_t h, const double *dK, double *grad)
{
    const layer_off *o = &m->lo[l];
    const double *p = m->p;
    size_t M = m->M, L = m->L;
    double dt = exp(p[o->logdt + h]), ddt = 0;
    for (size_t n = 0; n < M; n++) {
        size_t i = h * M + n;
        double complex lam = CMPLX(-exp(p[o->lre + i]), p[o->lim + i]);
        double complex B = CMPLX(p[o->B + 2 * i], p[o->B + 2 * i + 1]), C = CMPLX(p[o->C + 2 * i], p[o->C + 2 * i + 1]);
        double complex e = cexp(dt * lam), ce = conj(e), W = C * B * (e - 1) / lam;
        double complex S = 0, Tt = 0, pw = 1, prev = 0;
        for (size_t t = 0; t < L; t++) {
            S += dK[t] * pw;
            if (t) Tt += (double)t * dK[t] * prev;
            prev = pw;
            pw *= ce;
        }
        double complex gW = 2 * S, gz = 2 * conj(W) * Tt;
        double complex gC = conj(B * (e - 1) / lam) * gW, gB = conj(C * (e - 1) / lam) * gW;
        double complex dWdL = C * B * (dt * e * lam - (e - 1)) / (lam * lam), dzdL = dt * e;
        double complex gL = conj(dWdL) * gW + conj(dzdL) * gz;
        ddt += creal(conj(gW) * C * B * e + conj(gz) * lam * e);
        grad[o->lre + i] += creal(gL) * creal(lam);
        grad[o->lim + i] += cimag(gL);
        grad[o->B + 2 * i] += creal(gB);
        grad[o->B + 2 * i + 1] += cimag(gB);
        grad[o->C + 2 * i] += creal(gC);
        grad[o->C + 2 * i + 1] += cimag(gC);
    }
    grad[o->logdt + h] += dt * ddt;
}

/* ---- one sample ------------------------------------------------------------------------ */

static uint64_t mix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}
static double noise_u(unsigned long seed, size_t s, size_t l, size_t h)
{
    uint64_t x = mix64(mix64(mix64(mix64(seed) ^ s) ^ l) ^ h);
    return (double)(x >> 11) * 0x1.0p-53;
}

/* The spectra of a and b from X = FFT(a + i b), a and b real: A_k = (X_k + conj X_{n-k}) / 2,
 * B_k = (X_k - conj X_{n-k}) / 2i.  B may be NULL (b = 0). */
static void unpack(const double complex *X, size_t n, double complex *A, double complex *B)
{
    for (size_t k = 0; k < n; k++) {
        double complex xk = X[k], xn = conj(X[k ? n - k : 0]);
        A[k] = 0.5 * (xk + xn);
        if (B) B[k] = -0.5 * I * (xk - xn);
    }
}

/* Time-major x (L x H) into channel-major rows of length nf (their tails stay 0), in blocks
 * of TB steps so that reads and writes both stay in cache lines. */
#define TB 8
static void to_channels(const double *x, size_t L, size_t H, double *rows, size_t nf)
{
    for (size_t t0 = 0; t0 < L; t0 += TB)
        for (size_t h = 0; h < H; h++) {
            double *r = rows + h * nf;
            for (size_t t = t0; t < t0 + TB && t < L; t++) r[t] = x[t * H + h];
        }
}

/* The inverse: x (L x H) += the first L entries of each channel-major row. */
static void from_channels_add(const double *rows, size_t nf, size_t L, size_t H, double *x)
{
    for (size_t t0 = 0; t0 < L; t0 += TB)
        for (size_t h = 0; h < H; h++) {
            const double *r = rows + h * nf;
            for (size_t t = t0; t < t0 + TB && t < L; t++) x[t * H + h] += r[t];
        }
}

/* y = K * z + D zd for every channel of layer l (linear convolution through transforms of
 * length nf = 2L), keeping the spectra of z for the backward pass.  zd is z, or the layer's
 * input without the noise when the noise perturbs the SSM's input only. */
static void conv_forward(ptd_train_model *m, work *w, size_t l, const double *z, const double *zd, double *y)
{
    size_t L = m->L, H = m->H, nf = m->nfft, ks = m->ks, nh = nf / 2 + 1;
    const double *D = m->p + m->lo[l].D;
    if (m->fft == PTD_TRAIN_FFT_FFTW) {
        /* all channels at once: z (time-major) into channel-major rows, H transforms in one
         * plan, the products, H inverse transforms, back to time-major */
        double complex *Z = w->Zf + l * H * ks, *b = w->cb_h;
        const double complex *Kl = m->Kf + l * H * ks;
        to_channels(z, L, H, w->rin_h, nf);
        fftw_execute_dft_r2c(m->r2c_h, w->rin_h, (fftw_complex *)Z);
        /* the products in real arithmetic (C's complex * also tests for NaN, which keeps the
         * compiler from vectorising): Kf is already scaled by 1/nf */
        const double *zr = (const double *)Z, *kr = (const double *)Kl;
        double *br = (double *)b;
        for (size_t h = 0; h < H; h++)
            for (size_t k = 0; k < nh; k++) {
                size_t i = 2 * (h * ks + k);
                double a = zr[i], bb = zr[i + 1], c = kr[i], d = kr[i + 1];
                br[i] = a * c - bb * d, br[i + 1] = a * d + bb * c;
            }
        fftw_execute_dft_c2r(m->c2r_h, (fftw_complex *)b, w->rout_h);
        for (size_t t = 0; t < L; t++)
            for (size_t h = 0; h < H; h++) y[t * H + h] = D[h] * zd[t * H + h];
        from_channels_add(w->rout_h, nf, L, H, y);
        return;
    }
    /* GSL: two real channels per complex FFT, z_a + i z_b */
    for (size_t h = 0; h < H; h += 2) {
        int two = h + 1 < H;
        double complex *b = w->buf, *Za = w->Zf + (l * H + h) * ks, *Zb = two ? Za + ks : NULL;
        const double complex *Ka = m->Kf + (l * H + h) * ks, *Kb = Ka + ks;
        for (size_t t = 0; t < L; t++) b[t] = CMPLX(z[t * H + h], two ? z[t * H + h + 1] : 0);
        memset(b + L, 0, (nf - L) * sizeof *b);
        gsl_fft_complex_forward((double *)b, 1, nf, m->wt, w->fw);
        unpack(b, nf, Za, Zb);
        for (size_t k = 0; k < nf; k++) b[k] = Za[k] * Ka[k] + (two ? I * Zb[k] * Kb[k] : 0);
        gsl_fft_complex_backward((double *)b, 1, nf, m->wt, w->fw);
        double Da = D[h], Db = two ? D[h + 1] : 0;
        for (size_t t = 0; t < L; t++) {
            y[t * H + h] = creal(b[t]) / (double)nf + Da * zd[t * H + h];
            if (two) y[t * H + h + 1] = cimag(b[t]) / (double)nf + Db * zd[t * H + h + 1];
        }
    }
}

/* The convolution's backward pass: du += K^T dy (correlation), dKf += conj(Zf) DYf. */
static void conv_backward(ptd_train_model *m, work *w, size_t l, const double *dy, double *du)
{
    size_t L = m->L, H = m->H, nf = m->nfft, ks = m->ks, nh = nf / 2 + 1;
    if (m->fft == PTD_TRAIN_FFT_FFTW) {
        double complex *Y = w->Y_h, *b = w->cb_h, *dK = w->dKf + l * H * ks;
        const double complex *Z = w->Zf + l * H * ks, *Kl = m->Kf + l * H * ks;
        to_channels(dy, L, H, w->rin_h, nf);
        fftw_execute_dft_r2c(m->r2c_h, w->rin_h, (fftw_complex *)Y);
        /* dK += conj(Z) Y and b = conj(K) Y, in real arithmetic */
        const double *zr = (const double *)Z, *kr = (const double *)Kl, *yr = (const double *)Y;
        double *dk = (double *)dK, *br = (double *)b;
        for (size_t h = 0; h < H; h++)
            for (size_t k = 0; k < nh; k++) {
                size_t i = 2 * (h * ks + k);
                double a = zr[i], bb = zr[i + 1], c = yr[i], d = yr[i + 1], kre = kr[i], kim = kr[i + 1];
                dk[i] += a * c + bb * d, dk[i + 1] += a * d - bb * c;
                br[i] = kre * c + kim * d, br[i + 1] = kre * d - kim * c;
            }
        fftw_execute_dft_c2r(m->c2r_h, (fftw_complex *)b, w->rout_h);
        from_channels_add(w->rout_h, nf, L, H, du);
        return;
    }
    for (size_t h = 0; h < H; h += 2) {
        int two = h + 1 < H;
        double complex *b = w->buf, *Ya = w->ya, *Yb = two ? w->yb : NULL;
        double complex *dKa = w->dKf + (l * H + h) * ks, *dKb = dKa + ks;
        const double complex *Za = w->Zf + (l * H + h) * ks, *Zb = Za + ks;
        const double complex *Ka = m->Kf + (l * H + h) * ks, *Kb = Ka + ks;
        for (size_t t = 0; t < L; t++) b[t] = CMPLX(dy[t * H + h], two ? dy[t * H + h + 1] : 0);
        memset(b + L, 0, (nf - L) * sizeof *b);
        gsl_fft_complex_forward((double *)b, 1, nf, m->wt, w->fw);
        unpack(b, nf, Ya, Yb);
        for (size_t k = 0; k < nf; k++) {
            dKa[k] += conj(Za[k]) * Ya[k];
            b[k] = conj(Ka[k]) * Ya[k];
            if (two) dKb[k] += conj(Zb[k]) * Yb[k], b[k] += I * conj(Kb[k]) * Yb[k];
        }
        gsl_fft_complex_backward((double *)b, 1, nf, m->wt, w->fw);
        for (size_t t = 0; t < L; t++) {
            du[t * H + h] += creal(b[t]) / (double)nf;
            if (two) du[t * H + h + 1] += cimag(b[t]) / (double)nf;
        }
    }
}

/* dK (length L) of channel lh from the summed spectrum dKf: the inverse transform's real part. */
static void kernel_grad_time(ptd_train_model *m, work *w, const double complex *dKf, double *dK)
{
    size_t nf = m->nfft;
    double complex *b = w->buf;
    if (m->fft == PTD_TRAIN_FFT_FFTW) {
        memcpy(b, dKf, (nf / 2 + 1) * sizeof *b);
        fftw_execute_dft_c2r(m->c2r, (fftw_complex *)b, w->rout_h);
        for (size_t t = 0; t < m->L; t++) dK[t] = w->rout_h[t] / (double)nf;
        return;
    }
    memcpy(b, dKf, nf * sizeof *b);
    gsl_fft_complex_backward((double *)b, 1, nf, m->wt, w->fw);
    for (size_t t = 0; t < m->L; t++) dK[t] = creal(b[t]) / (double)nf;
}

/* GELU(x) = x Phi(x) and, for the backward pass, GELU'(x) = Phi(x) + x phi(x): one erfc per
 * value for both (the backward pass reads the derivative the forward pass stored). */
static inline double gelu_fwd(double x, double *d)
{
    double Phi = 0.5 * erfc(-x * M_SQRT1_2);
    if (d) *d = Phi + x * exp(-0.5 * x * x) * 0.3989422804014327;
    return x * Phi;
}

/* Forward (and backward when grad) of sample s; scale = 1/batch for the gradient. */
static void sample_run(ptd_train_model *m, work *w, const ptd_dataset *d, size_t s, const ptd_train_noise *nz,
                       double scale, int want_grad)
{
    size_t L = m->L, H = m->H, LH = L * H, din = m->cfg.din, nl = m->cfg.layers, K = m->cfg.nclass;
    const double *p = m->p;
    double *gr = w->grad;
    double t0 = now(), t1;
    const int layer_noise = nz && (nz->at == PTD_NOISE_LAYERS || nz->at == PTD_NOISE_SSM) && nz->amp != 0;
    const int ssm_noise = layer_noise && nz->at == PTD_NOISE_SSM;
    /* encoder */
    const float *xs = d->x + s * L * din;
    for (size_t i = 0; i < L * din; i++) w->xin[i] = xs[i];
    if (nz && nz->at == PTD_NOISE_INPUT && nz->amp != 0)
        for (size_t k = 0; k < din; k++) {
            double a = nz->amp * noise_u(nz->seed, s, 0, k);
            for (size_t t = 0; t < L; t++) w->xin[t * din + k] += a * m->ncos[t];
        }
    for (size_t t = 0; t < L; t++)
        for (size_t h = 0; h < H; h++) {
            double acc = p[m->enc_b + h];
            for (size_t k = 0; k < din; k++) acc += p[m->enc_W + h * din + k] * w->xin[t * din + k];
            w->u[t * H + h] = acc;
        }
    for (size_t l = 0; l < nl; l++) {
        const layer_off *o = &m->lo[l];
        double *u = w->u + l * LH, *z = w->z + l * LH, *y = w->y + l * LH, *g = w->g + l * LH, *r = w->r + l * LH;
        double *un = w->u + (l + 1) * LH;
        memcpy(z, u, LH * sizeof *z);
        if (layer_noise) {
            /* amplitudes per channel in pool (scratch until the pooling); the table is
             * time-major, L x H per layer, like z */
            for (size_t h = 0; h < H; h++) w->pool[h] = nz->amp * noise_u(nz->seed, s, l + 1, h);
            const double *cs = m->ncos + l * LH;
            for (size_t t = 0; t < L; t++)
                for (size_t h = 0; h < H; h++) z[t * H + h] += w->pool[h] * cs[t * H + h];
        }
        t1 = now();
        w->tm.rest += t1 - t0, t0 = t1;
        conv_forward(m, w, l, z, ssm_noise ? u : z, y);
        t1 = now();
        w->tm.fft += t1 - t0, t0 = t1;
        double *gd = want_grad ? w->gd + l * LH : NULL;
        for (size_t i = 0; i < LH; i++) g[i] = gelu_fwd(y[i], gd ? gd + i : NULL);
        for (size_t t = 0; t < L; t++) memcpy(r + t * H, p + o->b, H * sizeof *r);
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)L, (int)H, (int)H, 1.0, g, (int)H, p + o->W, (int)H,
                    1.0, r, (int)H);
        t1 = now();
        w->tm.dense += t1 - t0, t0 = t1;
        for (size_t t = 0; t < L; t++) {
            double *rr = r + t * H, mu = 0, var = 0;
            for (size_t h = 0; h < H; h++) rr[h] += u[t * H + h], mu += rr[h];
            mu /= (double)H;
            for (size_t h = 0; h < H; h++) var += (rr[h] - mu) * (rr[h] - mu);
            double rs = 1 / sqrt(var / (double)H + 1e-5);
            w->mu[l * L + t] = mu, w->rs[l * L + t] = rs;
            for (size_t h = 0; h < H; h++) un[t * H + h] = (rr[h] - mu) * rs * p[o->gam + h] + p[o->bet + h];
        }
    }
    const double *uo = w->u + nl * LH;
    for (size_t h = 0; h < H; h++) w->pool[h] = 0;
    for (size_t t = 0; t < L; t++)
        for (size_t h = 0; h < H; h++) w->pool[h] += uo[t * H + h];
    for (size_t h = 0; h < H; h++) w->pool[h] /= (double)L;
    double mx = -INFINITY;
    size_t best = 0;
    for (size_t k = 0; k < K; k++) {
        double acc = p[m->dec_b + k];
        for (size_t h = 0; h < H; h++) acc += p[m->dec_W + k * H + h] * w->pool[h];
        w->prob[k] = acc;
        if (acc > mx) mx = acc, best = k;
    }
    double sum = 0;
    for (size_t k = 0; k < K; k++) w->prob[k] = exp(w->prob[k] - mx), sum += w->prob[k];
    int lab = d->y[s];
    w->loss += -log(w->prob[lab] / sum);
    w->correct += best == (size_t)lab;
    t1 = now();
    w->tm.rest += t1 - t0, t0 = t1;
    if (!want_grad) return;

    /* ---- backward ---- */
    double *dp = w->d3; /* dpool, H values */
    for (size_t h = 0; h < H; h++) dp[h] = 0;
    for (size_t k = 0; k < K; k++) {
        double dl = (w->prob[k] / sum - (k == (size_t)lab)) * scale;
        gr[m->dec_b + k] += dl;
        for (size_t h = 0; h < H; h++) gr[m->dec_W + k * H + h] += dl * w->pool[h], dp[h] += dl * p[m->dec_W + k * H + h];
    }
    double *du = w->d1;
    for (size_t t = 0; t < L; t++)
        for (size_t h = 0; h < H; h++) du[t * H + h] = dp[h] / (double)L;
    for (size_t l = nl; l-- > 0;) {
        const layer_off *o = &m->lo[l];
        double *z = w->z + l * LH, *g = w->g + l * LH, *r = w->r + l * LH;
        const double *zd = ssm_noise ? w->u + l * LH : z;
        double *dr = w->d2, *dy = w->d3;
        /* LayerNorm */
        for (size_t t = 0; t < L; t++) {
            double mu = w->mu[l * L + t], rs = w->rs[l * L + t], m1 = 0, m2 = 0;
            for (size_t h = 0; h < H; h++) {
                double xh = (r[t * H + h] - mu) * rs, dx = du[t * H + h] * p[o->gam + h];
                gr[o->gam + h] += du[t * H + h] * xh;
                gr[o->bet + h] += du[t * H + h];
                m1 += dx, m2 += dx * xh;
            }
            m1 /= (double)H, m2 /= (double)H;
            for (size_t h = 0; h < H; h++) {
                double xh = (r[t * H + h] - mu) * rs, dx = du[t * H + h] * p[o->gam + h];
                dr[t * H + h] = rs * (dx - m1 - xh * m2);
            }
        }
        t1 = now();
        w->tm.rest += t1 - t0, t0 = t1;
        /* output linear: o = g W^T + b */
        for (size_t t = 0; t < L; t++)
            for (size_t h = 0; h < H; h++) gr[o->b + h] += dr[t * H + h];
        cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)H, (int)H, (int)L, 1.0, dr, (int)H, g, (int)H, 1.0,
                    gr + o->W, (int)H);
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)L, (int)H, (int)H, 1.0, dr, (int)H, p + o->W,
                    (int)H, 0.0, dy, (int)H);
        t1 = now();
        w->tm.dense += t1 - t0, t0 = t1;
        const double *gd = w->gd + l * LH;
        for (size_t i = 0; i < LH; i++) dy[i] *= gd[i];
        /* du = dr (residual) + D dy + K^T dy; dD, dK */
        for (size_t h = 0; h < H; h++) {
            double D = p[o->D + h], acc = 0;
            for (size_t t = 0; t < L; t++) acc += dy[t * H + h] * zd[t * H + h];
            gr[o->D + h] += acc;
            for (size_t t = 0; t < L; t++) du[t * H + h] = dr[t * H + h] + D * dy[t * H + h];
        }
        t1 = now();
        w->tm.rest += t1 - t0, t0 = t1;
        conv_backward(m, w, l, dy, du);
        if (layer_noise)
            for (size_t h = 0; h < H; h++) {
                /* the noise a U cos(w t dt) depends on dt: its share of d/d log dt, through the
                 * gradient of what the noise was added to: z = u + n (du holds dr + D dy +
                 * K^T dy now) or, for the SSM's input only, the convolution's K^T dy */
                double a = nz->amp * noise_u(nz->seed, s, l + 1, h), acc = 0;
                double D = ssm_noise ? p[o->D + h] : 0;
                const double *sn = m->nsin + l * LH;
                for (size_t t = 0; t < L; t++)
                    acc += (du[t * H + h] - dr[t * H + h] - D * dy[t * H + h]) * (-a * sn[t * H + h]);
                gr[o->logdt + h] += acc;
            }
        t1 = now();
        w->tm.fft += t1 - t0, t0 = t1;
    }
    for (size_t t = 0; t < L; t++)
        for (size_t h = 0; h < H; h++) {
            double v = du[t * H + h];
            gr[m->enc_b + h] += v;
            for (size_t k = 0; k < din; k++) gr[m->enc_W + h * din + k] += v * w->xin[t * din + k];
        }
    t1 = now();
    w->tm.rest += t1 - t0;
}

int ptd_train_loss_grad(ptd_train_model *m, const ptd_dataset *d, const size_t *idx, size_t nb,
                        const ptd_train_noise *noise, int threads, double *loss, size_t *correct, double *grad)
{
    ptd_clear_error();
    if (d->len != m->L || d->din != m->cfg.din || d->nclass != m->cfg.nclass)
        return ptd_error(PTD_EINVAL, "data set %s (length %zu, %zu features, %zu classes) does not fit the model "
                         "(%zu, %zu, %zu)", d->name, d->len, d->din, d->nclass, m->L, m->cfg.din, m->cfg.nclass);
    if (nb == 0) return ptd_error(PTD_EINVAL, "empty batch");
    for (size_t i = 0; i < nb; i++)
        if ((idx ? idx[i] : i) >= d->n) return ptd_error(PTD_EINVAL, "sample %zu beyond the %zu of %s", idx ? idx[i] : i, d->n, d->name);
    int T = threads;
#ifdef _OPENMP
    if (T <= 0) T = omp_get_max_threads();
#else
    T = 1;
#endif
    if (T < 1) T = 1;
    const size_t S = nb < NSLOT ? nb : NSLOT;
    if ((size_t)T > S) T = (int)S;
    if (T > m->nws) {
        work **nw = realloc(m->ws, (size_t)T * sizeof *nw);
        if (!nw) return ptd_error(PTD_ENOMEM, "out of memory");
        m->ws = nw;
        for (int i = m->nws; i < T; i++) {
            m->ws[i] = work_alloc(m);
            if (!m->ws[i]) {
                m->nws = i;
                return ptd_error(PTD_ENOMEM, "out of memory for a workspace");
            }
        }
        m->nws = T;
    }
    size_t H = m->H, nl = m->cfg.layers;
    for (; grad && m->nslots < (int)S; m->nslots++) {
        m->sgrad[m->nslots] = malloc(m->np * sizeof *m->sgrad[0]);
        m->sdkf[m->nslots] = fftw_malloc(nl * H * m->ks * sizeof *m->sdkf[0]);
        if (!m->sgrad[m->nslots] || !m->sdkf[m->nslots]) {
            m->nslots++;
            slots_free(m);
            return ptd_error(PTD_ENOMEM, "out of memory for the batch's partial gradients");
        }
    }
    double t0 = now();
    /* kernels, once per call, parallel over channels */
#ifdef _OPENMP
#pragma omp parallel for num_threads(T) schedule(static)
#endif
    for (size_t lh = 0; lh < nl * H; lh++) {
        int tid = 0;
#ifdef _OPENMP
        tid = omp_get_thread_num();
#endif
        kernel_gen(m, lh / H, lh % H, m->ws[tid]);
    }
    m->tm.kernel += now() - t0;
    if (noise && noise->amp != 0 && noise->at != PTD_NOISE_NONE) {
        /* the noise's time functions depend on the channel's dt, not on the sample: once per
         * call (the same values the samples computed before, so the same bits) */
        size_t L = m->L, rows = noise->at == PTD_NOISE_INPUT ? 1 : nl * H;
        double *nc = realloc(m->ncos, rows * L * sizeof *nc);
        if (!nc) return ptd_error(PTD_ENOMEM, "out of memory");
        m->ncos = nc;
        if (grad && noise->at != PTD_NOISE_INPUT) {
            double *ns = realloc(m->nsin, rows * L * sizeof *ns);
            if (!ns) return ptd_error(PTD_ENOMEM, "out of memory");
            m->nsin = ns;
        }
#ifdef _OPENMP
#pragma omp parallel for num_threads(T) schedule(static)
#endif
        for (size_t r = 0; r < rows; r++) {
            /* row r: layer r / H, channel r % H, stored at [(l L + t) H + h]; the input's: [t] */
            size_t l = r / H, h = r % H, stride = noise->at == PTD_NOISE_INPUT ? 1 : H;
            double *cs = m->ncos + (noise->at == PTD_NOISE_INPUT ? 0 : l * L * H + h);
            double *sn = m->nsin ? m->nsin + l * L * H + h : NULL;
            double dt = noise->at == PTD_NOISE_INPUT ? 1e-2 : exp(m->p[m->lo[l].logdt + h]);
            for (size_t t = 0; t < L; t++) {
                double wt = noise->freq * (double)t * dt;
                cs[t * stride] = cos(wt);
                if (grad && noise->at != PTD_NOISE_INPUT) sn[t * stride] = sin(wt) * wt;
            }
        }
    }
    int oldblas = ptd_blas_threads_single();
    double sloss[NSLOT];
    size_t scorrect[NSLOT];
    for (int k = 0; k < T; k++) memset(&m->ws[k]->tm, 0, sizeof m->ws[k]->tm);
#ifdef _OPENMP
#pragma omp parallel for num_threads(T) schedule(static)
#endif
    for (size_t s = 0; s < S; s++) {
        int tid = 0;
#ifdef _OPENMP
        tid = omp_get_thread_num();
#endif
        work *w = m->ws[tid];
        w->loss = 0, w->correct = 0;
        if (grad) {
            w->grad = m->sgrad[s], w->dKf = m->sdkf[s];
            memset(w->grad, 0, m->np * sizeof *w->grad);
            memset(w->dKf, 0, nl * H * m->ks * sizeof *w->dKf);
        }
        for (size_t i = s; i < nb; i += S)
            sample_run(m, w, d, idx ? idx[i] : i, noise, 1.0 / (double)nb, grad != NULL);
        sloss[s] = w->loss, scorrect[s] = w->correct;
        w->grad = NULL, w->dKf = NULL;
    }
    ptd_blas_threads_restore(oldblas);
    double ls = 0;
    size_t cs = 0;
    for (size_t k = 0; k < S; k++) ls += sloss[k], cs += scorrect[k];
    for (int k = 0; k < T; k++) {
        work *w = m->ws[k];
        m->tm.fft += w->tm.fft, m->tm.dense += w->tm.dense, m->tm.rest += w->tm.rest;
    }
    if (loss) *loss = ls / (double)nb;
    if (correct) *correct = cs;
    if (!grad) return PTD_OK;
    t0 = now();
    memcpy(grad, m->sgrad[0], m->np * sizeof *grad);
    for (size_t k = 1; k < S; k++) {
        const double *g = m->sgrad[k];
        for (size_t i = 0; i < m->np; i++) grad[i] += g[i];
        double complex *a = m->sdkf[0];
        const double complex *b = m->sdkf[k];
        for (size_t i = 0; i < nl * H * m->ks; i++) a[i] += b[i];
    }
    m->tm.rest += now() - t0;
    t0 = now();
    /* kernel gradients: dK = IFFT(sum conj(Zf) DYf), then the parameters; parallel over
     * channels, each writes only its own channel's entries */
#ifdef _OPENMP
#pragma omp parallel for num_threads(T) schedule(static)
#endif
    for (size_t lh = 0; lh < nl * H; lh++) {
        int tid = 0;
#ifdef _OPENMP
        tid = omp_get_thread_num();
#endif
        work *w = m->ws[tid];
        double *dK = w->d1;
        kernel_grad_time(m, w, m->sdkf[0] + lh * m->ks, dK);
        kernel_back(m, lh / H, lh % H, dK, grad);
    }
    m->tm.kernel += now() - t0;
    return PTD_OK;
}

/* ---- optimiser ---------------------------------------------------------------------------- */

static double schedule(const ptd_train_opts *o, unsigned long step, unsigned long total)
{
    double wf = o->warmup > 0 ? o->warmup : 0.05;
    unsigned long tw = (unsigned long)ceil(wf * (double)total);
    if (step < tw) return (double)(step + 1) / (double)tw;
    if (total <= tw) return 1;
    return 0.5 * (1 + cos(M_PI * (double)(step - tw) / (double)(total - tw)));
}

int ptd_train_epoch(ptd_train_model *m, const ptd_train_opts *o, const ptd_dataset *d, size_t e,
                    ptd_train_epoch_stats *st)
{
    ptd_clear_error();
    size_t bs = o->batch ? o->batch : 32;
    if (d->n == 0) return ptd_error(PTD_EINVAL, "no training data");
    size_t nbat = (d->n + bs - 1) / bs;
    unsigned long total = (unsigned long)(nbat * (o->epochs ? o->epochs : 1));
    double lr = o->lr > 0 ? o->lr : 5e-3, slr = o->ssm_lr > 0 ? o->ssm_lr : 1e-3;
    size_t *perm = malloc(d->n * sizeof *perm);
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    if (!perm || !r) {
        free(perm);
        gsl_rng_free(r);
        return ptd_error(PTD_ENOMEM, "out of memory");
    }
    gsl_rng_set(r, o->seed * 1000003UL + e + 1);
    for (size_t i = 0; i < d->n; i++) perm[i] = i;
    gsl_ran_shuffle(r, perm, d->n, sizeof *perm);
    gsl_rng_free(r);
    double t0 = now(), lsum = 0, gmax = 0;
    size_t csum = 0, done = 0;
    int rc = PTD_OK;
    for (size_t b = 0; b < nbat; b++) {
        size_t nb = b + 1 < nbat ? bs : d->n - b * bs;
        double loss;
        size_t corr;
        rc = ptd_train_loss_grad(m, d, perm + b * bs, nb, NULL, o->threads, &loss, &corr, m->gtmp);
        if (rc) break;
        if (!isfinite(loss)) {
            rc = ptd_error(PTD_ERANGE, "training diverged: loss %g at step %lu (lower --lr)", loss, m->step);
            break;
        }
        lsum += loss * (double)nb, csum += corr, done += nb;
        double gn = 0;
        for (size_t i = 0; i < m->np; i++)
            if (!(o->freeze_ssm && ptd_train_param_is_ssm(m, i))) gn += m->gtmp[i] * m->gtmp[i];
        gn = sqrt(gn);
        gmax = fmax(gmax, gn);
        double cs = o->clip > 0 && gn > o->clip ? o->clip / gn : 1;
        double f = schedule(o, m->step, total);
        m->step++;
        double b1 = 0.9, b2 = 0.999, c1 = 1 - pow(b1, (double)m->step), c2 = 1 - pow(b2, (double)m->step);
        for (size_t k = 0; k < m->nt; k++) {
            const tensor *t = &m->t[k];
            if (t->group == 2 && o->freeze_ssm) continue;
            double a = (t->group == 2 ? slr : lr) * f, wd = t->group == 0 ? o->wd : 0;
            for (size_t i = t->off; i < t->off + t->size; i++) {
                double g = m->gtmp[i] * cs;
                m->am[i] = b1 * m->am[i] + (1 - b1) * g;
                m->av[i] = b2 * m->av[i] + (1 - b2) * g * g;
                m->p[i] -= a * ((m->am[i] / c1) / (sqrt(m->av[i] / c2) + 1e-8) + wd * m->p[i]);
            }
        }
        if (o->progress) o->progress(o->progress_ctx, done, d->n, lsum / (double)done);
    }
    free(perm);
    if (rc) return rc;
    m->epochs_done++;
    if (st) {
        st->loss = lsum / (double)done;
        st->acc = (double)csum / (double)done;
        st->seconds = now() - t0;
        st->samples_per_s = (double)done / st->seconds;
        st->grad_norm = gmax;
    }
    return PTD_OK;
}

int ptd_train_evaluate(ptd_train_model *m, const ptd_dataset *d, const ptd_train_noise *noise, int threads,
                       double *loss, double *acc)
{
    size_t corr = 0;
    int st = ptd_train_loss_grad(m, d, NULL, d->n, noise, threads, loss, &corr, NULL);
    if (!st && acc) *acc = (double)corr / (double)d->n;
    return st;
}

/* ---- checkpoints ------------------------------------------------------------------------------ */

#define CK_MAGIC "PTDSSM\r\n"
#define CK_VERSION 1u

typedef struct {
    char magic[8];
    uint32_t version, init;
    uint64_t din, nclass, len, layers, width, state, seed, np, epochs, step;
    double dt_min, dt_max;
} ck_header;

int ptd_train_model_save(const ptd_train_model *m, const char *path)
{
    ptd_clear_error();
    ck_header h;
    memset(&h, 0, sizeof h);
    memcpy(h.magic, CK_MAGIC, 8);
    h.version = CK_VERSION, h.init = (uint32_t)m->cfg.init;
    h.din = m->cfg.din, h.nclass = m->cfg.nclass, h.len = m->cfg.len, h.layers = m->cfg.layers;
    h.width = m->cfg.width, h.state = m->cfg.state, h.seed = m->cfg.seed, h.np = m->np;
    h.epochs = m->epochs_done, h.step = m->step, h.dt_min = m->cfg.dt_min, h.dt_max = m->cfg.dt_max;
    size_t sz = sizeof h + 3 * m->np * sizeof(double) + 8 * sizeof(double), off = 0;
    unsigned char *buf = malloc(sz + 4);
    if (!buf) return ptd_error(PTD_ENOMEM, "out of memory");
    memcpy(buf, &h, sizeof h), off = sizeof h;
    memcpy(buf + off, m->p, m->np * sizeof(double)), off += m->np * sizeof(double);
    memcpy(buf + off, m->am, m->np * sizeof(double)), off += m->np * sizeof(double);
    memcpy(buf + off, m->av, m->np * sizeof(double)), off += m->np * sizeof(double);
    /* extra[1]: the modes per channel when not N/2 (an s4-ptd model whose real-E system has
     * real eigenvalues); 0 otherwise, so files of models with N/2 modes are as before */
    double extra[8] = {m->wmax, m->M != m->cfg.state / 2 ? (double)m->M : 0};
    memcpy(buf + off, extra, sizeof extra), off += sizeof extra;
    uint32_t crc = (uint32_t)crc32(0L, buf, (uInt)off);
    memcpy(buf + off, &crc, 4), off += 4;
    int st = ptd_plot_write_file(path, (const char *)buf, off);
    free(buf);
    return st;
}

/* Every field of a checkpoint's header against the limits, before anything is sized from it. */
static int check_header(const char *path, const ck_header *h)
{
    static const struct {
        const char *name;
        size_t off;
        uint64_t lo, hi;
    } lim[] = {
        {"din", offsetof(ck_header, din), 1, PTD_TRAIN_MAX_DIN},
        {"nclass", offsetof(ck_header, nclass), 2, PTD_TRAIN_MAX_NCLASS},
        {"len", offsetof(ck_header, len), 2, PTD_TRAIN_MAX_LEN},
        {"layers", offsetof(ck_header, layers), 1, PTD_TRAIN_MAX_LAYERS},
        {"width", offsetof(ck_header, width), 1, PTD_TRAIN_MAX_WIDTH},
        {"state", offsetof(ck_header, state), 2, PTD_TRAIN_MAX_STATE},
        {"epochs_done", offsetof(ck_header, epochs), 0, PTD_TRAIN_MAX_EPOCHS},
        {"step", offsetof(ck_header, step), 0, PTD_TRAIN_MAX_STEPS},
    };
    for (size_t k = 0; k < sizeof lim / sizeof lim[0]; k++) {
        uint64_t v;
        memcpy(&v, (const char *)h + lim[k].off, sizeof v);
        if (v < lim[k].lo || v > lim[k].hi)
            return ptd_error(PTD_EFORMAT, "%s: checkpoint field %s = %llu is out of range %llu..%llu", path,
                             lim[k].name, (unsigned long long)v, (unsigned long long)lim[k].lo,
                             (unsigned long long)lim[k].hi);
    }
    if (h->state % 2)
        return ptd_error(PTD_EFORMAT, "%s: checkpoint field state = %llu is odd (N/2 conjugate pairs)", path,
                         (unsigned long long)h->state);
    if (h->step < h->epochs)
        return ptd_error(PTD_EFORMAT, "%s: checkpoint field step = %llu is below epochs_done = %llu (every epoch "
                         "takes a step)", path, (unsigned long long)h->step, (unsigned long long)h->epochs);
    if (h->init > PTD_INIT_S4_PTD)
        return ptd_error(PTD_EFORMAT, "%s: checkpoint field init: unknown initialisation %u", path, h->init);
    if (!(isfinite(h->dt_min) && isfinite(h->dt_max) && h->dt_min > 0 && h->dt_max > 0))
        return ptd_error(PTD_EFORMAT, "%s: checkpoint fields dt_min = %g, dt_max = %g must be finite and positive",
                         path, h->dt_min, h->dt_max);
    if (h->dt_min > h->dt_max)
        return ptd_error(PTD_EFORMAT, "%s: checkpoint field dt_min = %g is above dt_max = %g", path, h->dt_min,
                         h->dt_max);
    return PTD_OK;
}

/* The values behind the header: parameters and first moments finite, second moments finite
 * and >= 0, the initial zero state at step 0, w_max finite and positive, reserved words 0.
 * `v` points at the 3 np + 8 doubles after the header (unaligned). */
static int check_values(const char *path, const ptd_train_model *m, const unsigned char *v, uint64_t step)
{
    static const char *const what[3] = {"parameter", "first moment of", "second moment of"};
    size_t np = m->np;
    for (size_t k = 0; k < 3; k++)
        for (size_t i = 0; i < np; i++) {
            double x;
            memcpy(&x, v + 8 * (k * np + i), 8);
            const char *bad = !isfinite(x) ? "is not finite" : k == 2 && x < 0 ? "is negative" : NULL;
            if (!bad && step == 0 && k > 0 && x != 0) bad = "is not zero at step 0";
            if (bad)
                return ptd_error(PTD_EFORMAT, "%s: %s %zu (%s) %s (%g)", path, what[k], i, ptd_train_param_name(m, i),
                                 bad, x);
        }
    double extra[8];
    memcpy(extra, v + 8 * 3 * np, sizeof extra);
    if (!(isfinite(extra[0]) && extra[0] > 0))
        return ptd_error(PTD_EFORMAT, "%s: noise frequency w_max = %g is not finite and positive", path, extra[0]);
    for (size_t k = 2; k < 8; k++)
        if (extra[k] != 0 || signbit(extra[k]))
            return ptd_error(PTD_EFORMAT, "%s: reserved word %zu after the parameters is not zero", path, k);
    return PTD_OK;
}

int ptd_train_model_load(const char *path, ptd_train_model **out)
{
    *out = NULL;
    ptd_clear_error();
    FILE *f = fopen(path, "rb");
    if (!f) return ptd_error(PTD_EIO, "%s: cannot open: %s", path, strerror(errno));
    /* the buffer grows with the bytes that arrive, never by what the file says of itself */
    unsigned char *buf = NULL;
    size_t len = 0, cap = 0;
    int st = PTD_OK;
    for (;;) {
        if (ptdi_grow((void **)&buf, &cap, len + 1, SIZE_MAX, 1)) {
            st = ptd_error(PTD_ENOMEM, "%s: out of memory after %zu bytes", path, len);
            break;
        }
        size_t r = fread(buf + len, 1, cap - len, f);
        len += r;
        if (r == 0) break;
    }
    int ioerr = ferror(f);
    fclose(f);
    ck_header h;
    ptd_train_model *m = NULL;
    if (st) goto done;
    if (ioerr) {
        st = ptd_error(PTD_EIO, "%s: read error", path);
        goto done;
    }
    if (len < 8 || memcmp(buf, CK_MAGIC, 8) != 0) {
        st = ptd_error(PTD_EFORMAT, "%s: not an ssm-train checkpoint (no PTDSSM header)", path);
        goto done;
    }
    if (len < sizeof h + 8 * sizeof(double) + 4) {
        st = ptd_error(PTD_EFORMAT, "%s: truncated: %zu bytes, shorter than a checkpoint's header", path, len);
        goto done;
    }
    memcpy(&h, buf, sizeof h);
    if (h.version != CK_VERSION) {
        st = ptd_error(PTD_EFORMAT, "%s: checkpoint version %u; this build reads version %u", path, h.version, CK_VERSION);
        goto done;
    }
    /* the size the header implies, in checked arithmetic: 3 np + 8 doubles after it, a CRC */
    size_t want = (len - sizeof h - 4) / 8 - 8; /* doubles present beyond the 8 extra */
    if (h.np == 0 || h.np > want / 3 || len != sizeof h + (3 * h.np + 8) * sizeof(double) + 4) {
        st = ptd_error(PTD_EFORMAT, "%s: truncated or padded: %zu bytes for %llu parameters (checkpoint field np)",
                       path, len, (unsigned long long)h.np);
        goto done;
    }
    uint32_t crc;
    memcpy(&crc, buf + len - 4, 4);
    if (crc != (uint32_t)crc32(0L, buf, (uInt)(len - 4))) {
        st = ptd_error(PTD_EFORMAT, "%s: checksum mismatch: the file is corrupt", path);
        goto done;
    }
    if ((st = check_header(path, &h))) goto done;
    /* the modes per channel, from the reserved word after w_max (0: N/2), before the layout */
    double xm;
    memcpy(&xm, buf + sizeof h + (3 * h.np + 1) * 8, sizeof xm);
    if (!(xm == 0 && !signbit(xm)) &&
        !(xm == floor(xm) && xm >= (double)(h.state / 2) && xm <= (double)h.state && h.init == PTD_INIT_S4_PTD)) {
        st = ptd_error(PTD_EFORMAT, "%s: modes per channel = %g (the word after w_max) is not 0 or an integer in "
                       "N/2..N of an s4-ptd model", path, xm);
        goto done;
    }
    ptd_train_config c = {.din = h.din, .nclass = h.nclass, .len = h.len, .layers = h.layers, .width = h.width,
                          .state = h.state, .modes = (size_t)xm, .init = (ptd_train_init)h.init, .seed = h.seed,
                          .dt_min = h.dt_min, .dt_max = h.dt_max};
    if ((st = model_layout(&c, &m))) {
        st = ptd_error(PTD_EFORMAT, "%s: %s", path, ptd_last_error());
        goto done;
    }
    if (m->np != h.np) {
        st = ptd_error(PTD_EFORMAT, "%s: %llu parameters (checkpoint field np), but its configuration has %zu", path,
                       (unsigned long long)h.np, m->np);
        goto done;
    }
    const unsigned char *v = buf + sizeof h;
    if ((st = check_values(path, m, v, h.step))) goto done;
    if ((st = model_buffers(m))) goto done;
    memcpy(m->p, v, m->np * 8);
    memcpy(m->am, v + m->np * 8, m->np * 8);
    memcpy(m->av, v + 2 * m->np * 8, m->np * 8);
    memcpy(&m->wmax, v + 3 * m->np * 8, sizeof m->wmax);
    m->epochs_done = h.epochs, m->step = h.step;
done:
    free(buf);
    if (st) ptd_train_model_free(m);
    else *out = m;
    return st;
}
