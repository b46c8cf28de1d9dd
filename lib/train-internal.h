/* train-internal.h - what the training loop (lib/train.c), its two layers (lib/s4layer.c,
 * lib/s5layer.c) and its checkpoints (lib/checkpoint.c) share: the model and workspace
 * structures, not part of the installed interface.
 *
 * Activations are time-major, L x H row-major (u[t H + h]).  Complex parameters are stored
 * as (re, im) pairs and their gradients as (df/dre, df/dim), which for a holomorphic
 * dependence h(p) is g_p = conj(h'(p)) g_h. */
#ifndef PTD_TRAIN_INTERNAL_H
#define PTD_TRAIN_INTERNAL_H

#include "internal.h"

#include <complex.h>
#include <fftw3.h>
#include <gsl/gsl_fft_complex.h>
#include <gsl/gsl_rng.h>
#include <stddef.h>

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
    double *s5x;                              /* s5: every layer's states, L x 2M each
                                                 ([Re x_k | Im x_k] per row k) */
    double *s5g;                              /* s5: L x 2M, the states' gradient */
    double *s5t;                              /* s5: H x 2M scratch (C's gradient) */
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
    double cf;             /* the output's factor: 2 (2 Re, conjugate symmetry) or 1 (Re) */
    double *s5Bs, *s5Cs;   /* s5, per layer and call: [Re Bbar; Im Bbar] (2M x H) and
                              cf [Re C, -Im C] (H x 2M), the real forms the dgemms take */
    double complex *s5e, *s5f; /* s5: e^{Lambda dt} and (e^{Lambda dt} - 1)/Lambda (M a layer) */
    size_t slot_len;       /* complex entries of a part's spectra (s4) or Bbar, e gradient (s5) */
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

/* lib/train.c */
void ptdi_train_slots_free(ptd_train_model *m);
size_t ptdi_train_slot_len(const ptd_train_model *m);
void ptdi_train_work_free(work *w);
/* The tensor layout of a configuration (no buffers), then its buffers. */
int ptdi_train_layout(const ptd_train_config *c, ptd_train_model **out);
int ptdi_train_buffers(ptd_train_model *m);
/* The step of channel h of layer l: its own dt (s4) or the layer's mean time scale (s5). */
double ptdi_layer_dt(const ptd_train_model *m, size_t l, size_t h);

/* lib/s4layer.c: one diagonal SSM per channel, kernels by FFT convolution */
void ptdi_s4_plans_free(ptd_train_model *m);
int ptdi_s4_plans_make(ptd_train_model *m);
size_t ptdi_s4_spectrum_stride(const ptd_train_model *m);
/* The N/2 eigenvalues with positive imaginary part of LegS's normal part A_N (ascending,
 * real parts -1/2), Btilde = V^* B, the eigenvectors (N x N/2, or NULL) and w_max. */
int ptdi_legs_normal_modes(size_t N, double complex *lam, double complex *bt, double complex *Vk, double *wmax);
int ptdi_ptd_fits(const ptd_ptd *p, size_t N);
size_t ptdi_ptd_mode_count(const ptd_ptd *p);
/* The modes of a PTD system (ptdi_ptd_mode_count), by decreasing imaginary part: lambda
 * (real parts at most -1e-4), Btilde (halved for a real eigenvalue of a real E), the
 * eigenvectors (N x M, or NULL) and the eigenvalues' indices in p (or NULL). */
int ptdi_ptd_modes(const ptd_ptd *p, size_t N, double complex *lam, double complex *bt, double complex *Vk,
                   size_t *ix);
/* The S4 layers' parameters from the modes lam, bt (M each), C random. */
void ptdi_s4_init(ptd_train_model *m, const double complex *lam, const double complex *bt, gsl_rng *r);
void ptdi_s4_kernel(ptd_train_model *m, size_t l, size_t h, work *w);
void ptdi_s4_kernel_back(ptd_train_model *m, size_t l, size_t h, const double *dK, double *grad);
void ptdi_s4_forward(ptd_train_model *m, work *w, size_t l, const double *z, const double *zd, double *y);
void ptdi_s4_backward(ptd_train_model *m, work *w, size_t l, const double *dy, double *du);
void ptdi_s4_kernel_grad_time(ptd_train_model *m, work *w, const double complex *dKf, double *dK);

/* lib/s5layer.c: one multi-input multi-output diagonal SSM per layer, by a scan */
/* The states per layer an s5 configuration gives (pp: its PTD system of order N/J, or NULL). */
size_t ptdi_s5_states(const ptd_train_config *c, const ptd_ptd *pp);
/* The order N/J of an s5 configuration's blocks, or PTD_EINVAL (with the message) when the
 * blocks do not divide N into blocks of even order: the one check of the model, the PTD
 * system's creation and the block system. */
int ptdi_s5_block_order(const ptd_train_config *c, size_t *nb);
/* The states (modes) per layer when no PTD system adds real eigenvalues: N/2, or N for s5
 * without conjugate symmetry. */
size_t ptdi_train_default_modes(const ptd_train_config *c);
int ptdi_s5_init(ptd_train_model *m, const ptd_ptd *pp, gsl_rng *r);
void ptdi_s5_prepare(ptd_train_model *m, size_t l);
void ptdi_s5_forward(ptd_train_model *m, work *w, size_t l, const double *z, const double *zd, double *y);
void ptdi_s5_backward(ptd_train_model *m, work *w, size_t l, const double *z, const double *dy, double *du);
void ptdi_s5_param_grad(ptd_train_model *m, size_t l, const double complex *acc, double *grad);

#endif /* PTD_TRAIN_INTERNAL_H */
