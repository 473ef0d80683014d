/*
 * _halfgemm: y = x @ W + b for a few rows of float32 x against a float16 weight matrix.
 *
 * Why this exists: a vibe query runs all-MiniLM-L6-v2 over a handful of tokens, so every
 * dense layer is a "skinny" product (about 4-16 rows of x against a 384x1536-class weight
 * matrix). OpenBLAS packs both operands for every sgemm call, which at these shapes costs
 * more than the arithmetic (measured: 6.3 ms for the 24 encoder matmuls at 4 rows against
 * 2.6 ms for a single row), and streaming 42 MB of float32 weights keeps the working set
 * out of the 32 MB L3. Weights held as float16 (21 MB, cosine to the float32 embedding
 * >= 0.9999997 on the library texts) and pre-packed once at load into column panels let one
 * pass over each panel serve every row from registers.
 *
 * Layout: W (K x N, N a multiple of 16) is packed as N/16 panels, each K rows of 16
 * consecutive columns: packed[p][k][j] = W[k][16 p + j] (see pack_panels in halfgemm.py).
 * Products accumulate in float32 with FMA; float16 -> float32 conversion is exact.
 * Buffers must be C-contiguous, x/bias/y float32 and W float16 (checked by format code).
 *
 * The kernel needs x86-64 AVX2 + FMA + F16C (every x86 CPU since ~2013) and GCC or clang;
 * `KERNEL_COMPILED` says whether it was compiled in (not with MSVC, nor on MinGW, whose GCC
 * does not realign the stack for spilled AVX registers, nor on other architectures),
 * `available()` whether this CPU can run it; callers fall back to numpy otherwise. Nothing here
 * depends on numpy's C API: arrays arrive through the buffer protocol, sizes are checked
 * against the buffers before any access, and the GIL is released while the kernel runs.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>

#define PANEL 16
#define ROW_BLOCK 6

#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__)) && !defined(_WIN32)
#define HALFGEMM_X86 1
#include <cpuid.h>
#include <immintrin.h>

#define TARGET __attribute__((target("avx2,fma,f16c")))

/* One panel (16 columns) for `rows` (1..ROW_BLOCK) rows of x: 2 * rows accumulators in
 * registers, each weight row converted once and used by every x row. `rows` is a
 * compile-time constant at each call site below, so the loops unroll fully. */
static inline __attribute__((always_inline)) TARGET void
panel_block(const int rows, const float *x, Py_ssize_t ldx, const uint16_t *wp, Py_ssize_t K,
            __m256 b0, __m256 b1, float *y, Py_ssize_t ldy)
{
    __m256 acc0[ROW_BLOCK], acc1[ROW_BLOCK];
#pragma GCC unroll 8
    for (int r = 0; r < rows; r++) {
        acc0[r] = b0;
        acc1[r] = b1;
    }
    for (Py_ssize_t k = 0; k < K; k++) {
        const uint16_t *wk = wp + k * PANEL;
        __m256 w0 = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)wk));
        __m256 w1 = _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(wk + 8)));
#pragma GCC unroll 8
        for (int r = 0; r < rows; r++) {
            __m256 xr = _mm256_broadcast_ss(x + r * ldx + k);
            acc0[r] = _mm256_fmadd_ps(xr, w0, acc0[r]);
            acc1[r] = _mm256_fmadd_ps(xr, w1, acc1[r]);
        }
    }
#pragma GCC unroll 8
    for (int r = 0; r < rows; r++) {
        _mm256_storeu_ps(y + r * ldy, acc0[r]);
        _mm256_storeu_ps(y + r * ldy + 8, acc1[r]);
    }
}

