/* blas.c - the one matrix-product wrapper over CBLAS (float, and double for
 * the small least-squares solves), the Cholesky solve over LAPACK, and plain
 * loop references of each product. */
#include "core/internal.h"

#include <cblas.h>
#include <lapacke.h>

/* One output row or column is a matrix-vector product. SGEMM would first
 * copy ("pack") the whole of the other operand, tripling the memory traffic
 * of a product that is bound by reading that operand once: at batch 1 (one
 * sample through a model, the latency case) that is most of the time.
 * SGEMV reads it in place. beta = 0 is applied here: C may hold anything,
 * NaN included, and BLAS libraries differ on whether SGEMV's beta = 0
 * overwrites it or scales it. */
static void gemv(bool trans_m, int rows, int cols, float alpha, const float *m, int ldm,
                 const float *x, int incx, float beta, float *y, int incy, int ny)
{
    if (beta == 0.0f) {
        for (int i = 0; i < ny; i++) y[(size_t)i * incy] = 0.0f;
        beta = 1.0f;
    }
    cblas_sgemv(CblasRowMajor, trans_m ? CblasTrans : CblasNoTrans, rows, cols, alpha, m, ldm,
                x, incx, beta, y, incy);
}

void lc_sgemm(bool trans_a, bool trans_b, int m, int n, int k, float alpha,
              const float *a, int lda, const float *b, int ldb, float beta,
              float *c, int ldc)
{
    if (m == 0 || n == 0) return;
    if (k > 0 && m == 1) /* c = op(B)^T x, x the row of A (a column of A^T: stride lda) */
        gemv(!trans_b, trans_b ? n : k, trans_b ? k : n, alpha, b, ldb, a, trans_a ? lda : 1, beta,
             c, 1, n);
    else if (k > 0 && n == 1) /* c = op(A) x, x the column of op(B); c a column: stride ldc */
        gemv(trans_a, trans_a ? k : m, trans_a ? m : k, alpha, a, lda, b, trans_b ? 1 : ldb, beta,
             c, ldc, m);
    else
        cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
                    trans_b ? CblasTrans : CblasNoTrans, m, n, k, alpha, a, lda, b, ldb, beta, c,
                    ldc);
}

void lc_sgemm_ref(bool trans_a, bool trans_b, int m, int n, int k, float alpha,
                  const float *a, int lda, const float *b, int ldb, float beta,
                  float *c, int ldc)
{
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++) {
            double s = 0;
            for (int p = 0; p < k; p++) {
                double av = trans_a ? a[(size_t)p * lda + i] : a[(size_t)i * lda + p];
                double bv = trans_b ? b[(size_t)j * ldb + p] : b[(size_t)p * ldb + j];
                s += av * bv;
            }
            float *cij = &c[(size_t)i * ldc + j];
            *cij = (float)(alpha * s + (beta == 0 ? 0.0 : (double)beta * *cij));
        }
}

/* C (n x n, upper triangle) = alpha A^T A + beta C for A (k x n): the Gram
 * matrix of a block of rows. The lower triangle of C is left as it was. */
void lc_ssyrk_t(int n, int k, float alpha, const float *a, int lda, float beta, float *c, int ldc)
{
    if (n == 0) return;
    cblas_ssyrk(CblasRowMajor, CblasUpper, CblasTrans, n, k, alpha, a, lda, beta, c, ldc);
}

void lc_ssyrk_t_ref(int n, int k, float alpha, const float *a, int lda, float beta, float *c,
                    int ldc)
{
    for (int i = 0; i < n; i++)
        for (int j = i; j < n; j++) {
            double s = 0;
            for (int p = 0; p < k; p++) s += (double)a[(size_t)p * lda + i] * a[(size_t)p * lda + j];
            float *cij = &c[(size_t)i * ldc + j];
            *cij = (float)(alpha * s + (beta == 0 ? 0.0 : (double)beta * *cij));
        }
}

/* The double-precision product, for the small solves of least squares
 * (Gram matrices are accumulated in double): C = alpha op(A) op(B) + beta C. */
void lc_dgemm(bool trans_a, bool trans_b, int m, int n, int k, double alpha, const double *a,
              int lda, const double *b, int ldb, double beta, double *c, int ldc)
{
    if (m == 0 || n == 0) return;
    cblas_dgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
                trans_b ? CblasTrans : CblasNoTrans, m, n, k, alpha, a, lda, b, ldb, beta, c,
                ldc);
}

void lc_dgemm_ref(bool trans_a, bool trans_b, int m, int n, int k, double alpha,
                  const double *a, int lda, const double *b, int ldb, double beta, double *c,
                  int ldc)
{
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++) {
            long double s = 0;
            for (int p = 0; p < k; p++) {
                double av = trans_a ? a[(size_t)p * lda + i] : a[(size_t)i * lda + p];
                double bv = trans_b ? b[(size_t)j * ldb + p] : b[(size_t)p * ldb + j];
                s += (long double)av * bv;
            }
            double *cij = &c[(size_t)i * ldc + j];
            *cij = (double)(alpha * s + (beta == 0 ? 0.0L : (long double)beta * *cij));
        }
}

/* Solves A X = B for symmetric positive definite A (n x n, upper triangle
 * read, overwritten by its Cholesky factor) and B (n x nrhs, overwritten by
 * X). Returns false when A is not positive definite (numerically).
 * The row-major upper triangle is, in the same memory, the column-major
 * lower one: LAPACK's dpotrf factors it as A = L L^T without the two
 * transposed copies (and the NaN scan) that LAPACKE's row-major dpotrf and
 * dpotrs make, a tenth of a reconstruction's time; L^T is the row-major
 * upper factor R (A = R^T R), and X comes from two triangular solves in
 * place, R^T Y = B then R X = Y (CBLAS dtrsm, row-major). */
bool lc_chol_solve(int n, int nrhs, double *a, double *b)
{
    if (n == 0) return true;
    if (LAPACKE_dpotrf_work(LAPACK_COL_MAJOR, 'L', n, a, n) != 0) return false;
    if (nrhs == 0) return true;
    cblas_dtrsm(CblasRowMajor, CblasLeft, CblasUpper, CblasTrans, CblasNonUnit, n, nrhs, 1.0, a, n,
                b, nrhs);
    cblas_dtrsm(CblasRowMajor, CblasLeft, CblasUpper, CblasNoTrans, CblasNonUnit, n, nrhs, 1.0, a,
                n, b, nrhs);
    return true;
}
