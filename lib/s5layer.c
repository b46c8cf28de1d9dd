/* s5layer.c - the S5 layer of the training loop: one diagonal SSM of M complex states shared
 * by the layer's H channels (Smith, Warrington and Linderman's multi-input multi-output
 * layer), run by a scan, with its hand-written backward pass and its initialisations.
 *
 *   Lbar = e^{Lambda dt}, Bbar = (Lbar - 1)/Lambda Btilde      (ZOH, a step dt per state)
 *   x_k = Lbar x_{k-1} + Bbar u_k,  y_k = cf Re(C x_k) + D u_k  (x_{-1} = 0)
 *
 * with cf = 2 under conjugate symmetry (the states are the eigenvalues with Im >= 0 and their
 * conjugates are implied) and cf = 1 without.  In real arithmetic Bbar u_k and Re(C x_k) are
 * two matrix products per sample, [Re; Im] Bbar (2M x H) and cf [Re C, -Im C] (H x 2M), and
 * the scan between them is sequential in k, independent in the states.
 *
 * Backward: with G_k the gradient of x_k (G = dL/dRe + i dL/dIm), the adjoint scan is
 * G_k = dX_k + conj(Lbar) G_{k+1}; then dBbar = sum_k G_k u_k^T, dLbar = sum_k conj(x_{k-1})
 * G_k, du_k += Re(Bbar^* G_k) and dC = cf sum_k dy_k x_k^* (conjugated for the stored
 * parts).  The per-sample sums are linear, so a batch sums dBbar and dLbar and the chain
 * through the discretisation to Lambda, Btilde and log dt runs once per batch. */
#include "config.h"
#include "train-internal.h"

#include <gsl/gsl_cblas.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

int ptdi_s5_block_order(const ptd_train_config *c, size_t *nb)
{
    size_t J = c->blocks ? c->blocks : 1;
    if (c->state % J || (c->state / J) % 2)
        return ptd_error(PTD_EINVAL, "s5: blocks J = %zu must divide N = %zu into blocks of even order", J, c->state);
    *nb = c->state / J;
    return PTD_OK;
}

size_t ptdi_train_default_modes(const ptd_train_config *c)
{
    return c->layer == PTD_LAYER_S5 && c->s5_full ? c->state : c->state / 2;
}

size_t ptdi_s5_states(const ptd_train_config *c, const ptd_ptd *pp)
{
    size_t J = c->blocks ? c->blocks : 1;
    if (c->s5_full) return c->state;
    if (c->init == PTD_INIT_S4_PTD && pp) return J * ptdi_ptd_mode_count(pp);
    return c->state / 2;
}

/* A block's eigen-system as the layer uses it: Mb eigenvalues lam, the eigenvectors V (Nb x
 * Mb, column-major) and the rows W (Mb x Nb, row-major) that give Btilde = W B: V^* for
 * LegS's normal part (unitary), the rows of V^{-1} for a PTD system (halved for a real
 * eigenvalue under conjugate symmetry, so that 2 Re counts it once), [I; 0] for S4D-Lin. */
