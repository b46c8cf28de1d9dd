/* train.c - the sequence classifier around its SSM layers: the model's layout and
 * initialisation, one sample's forward and backward pass (encoder, per layer the SSM of
 * lib/s4layer.c or lib/s5layer.c, GELU, output linear, residual, LayerNorm; mean pooling,
 * decoder, cross-entropy), batches summed in fixed parts, AdamW.  Checkpoints are in
 * lib/checkpoint.c.
 *
 * Activations are time-major, L x H row-major (u[t H + h]), so that the dense layers and the
 * LayerNorm work on contiguous rows.  Complex parameters are stored as (re, im) pairs and
 * their gradients as (df/dre, df/dim), which for a holomorphic dependence h(p) is
 * g_p = conj(h'(p)) g_h. */
#include "config.h"
#include "train-internal.h"

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


size_t ptdi_train_slot_len(const ptd_train_model *m)
{
    size_t nl = m->cfg.layers;
    return m->cfg.layer == PTD_LAYER_S5 ? nl * m->M * (m->H + 1) : nl * m->H * m->ks;
}

double ptdi_layer_dt(const ptd_train_model *m, size_t l, size_t h)
{
    const layer_off *o = &m->lo[l];
    if (m->cfg.layer != PTD_LAYER_S5) return exp(m->p[o->logdt + h]);
    double s = 0;
    for (size_t k = 0; k < m->M; k++) s += m->p[o->logdt + k];
    return exp(s / (double)m->M);
}