static TARGET void
gemm_avx2(const float *x, const uint16_t *w, const float *bias, float *y, Py_ssize_t M,
          Py_ssize_t K, Py_ssize_t N)
{
    const Py_ssize_t panels = N / PANEL;
    for (Py_ssize_t p = 0; p < panels; p++) {
        const uint16_t *wp = w + p * K * PANEL;
        const __m256 b0 = bias ? _mm256_loadu_ps(bias + p * PANEL) : _mm256_setzero_ps();
        const __m256 b1 = bias ? _mm256_loadu_ps(bias + p * PANEL + 8) : _mm256_setzero_ps();
        /* Split the rows into equal blocks of at most ROW_BLOCK (7 rows as 4 + 3, not 6 + 1):
         * a block of one or two rows is bound by weight loads, not arithmetic. */
        const Py_ssize_t blocks = (M + ROW_BLOCK - 1) / ROW_BLOCK;
        Py_ssize_t m = 0;
        for (Py_ssize_t blk = 0; blk < blocks; blk++) {
            const Py_ssize_t rows = M / blocks + (blk < M % blocks ? 1 : 0);
            const float *xm = x + m * K;
            float *ym = y + m * N + p * PANEL;
            switch (rows) {
            case 6: panel_block(6, xm, K, wp, K, b0, b1, ym, N); break;
            case 5: panel_block(5, xm, K, wp, K, b0, b1, ym, N); break;
            case 4: panel_block(4, xm, K, wp, K, b0, b1, ym, N); break;
            case 3: panel_block(3, xm, K, wp, K, b0, b1, ym, N); break;
            case 2: panel_block(2, xm, K, wp, K, b0, b1, ym, N); break;
            default: panel_block(1, xm, K, wp, K, b0, b1, ym, N); break;
            }
            m += rows;
        }
    }
}

/* AVX2 and FMA through the compiler (it also checks that the OS saves YMM state); F16C
 * through CPUID leaf 1, since __builtin_cpu_supports("f16c") is unknown to clang < 18. */
static int
detect_cpu(void)
{
    unsigned int eax, ebx, ecx, edx;
    __builtin_cpu_init();
    if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma"))
        return 0;
    if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx))
        return 0;
    return (ecx & bit_F16C) != 0;
}
#else
static int
detect_cpu(void)
{
    return 0;
}
#endif

static int cpu_supported = -1; /* set once at import */

static int
cpu_ok(void)
{
    if (cpu_supported < 0)
        cpu_supported = detect_cpu();
    return cpu_supported;
}

static PyObject *
halfgemm_available(PyObject *self, PyObject *noargs)
{
    (void)self;
    (void)noargs;
    return PyBool_FromLong(cpu_ok());
}

/* Release every buffer that was acquired (their .obj is NULL until acquired). */
static void
release(Py_buffer *bufs, int n)
{
    for (int i = 0; i < n; i++)
        if (bufs[i].obj != NULL)
            PyBuffer_Release(&bufs[i]);
}

/* True if a buffer format string is the native-endian (little-endian here) scalar `code`. */
static int
is_format(const char *format, char code)
{
    if (format == NULL)
        return 0; /* unsigned bytes */
    if (format[0] == '<' || format[0] == '=' || format[0] == '@')
        format++;
    return format[0] == code && format[1] == '\0';
}