static int block_system(const ptd_train_config *c, const ptd_ptd *pp, size_t Nb, size_t Mb, double complex *lam,
                        double complex *V, double complex *W)
{
    int st = PTD_OK;
    memset(V, 0, Nb * Mb * sizeof *V);
    memset(W, 0, Nb * Mb * sizeof *W);
    if (c->init == PTD_INIT_S4D_LIN) {
        for (size_t k = 0; k < Mb; k++) lam[k] = CMPLX(-0.5, M_PI * (double)k), V[k + k * Nb] = 1, W[k * Nb + k] = 1;
        return PTD_OK;
    }
    if (c->init == PTD_INIT_S4D_LEGS && !c->s5_full) {
        double complex *bt = malloc(Mb * sizeof *bt);
        double wmax;
        if (!bt) return ptd_error(PTD_ENOMEM, "out of memory");
        st = ptdi_legs_normal_modes(Nb, lam, bt, V, &wmax);
        free(bt);
        for (size_t k = 0; !st && k < Mb; k++)
            for (size_t r = 0; r < Nb; r++) W[k * Nb + r] = conj(V[r + k * Nb]);
        return st;
    }
    if (c->init == PTD_INIT_S4D_LEGS) { /* every eigenvalue of the normal part, Re = -1/2 */
        ptd_system *sn = NULL;
        ptd_eig *e = NULL;
        st = ptd_zoo_make("hippo-legs-normal", Nb, 0, &sn);
        if (!st) st = ptd_cond_eig(sn->A, &e);
        for (size_t k = 0; !st && k < Mb; k++) {
            lam[k] = CMPLX(-0.5, cimag(e->lambda[k]));
            for (size_t r = 0; r < Nb; r++) V[r + k * Nb] = PTD_AT(e->V, r, k), W[k * Nb + r] = conj(PTD_AT(e->V, r, k));
        }
        ptd_eig_free(e);
        ptd_system_free(sn);
        return st;
    }
    /* S5-PTD */
    if (!c->s5_full) {
        size_t *ix = malloc(Mb * sizeof *ix);
        double complex *bt = malloc(Mb * sizeof *bt);
        if (!ix || !bt) st = ptd_error(PTD_ENOMEM, "out of memory");
        if (!st) st = ptdi_ptd_modes(pp, Nb, lam, bt, V, ix);
        for (size_t k = 0; !st && k < Mb; k++) {
            double half = pp->real && cimag(pp->lambda[ix[k]]) == 0 ? 0.5 : 1;
            for (size_t r = 0; r < Nb; r++) W[k * Nb + r] = half * PTD_AT(pp->Vinv, ix[k], r);
        }
        free(ix), free(bt);
        return st;
    }
    for (size_t k = 0; k < Mb; k++) {
        lam[k] = CMPLX(fmin(creal(pp->lambda[k]), -1e-4), cimag(pp->lambda[k]));
        for (size_t r = 0; r < Nb; r++) V[r + k * Nb] = PTD_AT(pp->V, r, k), W[k * Nb + r] = PTD_AT(pp->Vinv, k, r);
    }
    return PTD_OK;
}

int ptd_train_s5_block_system(const ptd_train_config *c, const ptd_ptd *pp, ptd_complex *lam, ptd_complex *V,
                               ptd_complex *W, size_t *mb)
{
    ptd_clear_error();
    if (!c || !lam || !V || !W || !mb) return ptd_error(PTD_EINVAL, "s5: a NULL argument");
    ptd_train_config cc = *c;
    cc.layer = PTD_LAYER_S5;
    if (!cc.blocks) cc.blocks = 1;
    if (cc.state < 2 || cc.state > PTD_TRAIN_MAX_STATE)
        return ptd_error(PTD_EINVAL, "s5: the state order N = %zu is not in 2..%d", cc.state, PTD_TRAIN_MAX_STATE);
    size_t Nb;
    int st = ptdi_s5_block_order(&cc, &Nb);
    if (st) return st;
    if (cc.init == PTD_INIT_S4_PTD) {
        if (!pp) return ptd_error(PTD_EINVAL, "s5-ptd: the block's PTD system is needed");
        st = ptdi_ptd_fits(pp, Nb);
        if (st) return st;
    } else if (cc.init != PTD_INIT_S4D_LEGS && cc.init != PTD_INIT_S4D_LIN)
        return ptd_error(PTD_EINVAL, "s5: unknown initialisation %d", (int)cc.init);
    *mb = ptdi_s5_states(&cc, pp) / cc.blocks;
    return block_system(&cc, pp, Nb, *mb, (double complex *)lam, (double complex *)V, (double complex *)W);
}

/* The layers' parameters: per layer a real B (N x H, N(0, 1/H)) and C (H x N, N(0, 1)) made
 * Btilde = blockdiag(W) B and C V blockdiag, a log-uniform step per state, D ~ N(0, 1). */