void ptdi_train_slots_free(ptd_train_model *m)
{
    for (int i = 0; i < m->nslots; i++) free(m->sgrad[i]), fftw_free(m->sdkf[i]);
    m->nslots = 0;
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

void ptdi_train_work_free(work *w)
{
    if (!w) return;
    gsl_fft_complex_workspace_free(w->fw);
    free(w->u), free(w->z), free(w->y), free(w->g), free(w->r), free(w->mu), free(w->rs);
    free(w->d1), free(w->d2), free(w->d3), free(w->xin), free(w->pool), free(w->prob);
    fftw_free(w->Zf), fftw_free(w->buf), fftw_free(w->ya), fftw_free(w->yb);
    fftw_free(w->rin_h), fftw_free(w->rout_h), fftw_free(w->cb_h);
    fftw_free(w->Y_h), free(w->gd);
    free(w->s5x), free(w->s5g), free(w->s5t);
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
    if (m->cfg.layer == PTD_LAYER_S5) {
        w->s5x = malloc(nl * L * 2 * m->M * sizeof *w->s5x);
        w->s5g = malloc(L * 2 * m->M * sizeof *w->s5g);
        w->s5t = malloc(H * 2 * m->M * sizeof *w->s5t);
        if (!w->s5x || !w->s5g || !w->s5t) {
            ptdi_train_work_free(w);
            return NULL;
        }
    }
    if (!w->fw || !w->u || !w->z || !w->y || !w->g || !w->r || !w->mu || !w->rs || !w->d1 || !w->d2 || !w->d3 ||
        !w->xin || !w->pool || !w->prob || !w->Zf || !w->buf || !w->ya || !w->yb ||
        !w->rin_h || !w->rout_h || !w->cb_h || !w->Y_h || !w->gd) {
        ptdi_train_work_free(w);
        return NULL;
    }
    memset(w->rin_h, 0, H * m->nfft * sizeof *w->rin_h);
    return w;
}

void ptd_train_model_free(ptd_train_model *m)
{
    if (!m) return;
    for (int i = 0; i < m->nws; i++) ptdi_train_work_free(m->ws[i]);
    free(m->ws);
    ptdi_train_slots_free(m);
    free(m->p), free(m->am), free(m->av), free(m->gtmp), free(m->K), free(m->lo), free(m->ncos), free(m->nsin);
    free(m->s5Bs), free(m->s5Cs), free(m->s5e), free(m->s5f);
    fftw_free(m->Kf);
    gsl_fft_complex_wavetable_free(m->wt);
    ptdi_s4_plans_free(m);
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
    if (c->layer != PTD_LAYER_S4 && c->layer != PTD_LAYER_S5)
        return ptd_error(PTD_EINVAL, "model: unknown layer %d", (int)c->layer);
    if (c->layer == PTD_LAYER_S4) {
        if (c->blocks > 1 || c->s5_full)
            return ptd_error(PTD_EINVAL, "model: blocks and s5_full are the s5 layer's (got %zu, %d with s4)",
                             c->blocks, c->s5_full);
        return PTD_OK;
    }
    size_t J = c->blocks ? c->blocks : 1, nb;
    int st = ptdi_s5_block_order(c, &nb);
    if (st) return st;
    if (c->s5_full && c->modes && c->modes != c->state)
        return ptd_error(PTD_EINVAL, "model: s5 without conjugate symmetry has N = %zu states (got %zu)", c->state,
                         c->modes);
    if (c->modes % J)
        return ptd_error(PTD_EINVAL, "model: s5's %zu states are not %zu equal blocks", c->modes, J);
    return PTD_OK;
}

/* The structure: the tensor layout and its parameter count, no buffers (a few hundred bytes
 * for any configuration within the limits).  The checkpoint loader compares the count with
 * the file before ptdi_train_buffers allocates. */
int ptdi_train_layout(const ptd_train_config *c, ptd_train_model **out)
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
    int s5 = c->layer == PTD_LAYER_S5;
    if (s5 && !m->cfg.blocks) m->cfg.blocks = 1;
    m->H = c->width, m->M = c->modes ? c->modes : ptdi_train_default_modes(c), m->L = c->len;
    m->nfft = 2 * c->len;
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
        /* s4: per channel h its M modes; s5: M states shared by the channels, Btilde M x H
         * and C H x M complex, a step per state */
        T(lre, "log_neg_re_Lambda", s5 ? 1 : H, M, 2);
        T(lim, "im_Lambda", s5 ? 1 : H, M, 2);
        T(B, "Btilde", s5 ? M : H, 2 * (s5 ? H : M), 2);
        T(C, "C", H, 2 * M, 1);
        T(logdt, "log_dt", s5 ? M : H, 1, 2);
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
int ptdi_train_buffers(ptd_train_model *m)
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
    m->ks = ptdi_s4_spectrum_stride(m);
    m->cf = m->cfg.layer == PTD_LAYER_S5 && m->cfg.s5_full ? 1 : 2;
    if (m->cfg.layer == PTD_LAYER_S5) {
        size_t M = m->M;
        m->s5Bs = malloc(nl * 2 * M * H * sizeof *m->s5Bs);
        m->s5Cs = malloc(nl * 2 * M * H * sizeof *m->s5Cs);
        m->s5e = malloc(nl * M * sizeof *m->s5e);
        m->s5f = malloc(nl * M * sizeof *m->s5f);
        if (!m->s5Bs || !m->s5Cs || !m->s5e || !m->s5f)
            return ptd_error(PTD_ENOMEM, "out of memory for a model of %zu parameters", m->np);
    }
    m->slot_len = ptdi_train_slot_len(m);
    return ptdi_s4_plans_make(m);
}