static PyObject *
halfgemm_matmul(PyObject *self, PyObject *args)
{
    (void)self;
    PyObject *x_obj, *w_obj, *b_obj, *y_obj;
    Py_ssize_t M, K, N;
    if (!PyArg_ParseTuple(args, "OOOOnnn:matmul", &x_obj, &w_obj, &b_obj, &y_obj, &M, &K, &N))
        return NULL;
    if (!cpu_ok()) {
#ifdef HALFGEMM_X86
        PyErr_SetString(PyExc_RuntimeError, "halfgemm: this CPU lacks AVX2/FMA/F16C");
#else
        PyErr_SetString(PyExc_RuntimeError, "halfgemm: the kernel was not compiled in");
#endif
        return NULL;
    }
    if (M < 0 || K < 1 || N < PANEL || N % PANEL != 0) {
        PyErr_Format(PyExc_ValueError,
                     "halfgemm: bad shape M=%zd K=%zd N=%zd (N must be a positive multiple of %d)",
                     M, K, N, PANEL);
        return NULL;
    }
    /* Every byte count below (M*K*4, K*N*2, N*4, M*N*4) must fit in Py_ssize_t. */
    if (N > PY_SSIZE_T_MAX / 4 || M > PY_SSIZE_T_MAX / K / 4 || N > PY_SSIZE_T_MAX / K / 2 ||
        M > PY_SSIZE_T_MAX / N / 4) {
        PyErr_SetString(PyExc_OverflowError, "halfgemm: shape too large");
        return NULL;
    }
    Py_buffer bufs[4] = {{0}};
    const int has_bias = b_obj != Py_None;
    const int flags = PyBUF_C_CONTIGUOUS | PyBUF_FORMAT;
    if (PyObject_GetBuffer(x_obj, &bufs[0], flags) < 0 ||
        PyObject_GetBuffer(w_obj, &bufs[1], flags) < 0 ||
        (has_bias && PyObject_GetBuffer(b_obj, &bufs[2], flags) < 0) ||
        PyObject_GetBuffer(y_obj, &bufs[3], flags | PyBUF_WRITABLE) < 0) {
        release(bufs, 4);
        return NULL;
    }
    static const char *const names[4] = {"x", "w", "bias", "y"};
    for (int i = 0; i < 4; i++) {
        if (bufs[i].obj == NULL)
            continue;
        const char want = i == 1 ? 'e' : 'f'; /* float16 weights, float32 everything else */
        if (!is_format(bufs[i].format, want)) {
            PyErr_Format(PyExc_TypeError, "halfgemm: %s must be %s, got buffer format '%s'",
                         names[i], i == 1 ? "float16" : "float32",
                         bufs[i].format ? bufs[i].format : "B");
            release(bufs, 4);
            return NULL;
        }
    }
    if (bufs[0].len < M * K * 4 || bufs[1].len < K * N * 2 || (has_bias && bufs[2].len < N * 4) ||
        bufs[3].len < M * N * 4) {
        release(bufs, 4);
        PyErr_Format(PyExc_ValueError,
                     "halfgemm: buffers too small for M=%zd K=%zd N=%zd (x %zd B, w %zd B, "
                     "bias %zd B, y %zd B)",
                     M, K, N, bufs[0].len, bufs[1].len, has_bias ? bufs[2].len : (Py_ssize_t)0,
                     bufs[3].len);
        return NULL;
    }
    /* The output must not overlap an input: it is written while they are still read. */
    for (int i = 0; i < 3; i++) {
        const char *in = (const char *)bufs[i].buf, *out = (const char *)bufs[3].buf;
        if (bufs[i].obj != NULL && bufs[i].len > 0 && bufs[3].len > 0 &&
            in < out + bufs[3].len && out < in + bufs[i].len) {
            release(bufs, 4);
            PyErr_Format(PyExc_ValueError, "halfgemm: y overlaps %s", names[i]);
            return NULL;
        }
    }
#ifdef HALFGEMM_X86
    if (M == 0) { /* nothing to compute (and no bias to read) */
        release(bufs, 4);
        Py_RETURN_NONE;
    }
    const float *x = (const float *)bufs[0].buf;
    const uint16_t *w = (const uint16_t *)bufs[1].buf;
    const float *b = has_bias ? (const float *)bufs[2].buf : NULL;
    float *y = (float *)bufs[3].buf;
    Py_BEGIN_ALLOW_THREADS
    gemm_avx2(x, w, b, y, M, K, N);
    Py_END_ALLOW_THREADS
#endif
    release(bufs, 4);
    Py_RETURN_NONE;
}

static PyMethodDef halfgemm_methods[] = {
    {"available", halfgemm_available, METH_NOARGS,
     "available() -> bool: True if this CPU can run the kernel (x86-64 AVX2 + FMA + F16C)."},
    {"matmul", halfgemm_matmul, METH_VARARGS,
     "matmul(x, w_packed, bias_or_None, y, M, K, N): y[M,N] = x[M,K] @ W + bias.\n\n"
     "x: float32 C-contiguous (M, K); w_packed: float16 panels (N/16, K, 16); bias: float32\n"
     "(N,) or None; y: writable float32 C-contiguous (M, N). N must be a multiple of 16.\n"
     "Sizes, formats (float32 'f', float16 'e') and overlap of y with the inputs are checked."},
    {NULL, NULL, 0, NULL},
};

static int
halfgemm_exec(PyObject *module)
{
#ifdef HALFGEMM_X86
    const long compiled = 1;
#else
    const long compiled = 0;
#endif
    cpu_ok(); /* detect once, while the import lock is held */
    return PyModule_AddIntConstant(module, "KERNEL_COMPILED", compiled);
}

static PyModuleDef_Slot halfgemm_slots[] = {
    {Py_mod_exec, halfgemm_exec},
#if PY_VERSION_HEX >= 0x030D0000
    {Py_mod_gil, Py_MOD_GIL_NOT_USED}, /* no global state besides the CPU flag */
#endif
    {0, NULL},
};

static struct PyModuleDef halfgemm_module = {
    PyModuleDef_HEAD_INIT,
    "_halfgemm",
    "Skinny float32 x float16-weight matrix products for the MiniLM query path.",
    0,
    halfgemm_methods,
    halfgemm_slots,
    NULL,
    NULL,
    NULL,
};

PyMODINIT_FUNC
PyInit__halfgemm(void)
{
    return PyModuleDef_Init(&halfgemm_module);
}