int ptdi_s5_init(ptd_train_model *m, const ptd_ptd *pp, gsl_rng *r)
{
    const ptd_train_config *c = &m->cfg;
    size_t N = c->state, J = c->blocks, Nb = N / J, M = m->M, Mb = M / J, H = m->H;
    double *p = m->p;
    double complex *lam = malloc(Mb * sizeof *lam), *V = malloc(Nb * Mb * sizeof *V), *W = malloc(Nb * Mb * sizeof *W);
    double *B = malloc(N * H * sizeof *B), *C = malloc(H * N * sizeof *C);
    int st = !lam || !V || !W || !B || !C ? ptd_error(PTD_ENOMEM, "out of memory") : PTD_OK;
    if (!st) st = block_system(c, pp, Nb, Mb, lam, V, W);
    double sb = 1 / sqrt((double)H), a = 1 / sqrt((double)H);
    for (size_t l = 0; !st && l < c->layers; l++) {
        const layer_off *o = &m->lo[l];
        for (size_t i = 0; i < N * H; i++) B[i] = gsl_ran_gaussian(r, sb);
        for (size_t i = 0; i < H * N; i++) C[i] = gsl_ran_gaussian(r, 1.0);
        for (size_t j = 0; j < J; j++)
            for (size_t k = 0; k < Mb; k++) {
                size_t q = j * Mb + k;
                p[o->lre + q] = log(-creal(lam[k]));
                p[o->lim + q] = cimag(lam[k]);
                for (size_t h = 0; h < H; h++) {
                    double complex bt = 0, ct = 0;
                    for (size_t s = 0; s < Nb; s++) {
                        bt += W[k * Nb + s] * B[(j * Nb + s) * H + h];
                        ct += C[h * N + j * Nb + s] * V[s + k * Nb];
                    }
                    p[o->B + 2 * (q * H + h)] = creal(bt), p[o->B + 2 * (q * H + h) + 1] = cimag(bt);
                    p[o->C + 2 * (h * M + q)] = creal(ct), p[o->C + 2 * (h * M + q) + 1] = cimag(ct);
                }
            }
        for (size_t q = 0; q < M; q++)
            p[o->logdt + q] = log(c->dt_min) + gsl_rng_uniform(r) * (log(c->dt_max) - log(c->dt_min));
        for (size_t h = 0; h < H; h++) p[o->D + h] = gsl_ran_gaussian(r, 1.0), p[o->gam + h] = 1;
        for (size_t i = 0; i < H * H; i++) p[o->W + i] = gsl_ran_flat(r, -a, a);
    }
    free(lam), free(V), free(W), free(B), free(C);
    return st;
}

/* Layer l's discretisation from the current parameters: e, f and the real forms of Bbar and C. */
void ptdi_s5_prepare(ptd_train_model *m, size_t l)
{
    const layer_off *o = &m->lo[l];
    const double *p = m->p;
    size_t M = m->M, H = m->H, M2 = 2 * M;
    double *Bs = m->s5Bs + l * M2 * H, *Cs = m->s5Cs + l * H * M2;
    for (size_t q = 0; q < M; q++) {
        double complex lam = CMPLX(-exp(p[o->lre + q]), p[o->lim + q]);
        double dt = exp(p[o->logdt + q]);
        double complex e = cexp(lam * dt), f = (e - 1) / lam;
        m->s5e[l * M + q] = e, m->s5f[l * M + q] = f;
        for (size_t h = 0; h < H; h++) {
            double complex bb = f * CMPLX(p[o->B + 2 * (q * H + h)], p[o->B + 2 * (q * H + h) + 1]);
            Bs[q * H + h] = creal(bb), Bs[(M + q) * H + h] = cimag(bb);
        }
    }
    for (size_t h = 0; h < H; h++)
        for (size_t q = 0; q < M; q++) {
            Cs[h * M2 + q] = m->cf * p[o->C + 2 * (h * M + q)];
            Cs[h * M2 + M + q] = -m->cf * p[o->C + 2 * (h * M + q) + 1];
        }
}

/* y = cf Re(C x) + D zd with the states x of input z kept for the backward pass. */
void ptdi_s5_forward(ptd_train_model *m, work *w, size_t l, const double *z, const double *zd, double *y)
{
    size_t L = m->L, H = m->H, M = m->M, M2 = 2 * M;
    const double *Bs = m->s5Bs + l * M2 * H, *Cs = m->s5Cs + l * H * M2, *D = m->p + m->lo[l].D;
    const double complex *e = m->s5e + l * M;
    double *X = w->s5x + l * L * M2;
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)L, (int)M2, (int)H, 1.0, z, (int)H, Bs, (int)H, 0.0, X,
                (int)M2);
    for (size_t k = 1; k < L; k++) {
        double *x = X + k * M2;
        const double *xp = x - M2;
        for (size_t q = 0; q < M; q++) {
            double er = creal(e[q]), ei = cimag(e[q]), a = xp[q], b = xp[M + q];
            x[q] += er * a - ei * b;
            x[M + q] += er * b + ei * a;
        }
    }
    for (size_t t = 0; t < L; t++)
        for (size_t h = 0; h < H; h++) y[t * H + h] = D[h] * zd[t * H + h];
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)L, (int)H, (int)M2, 1.0, X, (int)M2, Cs, (int)M2, 1.0, y,
                (int)H);
}