static int model_alloc(const ptd_train_config *c, ptd_train_model **out)
{
    int st = ptdi_train_layout(c, out);
    if (!st && (st = ptdi_train_buffers(*out))) {
        ptd_train_model_free(*out);
        *out = NULL;
    }
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
    const int s5 = c->layer == PTD_LAYER_S5;
    cc.modes = 0;
    if (s5 && !cc.blocks) cc.blocks = 1;
    int st = check_config(c);
    if (st) return st;
    /* the order of the system each layer (s4) or each block (s5) is made from */
    const size_t N = c->state, Nb = s5 ? N / cc.blocks : N;
    if (c->init == PTD_INIT_S4_PTD) { /* the system first: it decides how many modes */
        if (!c->ptd) {
            st = ptd_train_ptd_create(c, &made);
            if (st) return st;
        }
        pp = c->ptd ? c->ptd : made;
        st = ptdi_ptd_fits(pp, Nb);
        if (st) {
            ptd_ptd_free(made);
            return st;
        }
        cc.modes = s5 ? ptdi_s5_states(c, pp) : ptdi_ptd_mode_count(pp);
    }
    st = model_alloc(c, &m);
    if (st) {
        ptd_ptd_free(made);
        return st;
    }
    size_t M = m->M, H = m->H, din = c->din;
    double complex *lam = malloc(M * sizeof *lam), *bt = malloc(M * sizeof *bt), *l0 = malloc(M * sizeof *l0),
                   *b0 = malloc(M * sizeof *b0);
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    if (!lam || !bt || !l0 || !b0 || !r) {
        st = ptd_error(PTD_ENOMEM, "out of memory");
        goto done;
    }
    gsl_rng_set(r, c->seed);
    /* w_max: the largest frequency of LegS's normal part of the order the layer is made of */
    st = ptdi_legs_normal_modes(Nb, l0, b0, NULL, &m->wmax); /* l0, b0: Nb/2 <= M entries */
    if (st) goto done;
    if (c->init != PTD_INIT_S4D_LEGS && c->init != PTD_INIT_S4D_LIN && c->init != PTD_INIT_S4_PTD) {
        st = ptd_error(PTD_EINVAL, "model: unknown initialisation %d", (int)c->init);
        goto done;
    }
    double *p = m->p;
    double a = 1 / sqrt((double)din);
    for (size_t i = 0; i < H * din; i++) p[m->enc_W + i] = gsl_ran_flat(r, -a, a);
    if (s5) {
        st = ptdi_s5_init(m, pp, r);
        if (st) goto done;
    } else {
        if (c->init == PTD_INIT_S4D_LEGS) {
            memcpy(lam, l0, M * sizeof *lam);
            memcpy(bt, b0, M * sizeof *bt);
        } else if (c->init == PTD_INIT_S4D_LIN) {
            for (size_t k = 0; k < M; k++) lam[k] = CMPLX(-0.5, M_PI * (double)k), bt[k] = 1;
        } else {
            st = ptdi_ptd_modes(pp, N, lam, bt, NULL, NULL);
            if (st) goto done;
        }
        ptdi_s4_init(m, lam, bt, r);
    }
    a = 1 / sqrt((double)H);
    for (size_t i = 0; i < c->nclass * H; i++) p[m->dec_W + i] = gsl_ran_flat(r, -a, a);
done:
    free(lam), free(bt), free(l0), free(b0);
    gsl_rng_free(r);
    ptd_ptd_free(made);
    if (st) ptd_train_model_free(m);
    else *out = m;
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


void ptd_train_timing_get(const ptd_train_model *m, ptd_train_timing *t) { *t = m->tm; }
void ptd_train_timing_reset(ptd_train_model *m) { memset(&m->tm, 0, sizeof m->tm); }


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
    double t0 = ptdi_now(), t1;
    const int layer_noise = nz && (nz->at == PTD_NOISE_LAYERS || nz->at == PTD_NOISE_SSM) && nz->amp != 0;
    const int ssm_noise = layer_noise && nz->at == PTD_NOISE_SSM;
    const int s5 = m->cfg.layer == PTD_LAYER_S5;
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
        t1 = ptdi_now();
        w->tm.rest += t1 - t0, t0 = t1;
        (s5 ? ptdi_s5_forward : ptdi_s4_forward)(m, w, l, z, ssm_noise ? u : z, y);
        t1 = ptdi_now();
        w->tm.fft += t1 - t0, t0 = t1;
        double *gd = want_grad ? w->gd + l * LH : NULL;
        for (size_t i = 0; i < LH; i++) g[i] = gelu_fwd(y[i], gd ? gd + i : NULL);
        for (size_t t = 0; t < L; t++) memcpy(r + t * H, p + o->b, H * sizeof *r);
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)L, (int)H, (int)H, 1.0, g, (int)H, p + o->W, (int)H,
                    1.0, r, (int)H);
        t1 = ptdi_now();
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
    t1 = ptdi_now();
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
        t1 = ptdi_now();
        w->tm.rest += t1 - t0, t0 = t1;
        /* output linear: o = g W^T + b */
        for (size_t t = 0; t < L; t++)
            for (size_t h = 0; h < H; h++) gr[o->b + h] += dr[t * H + h];
        cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)H, (int)H, (int)L, 1.0, dr, (int)H, g, (int)H, 1.0,
                    gr + o->W, (int)H);
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)L, (int)H, (int)H, 1.0, dr, (int)H, p + o->W,
                    (int)H, 0.0, dy, (int)H);
        t1 = ptdi_now();
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
        t1 = ptdi_now();
        w->tm.rest += t1 - t0, t0 = t1;
        if (s5) ptdi_s5_backward(m, w, l, z, dy, du);
        else ptdi_s4_backward(m, w, l, dy, du);
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
                if (!s5) gr[o->logdt + h] += acc;
                else /* s5: the layer's mean log dt, each state's a 1/M share */
                    for (size_t k = 0; k < m->M; k++) gr[o->logdt + k] += acc / (double)m->M;
            }
        t1 = ptdi_now();
        w->tm.fft += t1 - t0, t0 = t1;
    }
    for (size_t t = 0; t < L; t++)
        for (size_t h = 0; h < H; h++) {
            double v = du[t * H + h];
            gr[m->enc_b + h] += v;
            for (size_t k = 0; k < din; k++) gr[m->enc_W + h * din + k] += v * w->xin[t * din + k];
        }
    t1 = ptdi_now();
    w->tm.rest += t1 - t0;
}

