// test_cxx.cpp - ptd.h from C++: ptd_complex is std::complex<double>, the library is called
// as it is.  A plan of a 2 x 2 triangular matrix (its own Schur form) and of a unitary
// similarity of it (zgees), sigma_min at a point, passed by value, against the closed form;
// a one-mode transfer function, returned by value, against c b / (s - lambda).
#include "ptd.h"

#include <cfloat>
#include <cmath>
#include <complex>
#include <cstdio>

static int failures = 0;

static void check(bool ok, const char *what, double got, double want, double tol)
{
    std::printf("%s: %s (got %.17g, want %.17g, |diff| %.3g, tolerance %.3g)\n", ok ? "PASS" : "FAIL", what, got,
                want, std::fabs(got - want), tol);
    if (!ok) failures++;
}

static bool close_to(double got, double want, double tol) { return std::fabs(got - want) <= tol; }

// sigma_min of M = [[p, q], [0, r]]: sigma_max sigma_min = |det| and sigma_max^2 + sigma_min^2
// = ||M||_F^2, so sigma_min = 2 |det| / (sqrt(F^2 + 2 |det|) + sqrt(F^2 - 2 |det|)), with no
// cancellation.
static double sigma_min_2x2(ptd_complex p, ptd_complex q, ptd_complex r)
{
    double det = std::abs(p * r), f2 = std::norm(p) + std::norm(q) + std::norm(r);
    return 2 * det / (std::sqrt(f2 + 2 * det) + std::sqrt(f2 - 2 * det));
}

static double sigma_at(const ptd_matrix *A, ptd_complex z, ptd_pspec_method method, int *exact)
{
    ptd_pspec_plan *plan = NULL;
    if (ptd_pspec_plan_create(A, &plan) != PTD_OK) {
        std::printf("FAIL: plan: %s\n", ptd_last_error());
        failures++;
        return NAN;
    }
    *exact = ptd_pspec_plan_exact(plan);
    ptd_pspec_work *w = ptd_pspec_work_alloc(plan);
    ptd_pspec_opts opts = ptd_pspec_opts();
    opts.method = method;
    ptd_pspec_point pt;
    int st = w ? ptd_pspec_sigma_min(plan, w, z, &opts, &pt) : PTD_ENOMEM;
    if (st != PTD_OK) {
        std::printf("FAIL: sigma_min: %s\n", ptd_last_error());
        failures++;
        pt.sigma = NAN;
    }
    ptd_pspec_work_free(w);
    ptd_pspec_plan_free(plan);
    return pt.sigma;
}

int main()
{
    ptd_init();
    const double u = DBL_EPSILON / 2;
    const ptd_complex a(1, 2), b(3, 0), d(-1, 0.5), z(0.3, -0.7);
    ptd_matrix *A = ptd_matrix_alloc(2, 2);
    ptd_matrix *S = ptd_matrix_alloc(2, 2);
    if (!A || !S) return 1;
    PTD_AT(A, 0, 0) = a;
    PTD_AT(A, 0, 1) = b;
    PTD_AT(A, 1, 1) = d;
    const double want = sigma_min_2x2(z - a, -b, z - d);
    const double fro = std::sqrt(std::norm(z - a) + std::norm(b) + std::norm(z - d));

    // the triangular matrix is its own Schur form: zI - T in a few roundings of ||zI - T||_F
    int exact = 0;
    double got = sigma_at(A, z, PTD_PSPEC_SVD, &exact);
    check(exact == 1, "a triangular matrix gives an exact plan", exact, 1, 0);
    check(close_to(got, want, 16 * u * fro), "sigma_min by SVD, exact plan", got, want, 16 * u * fro);
    got = sigma_at(A, z, PTD_PSPEC_LANCZOS, &exact);
    check(close_to(got, want, 16 * u * fro), "sigma_min by inverse Lanczos (2 steps span C^2)", got, want,
          16 * u * fro);

    // S = Q A Q^* with the rotation Q by 0.6: the same sigma_min, through zgees; the
    // similarity and the Schur form add a few u ||A|| each
    const double c = std::cos(0.6), s = std::sin(0.6);
    const double Q[2][2] = {{c, -s}, {s, c}};
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 2; j++) {
            ptd_complex acc = 0;
            for (int k = 0; k < 2; k++)
                for (int l = 0; l < 2; l++) acc += Q[i][k] * PTD_AT(A, k, l) * Q[j][l];
            PTD_AT(S, i, j) = acc;
        }
    double nrm = 0;
    if (ptd_matrix_norm2(A, &nrm) != PTD_OK) return 1;
    got = sigma_at(S, z, PTD_PSPEC_LANCZOS, &exact);
    check(exact == 0, "a full matrix gives a computed Schur form", exact, 0, 0);
    check(close_to(got, want, 64 * u * (nrm + std::abs(z))), "sigma_min through zgees, unitarily invariant", got,
          want, 64 * u * (nrm + std::abs(z)));

    // a complex returned by value: G(s) = c b / (s - lambda) for one mode
    const ptd_complex lam(-0.5, 3), bb(2, 0), cc(1, -1), sv(0, 0.25);
    ptd_tf *tf = NULL;
    if (ptd_tf_diag_create(1, &lam, &bb, &cc, &tf) != PTD_OK) {
        std::printf("FAIL: tf: %s\n", ptd_last_error());
        return 1;
    }
    ptd_complex G = ptd_tf_eval1(tf, sv), Gw = cc * bb / (sv - lam);
    check(close_to(std::abs(G - Gw), 0, 8 * u * std::abs(Gw)), "transfer function returned by value", std::abs(G),
          std::abs(Gw), 8 * u * std::abs(Gw));
    ptd_tf_free(tf);

    // errors come back as statuses and one-line messages
    ptd_pspec_plan *bad = NULL;
    ptd_matrix *R = ptd_matrix_alloc(2, 3);
    int st = ptd_pspec_plan_create(R, &bad);
    check(st == PTD_EINVAL && bad == NULL && *ptd_last_error() != '\0', "a non-square matrix is refused", st,
          PTD_EINVAL, 0);
    ptd_matrix_free(R);
    ptd_matrix_free(A);
    ptd_matrix_free(S);
    std::printf("%d failed\n", failures);
    return failures ? 1 : 0;
}