/* Given dy: C's gradient into w->grad, du += the input's, and the part's sums of dBbar (as
 * 2M x H reals) and dLbar (M) into w->dKf at layer l's M (H + 1) entries. */
void ptdi_s5_backward(ptd_train_model *m, work *w, size_t l, const double *z, const double *dy, double *du)
{
    size_t L = m->L, H = m->H, M = m->M, M2 = 2 * M;
    const layer_off *o = &m->lo[l];
    const double *Bs = m->s5Bs + l * M2 * H, *Cs = m->s5Cs + l * H * M2, *X = w->s5x + l * L * M2;
    const double complex *e = m->s5e + l * M;
    double *G = w->s5g, *T = w->s5t, *gr = w->grad;
    double complex *acc = w->dKf + l * M * (H + 1), *gE = acc + M * H;
    double *gB = (double *)acc;
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)H, (int)M2, (int)L, 1.0, dy, (int)H, X, (int)M2, 0.0, T,
                (int)M2);
    for (size_t h = 0; h < H; h++)
        for (size_t q = 0; q < M; q++) {
            gr[o->C + 2 * (h * M + q)] += m->cf * T[h * M2 + q];
            gr[o->C + 2 * (h * M + q) + 1] -= m->cf * T[h * M2 + M + q];
        }
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)L, (int)M2, (int)H, 1.0, dy, (int)H, Cs, (int)M2, 0.0,
                G, (int)M2);
    for (size_t k = L; k-- > 1;) {
        const double *g = G + k * M2;
        double *gp = G + (k - 1) * M2;
        for (size_t q = 0; q < M; q++) {
            double er = creal(e[q]), ei = cimag(e[q]), a = g[q], b = g[M + q];
            gp[q] += er * a + ei * b;
            gp[M + q] += er * b - ei * a;
        }
    }
    for (size_t k = 1; k < L; k++) {
        const double *g = G + k * M2, *xp = X + (k - 1) * M2;
        for (size_t q = 0; q < M; q++)
            gE[q] += CMPLX(xp[q] * g[q] + xp[M + q] * g[M + q], xp[q] * g[M + q] - xp[M + q] * g[q]);
    }
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)M2, (int)H, (int)L, 1.0, G, (int)M2, z, (int)H, 1.0, gB,
                (int)H);
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)L, (int)H, (int)M2, 1.0, G, (int)M2, Bs, (int)H, 1.0, du,
                (int)H);
}

/* From a batch's sums of dBbar and dLbar (acc, every layer's): the gradients of Lambda,
 * Btilde and log dt of layer l through Bbar = f Btilde, f = (e - 1)/Lambda, e = e^{Lambda dt}. */
void ptdi_s5_param_grad(ptd_train_model *m, size_t l, const double complex *acc, double *grad)
{
    const layer_off *o = &m->lo[l];
    const double *p = m->p;
    size_t M = m->M, H = m->H;
    const double *gB = (const double *)(acc + l * M * (H + 1));
    const double complex *gE = acc + l * M * (H + 1) + M * H;
    for (size_t q = 0; q < M; q++) {
        double complex lam = CMPLX(-exp(p[o->lre + q]), p[o->lim + q]);
        double dt = exp(p[o->logdt + q]);
        double complex e = m->s5e[l * M + q], f = m->s5f[l * M + q], gf = 0;
        for (size_t h = 0; h < H; h++) {
            size_t i = o->B + 2 * (q * H + h);
            double complex gb = CMPLX(gB[q * H + h], gB[(M + q) * H + h]), bt = CMPLX(p[i], p[i + 1]);
            double complex gbt = conj(f) * gb;
            grad[i] += creal(gbt), grad[i + 1] += cimag(gbt);
            gf += conj(bt) * gb;
        }
        double complex ge = gE[q];
        double complex dfdl = (dt * e * lam - (e - 1)) / (lam * lam), dedl = dt * e;
        double complex gl = conj(dfdl) * gf + conj(dedl) * ge;
        double ddt = creal(conj(gf) * e + conj(ge) * lam * e);
        grad[o->lre + q] += creal(gl) * creal(lam);
        grad[o->lim + q] += cimag(gl);
        grad[o->logdt + q] += dt * ddt;
    }
}