int ptd_train_ssm_apply(ptd_train_model *m, size_t l, const double *u, double *y)
{
    ptd_clear_error();
    if (!m || !u || !y) return ptd_error(PTD_EINVAL, "ssm apply: a NULL argument");
    if (l >= m->cfg.layers) return ptd_error(PTD_EINVAL, "ssm apply: layer %zu of %zu", l, m->cfg.layers);
    work *w = work_alloc(m);
    if (!w) return ptd_error(PTD_ENOMEM, "out of memory for a workspace");
    size_t LH = m->L * m->H;
    double *z = w->z + l * LH;
    memcpy(z, u, LH * sizeof *z);
    if (m->cfg.layer == PTD_LAYER_S5) {
        ptdi_s5_prepare(m, l);
        ptdi_s5_forward(m, w, l, z, z, y);
    } else {
        for (size_t h = 0; h < m->H; h++) ptdi_s4_kernel(m, l, h, w);
        ptdi_s4_forward(m, w, l, z, z, y);
    }
    ptdi_train_work_free(w);
    return PTD_OK;
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
        m->sdkf[m->nslots] = fftw_malloc(m->slot_len * sizeof *m->sdkf[0]);
        if (!m->sgrad[m->nslots] || !m->sdkf[m->nslots]) {
            m->nslots++;
            ptdi_train_slots_free(m);
            return ptd_error(PTD_ENOMEM, "out of memory for the batch's partial gradients");
        }
    }
    double t0 = ptdi_now();
    /* kernels, once per call, parallel over channels */
#ifdef _OPENMP
#pragma omp parallel for num_threads(T) schedule(static)
#endif
    for (size_t lh = 0; lh < nl * H; lh++) {
        int tid = 0;
#ifdef _OPENMP
        tid = omp_get_thread_num();
#endif
        if (m->cfg.layer == PTD_LAYER_S5) {
            if (lh < nl) ptdi_s5_prepare(m, lh); /* s5: Bbar and C's real forms, a layer each */
        } else
            ptdi_s4_kernel(m, lh / H, lh % H, m->ws[tid]);
    }
    m->tm.kernel += ptdi_now() - t0;
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
            double dt = noise->at == PTD_NOISE_INPUT ? 1e-2 : ptdi_layer_dt(m, l, h);
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
            memset(w->dKf, 0, m->slot_len * sizeof *w->dKf);
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
    t0 = ptdi_now();
    memcpy(grad, m->sgrad[0], m->np * sizeof *grad);
    for (size_t k = 1; k < S; k++) {
        const double *g = m->sgrad[k];
        for (size_t i = 0; i < m->np; i++) grad[i] += g[i];
        double complex *a = m->sdkf[0];
        const double complex *b = m->sdkf[k];
        for (size_t i = 0; i < m->slot_len; i++) a[i] += b[i];
    }
    m->tm.rest += ptdi_now() - t0;
    t0 = ptdi_now();
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
        if (m->cfg.layer == PTD_LAYER_S5) {
            if (lh < nl) ptdi_s5_param_grad(m, lh, m->sdkf[0], grad);
            continue;
        }
        double *dK = w->d1;
        ptdi_s4_kernel_grad_time(m, w, m->sdkf[0] + lh * m->ks, dK);
        ptdi_s4_kernel_back(m, lh / H, lh % H, dK, grad);
    }
    m->tm.kernel += ptdi_now() - t0;
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
    double t0 = ptdi_now(), lsum = 0, gmax = 0;
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
        st->seconds = ptdi_now() - t0;
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

