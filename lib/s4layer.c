/* s4layer.c - the S4 layer of the training loop: one diagonal SSM per channel (S4D, S4-PTD),
 * its ZOH kernel K_t = 2 Re sum_n C_n Bbar_n e^{t dt Lambda_n}, the linear convolution
 * K * u by FFT (FFTW real-to-complex plans, or GSL's complex FFT as the reference) and the
 * hand-written backward pass through both; the modes of its initialisations (LegS's normal
 * part, a PTD system) and their strong error against LegS. */
#include "config.h"
#include "train-internal.h"

#include <fftw3.h>
#include <gsl/gsl_fft_complex.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <lapacke.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* FFTW's planner is not thread-safe (its execute functions are): plans are made and
 * destroyed under this lock, so models may be created from several threads. */
static pthread_mutex_t planner_lock = PTHREAD_MUTEX_INITIALIZER;

void ptdi_s4_plans_free(ptd_train_model *m)
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
int ptdi_s4_plans_make(ptd_train_model *m)
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
        ptdi_s4_plans_free(m);
        return ptd_error(PTD_ENOMEM, "out of memory for FFTW plans of length %zu", nf);
    }
    return PTD_OK;
}

size_t ptdi_s4_spectrum_stride(const ptd_train_model *m)
{
    return m->fft == PTD_TRAIN_FFT_GSL ? m->nfft : fftw_stride(m->nfft);
}


/* The eigenvalues with positive imaginary part of A_N (ascending) and Btilde = V^* B, and w_max. */
int ptdi_legs_normal_modes(size_t N, double complex *lam, double complex *bt, double complex *Vk, double *wmax)
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
int ptdi_ptd_fits(const ptd_ptd *p, size_t N)
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
size_t ptdi_ptd_mode_count(const ptd_ptd *p)
{
    if (!p->real) return p->n / 2;
    size_t k = 0;
    for (size_t i = 0; i < p->n; i++) k += cimag(p->lambda[i]) >= 0;
    return k;
}

/* Those modes (ptdi_ptd_mode_count of them), by decreasing imaginary part, and with Vk their
 * eigenvectors (N x M). */
int ptdi_ptd_modes(const ptd_ptd *p, size_t N, double complex *lam, double complex *bt, double complex *Vk,
                   size_t *ixo)
{
    int st = ptdi_ptd_fits(p, N);
    if (st) return st;
    size_t M = ptdi_ptd_mode_count(p);
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
        if (ixo) ixo[k] = i;
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
    size_t N = c->state;
    if (c->layer == PTD_LAYER_S5 && ptdi_s5_block_order(c, &N)) return PTD_EINVAL; /* s5: a block's order */
    ptd_system *s = NULL;
    int st = ptd_zoo_make("hippo-legs", N, 0, &s);
    /* a real E: the spectrum of A + E is closed under conjugation, so its modes with
     * Im >= 0 (ptdi_ptd_modes) with 2 Re are exactly the transfer function of A + E (the N/2 of
     * largest imaginary part of a complex E are not: ptd_train_init_strong_error measures it) */
    ptd_perturb_opts po = {.max_rel = c->ptd_rel > 0 ? c->ptd_rel : 0.04,
                           .steps = c->ptd_steps ? c->ptd_steps : 1000, .seed = c->seed, .real = 1};
    if (!st) st = ptd_perturb_optimize(s->A, s->B, NULL, &po, out);
    ptd_system_free(s);
    return st;
}

int ptd_train_init_strong_error(const ptd_train_config *c, const double *w, size_t nw, double *err)
{
    ptd_clear_error();
    if (!c || c->state < 2 || c->state % 2 || c->state > PTD_TRAIN_MAX_STATE)
        return ptd_error(PTD_EINVAL, "strong error: an even state order 2 <= N <= %d is needed", PTD_TRAIN_MAX_STATE);
    if (c->init == PTD_INIT_S4_PTD && !c->ptd)
        return ptd_error(PTD_EINVAL, "strong error: an s4-ptd configuration needs its PTD system (c->ptd)");
    if (c->layer == PTD_LAYER_S5)
        return ptd_error(PTD_EINVAL, "strong error: an s5 layer's B and C are random, so its modes model no one "
                         "LegS transfer function (the measure is the s4 layer's)");
    size_t N = c->state, M = c->init == PTD_INIT_S4_PTD && c->ptd ? ptdi_ptd_mode_count(c->ptd) : N / 2;
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
    if (!st) st = c->init == PTD_INIT_S4D_LEGS ? ptdi_legs_normal_modes(N, lam, bt, Vk, &wmax) : ptdi_ptd_modes(c->ptd, N, lam, bt, Vk, NULL);
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

int ptd_train_set_fft(ptd_train_model *m, ptd_train_fft fft)
{
    ptd_clear_error();
    if (fft != PTD_TRAIN_FFT_FFTW && fft != PTD_TRAIN_FFT_GSL)
        return ptd_error(PTD_EINVAL, "model: unknown FFT %d", (int)fft);
    if (fft == m->fft) return PTD_OK;
    /* the workspaces' spectra have the other layout: made again on the next call */
    for (int i = 0; i < m->nws; i++) ptdi_train_work_free(m->ws[i]);
    m->nws = 0;
    ptdi_train_slots_free(m);
    m->fft = fft;
    m->ks = ptdi_s4_spectrum_stride(m);
    m->slot_len = ptdi_train_slot_len(m);
    return PTD_OK;
}
ptd_train_fft ptd_train_get_fft(const ptd_train_model *m) { return m->fft; }

/* ---- kernels ------------------------------------------------------------------------ */

/* K_t = 2 Re sum_n W_n e_n^t with e_n = e^{dt Lambda_n}, W_n = C_n B_n (e_n - 1)/Lambda_n. */
void ptdi_s4_kernel(ptd_train_model *m, size_t l, size_t h, work *w)
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
void ptdi_s4_kernel_back(ptd_train_model *m, size_t l, size_t h, const double *dK, double *grad)
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
void ptdi_s4_forward(ptd_train_model *m, work *w, size_t l, const double *z, const double *zd, double *y)
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
void ptdi_s4_backward(ptd_train_model *m, work *w, size_t l, const double *dy, double *du)
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
void ptdi_s4_kernel_grad_time(ptd_train_model *m, work *w, const double complex *dKf, double *dK)
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

void ptdi_s4_init(ptd_train_model *m, const double complex *lam, const double complex *bt, gsl_rng *r)
{
    double *p = m->p;
    size_t H = m->H, M = m->M;
    for (size_t l = 0; l < m->cfg.layers; l++) {
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
        double a = 1 / sqrt((double)H);
        for (size_t i = 0; i < H * H; i++) p[o->W + i] = gsl_ran_flat(r, -a, a);
    }
}
