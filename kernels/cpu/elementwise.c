/*
 * kernels/cpu/elementwise.c - CPU kernels of the elementwise family: binary
 * arithmetic with numpy broadcasting, comparisons, logic, Where, the unary
 * activations and maths functions, Clip, Cast, Identity and Dropout.
 *
 * Every op runs through one broadcast walker (ew_apply): it drops the size-1
 * axes of the output, merges axes along which every input is contiguous or
 * broadcast alike, and calls a typed inner loop on runs of the innermost axis,
 * in which each input advances by 1 or by 0 (broadcast). Same-shape tensors
 * therefore become one flat loop, and (N,C,H,W) op (C,1,1) or (N,L,D) op (D)
 * become rows of a vector-with-scalar or vector-with-vector loop, the cases
 * ResNet/ViT/EfficientNet spend their elementwise time in. Work is split into
 * chunks of at most EW_CHUNK elements and spread over OpenMP threads.
 *
 * The inner loops are generated per dtype by macros from one expression per
 * op: x and y are the loaded operands in the compute type CT (float for f16
 * and bf16, which are converted on load and store), and an expression may set
 * `bad` to report a data error (integer division by zero) to the caller.
 */
#include "cpu/elementwise.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <tgmath.h>

#include "cpu/util.h"
#include "ir.h"

#define EW_CHUNK 16384       /* elements per work unit */
#define EW_PAR_MIN (1 << 15) /* below this many elements, stay on one thread */

/*
 * An inner loop: o[i] = f(in[0][i*inc[0]], in[1][i*inc[1]], ...) for i < n,
 * where each inc[j] is 0 (broadcast) or 1. Returns nonzero on a data error.
 */
typedef int (*ew_fn)(void *o, const void *const *in, const int64_t *inc, int64_t n, const void *ctx);

/* ---- the broadcast walker ---- */

typedef struct ew_plan {
	int rank, k;
	int64_t numel;
	int64_t dims[FT_MAX_RANK];
	int64_t st[3][FT_MAX_RANK]; /* element strides of each input, 0 on broadcast axes */
} ew_plan;

/* out is the (already shaped) output; ins[0..k) broadcast to it */
static void ew_plan_build(ew_plan *p, const ft_tensor *out, int k, const ft_tensor *const *ins)
{
	int64_t st[3][FT_MAX_RANK];
	int r = 0;

	FT_ASSERT(k >= 1 && k <= 3);
	for (int j = 0; j < k; j++)
		ft_broadcast_strides(ins[j], out->rank, out->dims, st[j]);
	p->k = k;
	p->numel = out->numel;
	for (int d = 0; d < out->rank; d++) {
		if (out->dims[d] == 1)
			continue;
		bool merge = r > 0;
		for (int j = 0; j < k && merge; j++)
			merge = p->st[j][r - 1] == st[j][d] * out->dims[d];
		if (merge) {
			p->dims[r - 1] *= out->dims[d];
			for (int j = 0; j < k; j++)
				p->st[j][r - 1] = st[j][d];
		} else {
			p->dims[r] = out->dims[d];
			for (int j = 0; j < k; j++)
				p->st[j][r] = st[j][d];
			r++;
		}
	}
	if (r == 0) { /* a single element */
		p->dims[0] = 1;
		for (int j = 0; j < k; j++)
			p->st[j][0] = 0;
		r = 1;
	}
	p->rank = r;
	/* the innermost axis has size > 1, so every input steps by 1 or 0 there */
	for (int j = 0; j < k; j++)
		FT_ASSERT(p->st[j][r - 1] == 0 || p->st[j][r - 1] == 1);
}

/* Runs fn over the broadcast of ins[0..k) into out; nonzero if fn reported a data error. */
static int ew_apply(ft_tensor *out, int k, const ft_tensor *const *ins, ew_fn fn, const void *ctx)
{
	ew_plan p;
	size_t osz = ft_dtype_size(out->dtype), isz[3] = { 0 };
	const void *base[3] = { NULL };
	int bad = 0;

	if (out->numel == 0)
		return 0;
	ew_plan_build(&p, out, k, ins);
	for (int j = 0; j < k; j++) {
		isz[j] = ft_dtype_size(ins[j]->dtype);
		base[j] = ins[j]->data;
	}
	int r = p.rank;
	int64_t inner = p.dims[r - 1];
	int64_t nchunk = (inner + EW_CHUNK - 1) / EW_CHUNK;
	int64_t units = (p.numel / inner) * nchunk;
	int64_t inc[3] = { 0 };
	for (int j = 0; j < k; j++)
		inc[j] = p.st[j][r - 1];

#pragma omp parallel for schedule(static) reduction(| : bad) if (p.numel >= EW_PAR_MIN && units > 1)
	for (int64_t u = 0; u < units; u++) {
		int64_t row = u / nchunk, i0 = (u % nchunk) * EW_CHUNK;
		int64_t len = inner - i0 < EW_CHUNK ? inner - i0 : EW_CHUNK;
		int64_t off[3] = { 0 }, rem = row;
		const void *ptr[3] = { NULL };
		for (int d = r - 2; d >= 0; d--) {
			int64_t idx = rem % p.dims[d];
			rem /= p.dims[d];
			for (int j = 0; j < k; j++)
				off[j] += idx * p.st[j][d];
		}
		for (int j = 0; j < k; j++)
			ptr[j] = (const char *)base[j] + (size_t)(off[j] + i0 * inc[j]) * isz[j];
		bad |= fn((char *)out->data + (size_t)(row * inner + i0) * osz, ptr, inc, len, ctx);
	}
	return bad;
}

/* ---- per-dtype inner loops, generated ---- */

/*
 * Type lists: X(TT, T, CT, UT, LD, ST, ...). T is the storage type, CT the
 * compute type (integers narrower than 32 bits widen, so that arithmetic
 * cannot overflow int), UT the unsigned type wrapping arithmetic goes through
 * (signed overflow wraps, as numpy does, instead of being undefined), LD/ST
 * convert between T and CT.
 */
#define EW_FLOAT_TYPES(X, ...)                                                        \
	X(F32, float, float, float, , (float), __VA_ARGS__)                           \
	X(F64, double, double, double, , (double), __VA_ARGS__)                       \
	X(F16, uint16_t, float, float, ft_f16_to_f32, ft_f32_to_f16, __VA_ARGS__)     \
	X(BF16, uint16_t, float, float, ft_bf16_to_f32, ft_f32_to_bf16, __VA_ARGS__)
#define EW_SINT_TYPES(X, ...)                                                         \
	X(I8, int8_t, int32_t, uint32_t, , (int8_t), __VA_ARGS__)                     \
	X(I16, int16_t, int32_t, uint32_t, , (int16_t), __VA_ARGS__)                  \
	X(I32, int32_t, int32_t, uint32_t, , (int32_t), __VA_ARGS__)                  \
	X(I64, int64_t, int64_t, uint64_t, , (int64_t), __VA_ARGS__)
#define EW_UINT_TYPES(X, ...)                                                         \
	X(U8, uint8_t, uint32_t, uint32_t, , (uint8_t), __VA_ARGS__)                  \
	X(U16, uint16_t, uint32_t, uint32_t, , (uint16_t), __VA_ARGS__)               \
	X(U32, uint32_t, uint32_t, uint32_t, , (uint32_t), __VA_ARGS__)               \
	X(U64, uint64_t, uint64_t, uint64_t, , (uint64_t), __VA_ARGS__)
#define EW_BOOL_TYPE(X, ...) X(BOOL, uint8_t, uint32_t, uint32_t, , (uint8_t), __VA_ARGS__)

/* table entry [FT_TT] = ew_<op>_<TT> */
#define EW_TAB(TT, T, CT, UT, LD, ST, op, ...) [FT_##TT] = ew_##op##_##TT,

/* binary loop over OT out, T in; the four stride cases keep the loops simple enough to vectorise */
#define EW_BIN(name, OT, T, CT_, UT_, LD, ST, EXPR)                                                  \
	static int name(void *o_, const void *const *in, const int64_t *inc, int64_t n, const void *ctx) \
	{                                                                                            \
		typedef CT_ CT; /* named for EXPR */                                                 \
		typedef UT_ UT;                                                                      \
		(void)sizeof(UT);                                                                    \
		OT *o = o_;                                                                          \
		const T *a = in[0], *b = in[1];                                                      \
		int bad = 0;                                                                         \
		(void)ctx;                                                                           \
		if (inc[0] && inc[1]) {                                                              \
			for (int64_t i = 0; i < n; i++) {                                            \
				CT x = LD(a[i]), y = LD(b[i]);                                       \
				o[i] = ST(EXPR);                                                     \
			}                                                                            \
		} else if (inc[0]) {                                                                 \
			CT y = LD(b[0]);                                                             \
			for (int64_t i = 0; i < n; i++) {                                            \
				CT x = LD(a[i]);                                                     \
				o[i] = ST(EXPR);                                                     \
			}                                                                            \
		} else if (inc[1]) {                                                                 \
			CT x = LD(a[0]);                                                             \
			for (int64_t i = 0; i < n; i++) {                                            \
				CT y = LD(b[i]);                                                     \
				o[i] = ST(EXPR);                                                     \
			}                                                                            \
		} else {                                                                             \
			CT x = LD(a[0]), y = LD(b[0]);                                               \
			OT v = ST(EXPR);                                                             \
			for (int64_t i = 0; i < n; i++)                                              \
				o[i] = v;                                                            \
		}                                                                                    \
		return bad;                                                                          \
	}

#define EW_GEN_BIN(TT, T, CT, UT, LD, ST, op, EXPR) EW_BIN(ew_##op##_##TT, T, T, CT, UT, LD, ST, EXPR)
#define EW_GEN_CMP(TT, T, CT, UT, LD, ST, op, EXPR) EW_BIN(ew_##op##_##TT, uint8_t, T, CT, UT, LD, (uint8_t), EXPR)

/* arithmetic on every numeric dtype: one expression per class */
#define EW_ARITH(op, FEXPR, SEXPR, UEXPR)                                         \
	EW_FLOAT_TYPES(EW_GEN_BIN, op, FEXPR)                                     \
	EW_SINT_TYPES(EW_GEN_BIN, op, SEXPR)                                      \
	EW_UINT_TYPES(EW_GEN_BIN, op, UEXPR)                                      \
	static const ew_fn ew_##op##_fns[FT_DTYPE_COUNT] = {                      \
		EW_FLOAT_TYPES(EW_TAB, op, 0) EW_SINT_TYPES(EW_TAB, op, 0)        \
		EW_UINT_TYPES(EW_TAB, op, 0)                                      \
	};

/* comparisons: every numeric dtype and bool, output bool */
#define EW_COMPARE(op, EXPR)                                                      \
	EW_FLOAT_TYPES(EW_GEN_CMP, op, EXPR)                                      \
	EW_SINT_TYPES(EW_GEN_CMP, op, EXPR)                                       \
	EW_UINT_TYPES(EW_GEN_CMP, op, EXPR)                                       \
	EW_BOOL_TYPE(EW_GEN_CMP, op, EXPR)                                        \
	static const ew_fn ew_##op##_fns[FT_DTYPE_COUNT] = {                      \
		EW_FLOAT_TYPES(EW_TAB, op, 0) EW_SINT_TYPES(EW_TAB, op, 0)        \
		EW_UINT_TYPES(EW_TAB, op, 0) EW_BOOL_TYPE(EW_TAB, op, 0)          \
	};

/* integer remainder without traps: sign of the divisor (fmod=0) or of the dividend (fmod=1) */
static inline int64_t ew_imod(int64_t x, int64_t y, bool sign_of_divisor, int *bad)
{
	if (y == 0) {
		*bad = 1;
		return 0;
	}
	if (y == -1) /* INT64_MIN % -1 traps on x86 */
		return 0;
	int64_t r = x % y;
	if (sign_of_divisor && r != 0 && ((r < 0) != (y < 0)))
		r += y;
	return r;
}

static inline float ew_pymodf(float x, float y)
{
	float r = fmodf(x, y);
	if (r != 0 && ((r < 0) != (y < 0)))
		r += y;
	return r;
}

static inline double ew_pymodd(double x, double y)
{
	double r = fmod(x, y);
	if (r != 0 && ((r < 0) != (y < 0)))
		r += y;
	return r;
}

#define EW_PYMOD(x, y) _Generic((x), float: ew_pymodf, default: ew_pymodd)(x, y)

/* wrapping arithmetic for signed types goes through UT */
EW_ARITH(add, x + y, (CT)((UT)x + (UT)y), x + y)
EW_ARITH(sub, x - y, (CT)((UT)x - (UT)y), x - y)
EW_ARITH(mul, x * y, (CT)((UT)x * (UT)y), x * y)
/* integer division truncates (C and the ONNX reference agree); /0 is a data error,
 * MIN / -1 wraps to MIN instead of trapping */
EW_ARITH(div, x / y,
	 (y == 0 ? (bad = 1, (CT)0) : y == -1 ? (CT)(0 - (UT)x) : (CT)(x / y)),
	 (y == 0 ? (bad = 1, (CT)0) : x / y))
EW_ARITH(mod, EW_PYMOD(x, y), (CT)ew_imod(x, y, true, &bad), (y == 0 ? (bad = 1, (CT)0) : x % y))
EW_ARITH(fmod, fmod(x, y), (CT)ew_imod(x, y, false, &bad), (y == 0 ? (bad = 1, (CT)0) : x % y))
/* Max/Min propagate NaN, as numpy.maximum does */
EW_ARITH(max, (x > y || x != x) ? x : y, x > y ? x : y, x > y ? x : y)
EW_ARITH(min, (x < y || x != x) ? x : y, x < y ? x : y, x < y ? x : y)

EW_COMPARE(equal, x == y)
EW_COMPARE(less, x < y)
EW_COMPARE(greater, x > y)
EW_COMPARE(less_or_equal, x <= y)
EW_COMPARE(greater_or_equal, x >= y)

EW_BIN(ew_and_BOOL, uint8_t, uint8_t, uint32_t, uint32_t, , (uint8_t), (x != 0) & (y != 0))
EW_BIN(ew_or_BOOL, uint8_t, uint8_t, uint32_t, uint32_t, , (uint8_t), (x != 0) | (y != 0))
EW_BIN(ew_xor_BOOL, uint8_t, uint8_t, uint32_t, uint32_t, , (uint8_t), (x != 0) ^ (y != 0))

/* ---- Pow: the output has the base's dtype, the exponent may be any numeric dtype ---- */

/* integer base: exact wrapping power for integral exponents, else the truncated real power */
static inline int64_t ew_ipow(int64_t x, double e)
{
	if (e != floor(e) || fabs(e) >= 9.0e18) {
		double r = pow((double)x, e);
		if (r != r)
			return 0;
		if (r >= 9.2e18)
			return INT64_MAX;
		if (r <= -9.2e18)
			return INT64_MIN;
		return (int64_t)r;
	}
	int64_t k = (int64_t)e;
	if (k < 0) /* only 1 and -1 have integral reciprocals; 0^-k is undefined, give 0 */
		return x == 1 ? 1 : x == -1 ? ((k & 1) ? -1 : 1) : 0;
	uint64_t r = 1, b = (uint64_t)x;
	while (k) {
		if (k & 1)
			r *= b;
		b *= b;
		k >>= 1;
	}
	return (int64_t)r;
}

#define EW_POW_FN(BTT, BT, BCT, BLD, BST, ETT, ET, ELD, EXPR)                                            \
	static int ew_pow_##BTT##_##ETT(void *o_, const void *const *in, const int64_t *inc, int64_t n, \
					const void *ctx)                                                 \
	{                                                                                                \
		BT *o = o_;                                                                              \
		const BT *a = in[0];                                                                     \
		const ET *b = in[1];                                                                     \
		(void)ctx;                                                                               \
		for (int64_t i = 0; i < n; i++) {                                                        \
			BCT x = BLD(a[i * inc[0]]);                                                      \
			double e = (double)ELD(b[i * inc[1]]);                                           \
			o[i] = BST(EXPR);                                                                \
		}                                                                                        \
		return 0;                                                                                \
	}
/* one exponent dtype for a fixed base: the base arguments ride along in __VA_ARGS__ */
#define EW_POW_E(ETT, ET, ECT, EUT, ELD, EST, BTT, BT, BCT, BLD, BST, EXPR) \
	EW_POW_FN(BTT, BT, BCT, BLD, BST, ETT, ET, ELD, EXPR)
#define EW_POW_EXPS(X, ...) \
	EW_FLOAT_TYPES(X, __VA_ARGS__) EW_SINT_TYPES(X, __VA_ARGS__) EW_UINT_TYPES(X, __VA_ARGS__)
#define EW_POW_B(BTT, BT, BCT, BUT, BLD, BST, EXPR) EW_POW_EXPS(EW_POW_E, BTT, BT, BCT, BLD, BST, EXPR)
#define EW_POW_TAB_E(ETT, ET, ECT, EUT, ELD, EST, BTT) [FT_##ETT] = ew_pow_##BTT##_##ETT,
#define EW_POW_TAB_B(BTT, BT, BCT, BUT, BLD, BST, ...) [FT_##BTT] = { EW_POW_EXPS(EW_POW_TAB_E, BTT) },

/* the base dtypes ONNX allows: float16/bfloat16/float/double, int32, int64 */
/* spelt out: a list macro cannot expand inside its own expansion (the exponent lists use them) */
#define EW_POW_FLOAT_BASES(X, ...)                                                    \
	X(F32, float, float, float, , (float), __VA_ARGS__)                           \
	X(F64, double, double, double, , (double), __VA_ARGS__)                       \
	X(F16, uint16_t, float, float, ft_f16_to_f32, ft_f32_to_f16, __VA_ARGS__)     \
	X(BF16, uint16_t, float, float, ft_bf16_to_f32, ft_f32_to_bf16, __VA_ARGS__)
#define EW_POW_INT_BASES(X, ...)                                     \
	X(I32, int32_t, int64_t, uint64_t, , (int32_t), __VA_ARGS__) \
	X(I64, int64_t, int64_t, uint64_t, , (int64_t), __VA_ARGS__)

EW_POW_FLOAT_BASES(EW_POW_B, pow((double)x, e))
EW_POW_INT_BASES(EW_POW_B, ew_ipow(x, e))

static const ew_fn ew_pow_fns[FT_DTYPE_COUNT][FT_DTYPE_COUNT] = {
	EW_POW_FLOAT_BASES(EW_POW_TAB_B, 0) EW_POW_INT_BASES(EW_POW_TAB_B, 0)
};

/* float ^ float, the case models use (x^2 in decomposed LayerNorm, x^3 in tanh-GELU) */
static int ew_pow_f32(void *o_, const void *const *in, const int64_t *inc, int64_t n, const void *ctx)
{
	float *o = o_;
	const float *a = in[0], *b = in[1];
	(void)ctx;
	if (!inc[1]) {
		float e = b[0];
		if (e == 2.0f) {
			for (int64_t i = 0; i < n; i++)
				o[i] = a[i * inc[0]] * a[i * inc[0]];
			return 0;
		}
		if (e == 3.0f) {
			for (int64_t i = 0; i < n; i++)
				o[i] = a[i * inc[0]] * a[i * inc[0]] * a[i * inc[0]];
			return 0;
		}
		if (e == 1.0f) {
			for (int64_t i = 0; i < n; i++)
				o[i] = a[i * inc[0]];
			return 0;
		}
		if (e == 0.5f) {
			for (int64_t i = 0; i < n; i++)
				o[i] = sqrtf(a[i * inc[0]]);
			return 0;
		}
	}
	for (int64_t i = 0; i < n; i++)
		o[i] = powf(a[i * inc[0]], b[i * inc[1]]);
	return 0;
}

/* ---- unary ---- */

/* o[i] = EXPR(x); ctx points at the op's float parameters p[] */
#define EW_UN(name, OT, T, CT_, UT_, LD, ST, EXPR)                                                   \
	FT_CPU_CLONES static int name(void *o_, const void *const *in, const int64_t *inc, int64_t n, const void *ctx) \
	{                                                                                            \
		typedef CT_ CT; /* named for EXPR */                                                 \
		typedef UT_ UT;                                                                      \
		(void)sizeof(UT);                                                                    \
		OT *o = o_;                                                                          \
		const T *a = in[0];                                                                  \
		const float *p = ctx;                                                                \
		(void)p;                                                                             \
		(void)inc;                                                                           \
		for (int64_t i = 0; i < n; i++) {                                                    \
			CT x = LD(a[i]);                                                             \
			o[i] = ST(EXPR);                                                             \
		}                                                                                    \
		return 0;                                                                            \
	}
#define EW_GEN_UN(TT, T, CT, UT, LD, ST, op, EXPR) EW_UN(ew_##op##_##TT, T, T, CT, UT, LD, ST, EXPR)

/* float-only maths */
#define EW_UNARY_FLOAT(op, EXPR)                                                                     \
	EW_FLOAT_TYPES(EW_GEN_UN, op, EXPR)                                                          \
	static const ew_fn ew_##op##_fns[FT_DTYPE_COUNT] = { EW_FLOAT_TYPES(EW_TAB, op, 0) };

/* every numeric dtype */
#define EW_UNARY_NUM(op, FEXPR, SEXPR, UEXPR)                                                        \
	EW_FLOAT_TYPES(EW_GEN_UN, op, FEXPR)                                                         \
	EW_SINT_TYPES(EW_GEN_UN, op, SEXPR)                                                          \
	EW_UINT_TYPES(EW_GEN_UN, op, UEXPR)                                                          \
	static const ew_fn ew_##op##_fns[FT_DTYPE_COUNT] = {                                         \
		EW_FLOAT_TYPES(EW_TAB, op, 0) EW_SINT_TYPES(EW_TAB, op, 0) EW_UINT_TYPES(EW_TAB, op, 0) \
	};

EW_UNARY_NUM(relu, x < 0 ? (CT)0 : x, x < 0 ? (CT)0 : x, x)
EW_UNARY_NUM(neg, -x, (CT)(0 - (UT)x), (CT)(0 - x))
EW_UNARY_NUM(abs, fabs(x), x < 0 ? (CT)(0 - (UT)x) : x, x)

/*
 * float versions of sigmoid, tanh and erf that the compiler can vectorise:
 * libm's calls cannot be, and made Sigmoid (SiLU in EfficientNet) and Erf
 * (GELU in ViT) several times slower than PyTorch. Errors are a few ulp;
 * double keeps libm. Clamps, selects and NaN tests work on the bits as
 * integers: float comparisons could trap (-ftrapping-math), which stops GCC
 * from turning them into vector selects.
 */

static inline uint32_t ew_bits(float x)
{
	uint32_t u;
	memcpy(&u, &x, 4);
	return u;
}

static inline float ew_float(uint32_t u)
{
	float x;
	memcpy(&x, &u, 4);
	return x;
}

/* x with |x| limited to lim (> 0); NaN becomes +-lim, callers put it back with ew_keep_nan */
static inline float ew_clamp_abs(float x, float lim)
{
	uint32_t u = ew_bits(x), a = u & 0x7fffffffu, l = ew_bits(lim);
	a = a > l ? l : a;
	return ew_float((u & 0x80000000u) | a);
}

/* cond ? a : b, on bits */
static inline float ew_select(bool cond, float a, float b)
{
	uint32_t m = 0u - (uint32_t)cond;
	return ew_float((ew_bits(a) & m) | (ew_bits(b) & ~m));
}

/* y, or x where x is NaN */
static inline float ew_keep_nan(float x, float y)
{
	return ew_select((ew_bits(x) & 0x7fffffffu) > 0x7f800000u, x, y);
}

/* Cephes' expf for |x| <= 87: x = n ln2 + r, e^r by a polynomial, 2^n built
 * in the exponent bits */
static inline float ew_expf_fast(float x)
{
	float n = (x * 1.44269504088896341f + 12582912.0f) - 12582912.0f; /* round(x / ln2) */
	float r = x - n * 0.693359375f - n * -2.12194440e-4f;
	float p = 1.9875691500e-4f;
	p = p * r + 1.3981999507e-3f;
	p = p * r + 8.3334519073e-3f;
	p = p * r + 4.1665795894e-2f;
	p = p * r + 1.6666665459e-1f;
	p = p * r + 5.0000001201e-1f;
	p = p * r * r + r + 1.0f;
	return p * ew_float((uint32_t)((int32_t)n + 127) << 23);
}

/* exactly 0 at -inf, as 1 / (1 + e^inf) is: the clamp alone would give 1.6e-38 there, and
 * ft.Silu's x * Sigmoid(x) would be -inf instead of PyTorch's (and CUDA's) NaN */
static inline float ew_sigmoidf(float x)
{
	float s = 1.0f / (1.0f + ew_expf_fast(-ew_clamp_abs(x, 87.0f)));
	return ew_keep_nan(x, ew_select(ew_bits(x) == 0xff800000u, 0.0f, s));
}

static inline double ew_sigmoidd(double x) { return 1 / (1 + exp(-x)); }

/* Cephes' tanhf: an odd polynomial below 0.625, 1 - 2/(e^2x + 1) above */
static inline float ew_tanhf(float x)
{
	float xc = ew_clamp_abs(x, 43.0f), z = xc * xc;
	float p = -5.70498872745e-3f;
	p = p * z + 2.06390887954e-2f;
	p = p * z - 5.37397155531e-2f;
	p = p * z + 1.33314422036e-1f;
	p = p * z - 3.33332819422e-1f;
	float small = p * z * xc + xc;
	float large = 1.0f - 2.0f / (ew_expf_fast(2.0f * xc) + 1.0f);
	return ew_keep_nan(x, ew_select((ew_bits(xc) & 0x7fffffffu) < ew_bits(0.625f), small, large));
}

/* Eigen's float erf: x P(x^2) / Q(x^2) on [-4, 4], +-1 beyond */
static inline float ew_erff(float x)
{
	float xc = ew_clamp_abs(x, 4.0f), z = xc * xc;
	float p = -2.72614225801306e-10f;
	p = p * z + 2.77068142495902e-08f;
	p = p * z - 2.10102402082508e-06f;
	p = p * z - 5.69250639462346e-05f;
	p = p * z - 7.34990630326855e-04f;
	p = p * z - 2.95459980854025e-03f;
	p = p * z - 1.60960333262415e-02f;
	float q = -1.45660718464996e-05f;
	q = q * z - 2.13374055278905e-04f;
	q = q * z - 1.68282697438203e-03f;
	q = q * z - 7.37332916720468e-03f;
	q = q * z - 1.42647390514189e-02f;
	return ew_keep_nan(x, xc * p / q);
}

#define EW_SIGMOID(x) _Generic((x), float: ew_sigmoidf, default: ew_sigmoidd)(x)
#define EW_TANH(x) _Generic((x), float: ew_tanhf, default: tanh)(x)
#define EW_ERF(x) _Generic((x), float: ew_erff, default: erf)(x)

/* p[0] = alpha, p[1] = beta */
EW_UNARY_FLOAT(leaky_relu, x < 0 ? x * (CT)p[0] : x)
EW_UNARY_FLOAT(sigmoid, EW_SIGMOID(x))
EW_UNARY_FLOAT(tanh, EW_TANH(x))
EW_UNARY_FLOAT(erf, EW_ERF(x))
EW_UNARY_FLOAT(sqrt, sqrt(x))
EW_UNARY_FLOAT(exp, exp(x))
EW_UNARY_FLOAT(log, log(x))
EW_UNARY_FLOAT(reciprocal, (CT)1 / x)
EW_UNARY_FLOAT(floor, floor(x))
EW_UNARY_FLOAT(ceil, ceil(x))
/* the ternaries keep NaN: max(0, min(1, v)) with fmin/fmax would drop it */
#define EW_HSIG(v) ((v) < 0 ? (CT)0 : (v) > 1 ? (CT)1 : (v))
EW_UNARY_FLOAT(hard_sigmoid, EW_HSIG((CT)p[0] * x + (CT)p[1]))
EW_UNARY_FLOAT(hard_swish, x * EW_HSIG(x / 6 + (CT)0.5))
/* ft.Silu, Mul(x, Sigmoid(x)) fused (specialise.c): the same float operations, one rounding */
EW_UNARY_FLOAT(silu, x * EW_SIGMOID(x))
/* ft.Gelu, Mul(Mul(x, Add(Erf(Div(x, sqrt 2)), 1)), 0.5) fused (specialise.c): the five nodes' float
 * operations in their order, one rounding */
EW_UNARY_FLOAT(gelu, x * (EW_ERF(x / (CT)1.41421353816986083984375f) + (CT)1) * (CT)0.5f)

EW_UN(ew_not_BOOL, uint8_t, uint8_t, uint32_t, uint32_t, , (uint8_t), x == 0)

/* ---- Clip: bounds are pointers to one element of the input's dtype, NULL when absent ---- */

typedef struct ew_clip_ctx {
	const void *lo, *hi;
} ew_clip_ctx;

#define EW_GEN_CLIP(TT, T, CT, UT, LD, ST, ...)                                                        \
	static int ew_clip_##TT(void *o_, const void *const *in, const int64_t *inc, int64_t n,      \
				const void *ctx)                                                     \
	{                                                                                            \
		const ew_clip_ctx *c = ctx;                                                          \
		T *o = o_;                                                                           \
		const T *a = in[0];                                                                  \
		CT lo = c->lo ? LD(*(const T *)c->lo) : 0, hi = c->hi ? LD(*(const T *)c->hi) : 0;   \
		(void)inc;                                                                           \
		if (c->lo && c->hi) {                                                                \
			/* min(max(x, lo), hi): with lo > hi everything becomes hi, as numpy.clip */ \
			for (int64_t i = 0; i < n; i++) {                                            \
				CT x = LD(a[i]);                                                     \
				x = x < lo ? lo : x;                                                 \
				o[i] = ST(x > hi ? hi : x);                                          \
			}                                                                            \
		} else if (c->lo) {                                                                  \
			for (int64_t i = 0; i < n; i++) {                                            \
				CT x = LD(a[i]);                                                     \
				o[i] = ST(x < lo ? lo : x);                                          \
			}                                                                            \
		} else if (c->hi) {                                                                  \
			for (int64_t i = 0; i < n; i++) {                                            \
				CT x = LD(a[i]);                                                     \
				o[i] = ST(x > hi ? hi : x);                                          \
			}                                                                            \
		} else {                                                                             \
			memcpy(o, a, sizeof(T) * (size_t)n);                                         \
		}                                                                                    \
		return 0;                                                                            \
	}
#define EW_CLIP_TAB(TT, ...) [FT_##TT] = ew_clip_##TT,

EW_FLOAT_TYPES(EW_GEN_CLIP, 0)
EW_SINT_TYPES(EW_GEN_CLIP, 0)
EW_UINT_TYPES(EW_GEN_CLIP, 0)
static const ew_fn ew_clip_fns[FT_DTYPE_COUNT] = {
	EW_FLOAT_TYPES(EW_CLIP_TAB, 0) EW_SINT_TYPES(EW_CLIP_TAB, 0) EW_UINT_TYPES(EW_CLIP_TAB, 0)
};

/* ---- byte movers: Where and the broadcast copy, by element size ---- */

#define EW_GEN_WHERE(W, T)                                                                             \
	static int ew_where_##W(void *o_, const void *const *in, const int64_t *inc, int64_t n,      \
				const void *ctx)                                                     \
	{                                                                                            \
		T *o = o_;                                                                           \
		const uint8_t *c = in[0];                                                            \
		const T *x = in[1], *y = in[2];                                                      \
		(void)ctx;                                                                           \
		for (int64_t i = 0; i < n; i++)                                                      \
			o[i] = c[i * inc[0]] ? x[i * inc[1]] : y[i * inc[2]];                        \
		return 0;                                                                            \
	}                                                                                            \
	static int ew_copy_##W(void *o_, const void *const *in, const int64_t *inc, int64_t n,       \
			       const void *ctx)                                                      \
	{                                                                                            \
		T *o = o_;                                                                           \
		const T *x = in[0];                                                                  \
		(void)ctx;                                                                           \
		if (inc[0]) {                                                                        \
			memcpy(o, x, sizeof(T) * (size_t)n);                                         \
		} else {                                                                             \
			for (int64_t i = 0; i < n; i++)                                              \
				o[i] = x[0];                                                         \
		}                                                                                    \
		return 0;                                                                            \
	}
EW_GEN_WHERE(1, uint8_t)
EW_GEN_WHERE(2, uint16_t)
EW_GEN_WHERE(4, uint32_t)
EW_GEN_WHERE(8, uint64_t)

static ew_fn ew_where_fn(size_t size)
{
	switch (size) {
	case 1: return ew_where_1;
	case 2: return ew_where_2;
	case 4: return ew_where_4;
	case 8: return ew_where_8;
	default: return NULL;
	}
}

static ew_fn ew_copy_fn(size_t size)
{
	switch (size) {
	case 1: return ew_copy_1;
	case 2: return ew_copy_2;
	case 4: return ew_copy_4;
	case 8: return ew_copy_8;
	default: return NULL;
	}
}

/* ---- op entry points ---- */

static ft_status ew_bad_dtype(const ft_graph *g, ft_node *n, ft_dtype t)
{
	return ft_node_error(g, n, FT_EUNSUPPORTED, "dtype %s not supported by the CPU kernel", ft_dtype_name(t));
}

/* out = f(in0, in1) broadcast; an error from the loop is an integer division by zero */
static ft_status ew_binary(const ft_graph *g, ft_node *n, const ew_fn *fns)
{
	const ft_tensor *ins[2] = { ft_in(g, n, 0), ft_in(g, n, 1) };
	ew_fn fn = fns[ins[0]->dtype];

	if (!fn)
		return ew_bad_dtype(g, n, ins[0]->dtype);
	if (ew_apply(ft_out(g, n, 0), 2, ins, fn, NULL))
		return ft_node_error(g, n, FT_EBADINPUT, "integer division by zero");
	return FT_OK;
}

static ft_status ew_unary(const ft_graph *g, ft_node *n, const ew_fn *fns, const float *params)
{
	const ft_tensor *x = ft_in(g, n, 0);
	ew_fn fn = fns[x->dtype];

	if (!fn)
		return ew_bad_dtype(g, n, x->dtype);
	ew_apply(ft_out(g, n, 0), 1, &x, fn, params);
	return FT_OK;
}

ft_status ft_cpu_add(const ft_graph *g, ft_node *n) { return ew_binary(g, n, ew_add_fns); }
ft_status ft_cpu_sub(const ft_graph *g, ft_node *n) { return ew_binary(g, n, ew_sub_fns); }
ft_status ft_cpu_mul(const ft_graph *g, ft_node *n) { return ew_binary(g, n, ew_mul_fns); }
ft_status ft_cpu_div(const ft_graph *g, ft_node *n) { return ew_binary(g, n, ew_div_fns); }

ft_status ft_cpu_mod(const ft_graph *g, ft_node *n)
{
	return ew_binary(g, n, ft_attr_int(n, "fmod", 0) ? ew_fmod_fns : ew_mod_fns);
}

ft_status ft_cpu_pow(const ft_graph *g, ft_node *n)
{
	const ft_tensor *ins[2] = { ft_in(g, n, 0), ft_in(g, n, 1) };
	ew_fn fn = ew_pow_fns[ins[0]->dtype][ins[1]->dtype];

	if (ins[0]->dtype == FT_F32 && ins[1]->dtype == FT_F32)
		fn = ew_pow_f32;
	if (!fn)
		return ft_node_error(g, n, FT_EUNSUPPORTED, "Pow of %s by %s not supported",
				     ft_dtype_name(ins[0]->dtype), ft_dtype_name(ins[1]->dtype));
	ew_apply(ft_out(g, n, 0), 2, ins, fn, NULL);
	return FT_OK;
}

/* Max/Min of 1..N inputs: broadcast-copy the first into the output, then fold the rest in */
static ft_status ew_variadic(const ft_graph *g, ft_node *n, const ew_fn *fns)
{
	ft_tensor *out = ft_out(g, n, 0);
	const ft_tensor *first = ft_in(g, n, 0);
	ew_fn fn = fns[first->dtype];

	if (!fn)
		return ew_bad_dtype(g, n, first->dtype);
	ew_apply(out, 1, &first, ew_copy_fn(ft_dtype_size(first->dtype)), NULL);
	for (int i = 1; i < n->n_in; i++) {
		const ft_tensor *ins[2] = { out, ft_in(g, n, i) };
		if (!ins[1])
			continue;
		ew_apply(out, 2, ins, fn, NULL);
	}
	return FT_OK;
}

ft_status ft_cpu_max(const ft_graph *g, ft_node *n) { return ew_variadic(g, n, ew_max_fns); }
ft_status ft_cpu_min(const ft_graph *g, ft_node *n) { return ew_variadic(g, n, ew_min_fns); }

ft_status ft_cpu_equal(const ft_graph *g, ft_node *n) { return ew_binary(g, n, ew_equal_fns); }
ft_status ft_cpu_less(const ft_graph *g, ft_node *n) { return ew_binary(g, n, ew_less_fns); }
ft_status ft_cpu_greater(const ft_graph *g, ft_node *n) { return ew_binary(g, n, ew_greater_fns); }
ft_status ft_cpu_less_or_equal(const ft_graph *g, ft_node *n) { return ew_binary(g, n, ew_less_or_equal_fns); }
ft_status ft_cpu_greater_or_equal(const ft_graph *g, ft_node *n)
{
	return ew_binary(g, n, ew_greater_or_equal_fns);
}

static const ew_fn ew_and_fns[FT_DTYPE_COUNT] = { [FT_BOOL] = ew_and_BOOL };
static const ew_fn ew_or_fns[FT_DTYPE_COUNT] = { [FT_BOOL] = ew_or_BOOL };
static const ew_fn ew_xor_fns[FT_DTYPE_COUNT] = { [FT_BOOL] = ew_xor_BOOL };
static const ew_fn ew_not_fns[FT_DTYPE_COUNT] = { [FT_BOOL] = ew_not_BOOL };

ft_status ft_cpu_and(const ft_graph *g, ft_node *n) { return ew_binary(g, n, ew_and_fns); }
ft_status ft_cpu_or(const ft_graph *g, ft_node *n) { return ew_binary(g, n, ew_or_fns); }
ft_status ft_cpu_xor(const ft_graph *g, ft_node *n) { return ew_binary(g, n, ew_xor_fns); }
ft_status ft_cpu_not(const ft_graph *g, ft_node *n) { return ew_unary(g, n, ew_not_fns, NULL); }

ft_status ft_cpu_where(const ft_graph *g, ft_node *n)
{
	const ft_tensor *ins[3] = { ft_in(g, n, 0), ft_in(g, n, 1), ft_in(g, n, 2) };
	ew_fn fn = ew_where_fn(ft_dtype_size(ins[1]->dtype));

	if (!fn)
		return ew_bad_dtype(g, n, ins[1]->dtype);
	ew_apply(ft_out(g, n, 0), 3, ins, fn, NULL);
	return FT_OK;
}

ft_status ft_cpu_relu(const ft_graph *g, ft_node *n) { return ew_unary(g, n, ew_relu_fns, NULL); }
ft_status ft_cpu_neg(const ft_graph *g, ft_node *n) { return ew_unary(g, n, ew_neg_fns, NULL); }
ft_status ft_cpu_abs(const ft_graph *g, ft_node *n) { return ew_unary(g, n, ew_abs_fns, NULL); }

ft_status ft_cpu_leaky_relu(const ft_graph *g, ft_node *n)
{
	float p[1] = { ft_attr_float(n, "alpha", 0.01f) };
	return ew_unary(g, n, ew_leaky_relu_fns, p);
}

ft_status ft_cpu_sigmoid(const ft_graph *g, ft_node *n) { return ew_unary(g, n, ew_sigmoid_fns, NULL); }
ft_status ft_cpu_tanh(const ft_graph *g, ft_node *n) { return ew_unary(g, n, ew_tanh_fns, NULL); }
ft_status ft_cpu_erf(const ft_graph *g, ft_node *n) { return ew_unary(g, n, ew_erf_fns, NULL); }
ft_status ft_cpu_sqrt(const ft_graph *g, ft_node *n) { return ew_unary(g, n, ew_sqrt_fns, NULL); }
ft_status ft_cpu_exp(const ft_graph *g, ft_node *n) { return ew_unary(g, n, ew_exp_fns, NULL); }
ft_status ft_cpu_log(const ft_graph *g, ft_node *n) { return ew_unary(g, n, ew_log_fns, NULL); }
ft_status ft_cpu_reciprocal(const ft_graph *g, ft_node *n) { return ew_unary(g, n, ew_reciprocal_fns, NULL); }
ft_status ft_cpu_floor(const ft_graph *g, ft_node *n) { return ew_unary(g, n, ew_floor_fns, NULL); }
ft_status ft_cpu_ceil(const ft_graph *g, ft_node *n) { return ew_unary(g, n, ew_ceil_fns, NULL); }

ft_status ft_cpu_hard_sigmoid(const ft_graph *g, ft_node *n)
{
	float p[2] = { ft_attr_float(n, "alpha", 0.2f), ft_attr_float(n, "beta", 0.5f) };
	return ew_unary(g, n, ew_hard_sigmoid_fns, p);
}

ft_status ft_cpu_hard_swish(const ft_graph *g, ft_node *n) { return ew_unary(g, n, ew_hard_swish_fns, NULL); }
ft_status ft_cpu_silu(const ft_graph *g, ft_node *n) { return ew_unary(g, n, ew_silu_fns, NULL); }
ft_status ft_cpu_gelu(const ft_graph *g, ft_node *n) { return ew_unary(g, n, ew_gelu_fns, NULL); }

/* a float attribute bound stored in the input's dtype (opset < 11 Clip is float-only) */
typedef union ew_scalar {
	float f;
	double d;
	uint16_t h;
} ew_scalar;

static const void *ew_float_bound(ft_dtype t, float v, ew_scalar *s)
{
	switch (t) {
	case FT_F32: s->f = v; return &s->f;
	case FT_F64: s->d = v; return &s->d;
	case FT_F16: s->h = ft_f32_to_f16(v); return &s->h;
	case FT_BF16: s->h = ft_f32_to_bf16(v); return &s->h;
	default: return NULL;
	}
}

ft_status ft_cpu_clip(const ft_graph *g, ft_node *n)
{
	const ft_tensor *x = ft_in(g, n, 0), *tmin = ft_in(g, n, 1), *tmax = ft_in(g, n, 2);
	const ft_attr *amin = ft_attr_find(n, "min"), *amax = ft_attr_find(n, "max");
	ew_clip_ctx c = { NULL, NULL };
	ew_scalar slo, shi;
	ew_fn fn = ew_clip_fns[x->dtype];

	if (!fn)
		return ew_bad_dtype(g, n, x->dtype);
	/* opset >= 11: optional inputs (empty tensors count as absent); older: attributes */
	if (tmin && tmin->numel > 0)
		c.lo = tmin->data;
	else if (amin)
		c.lo = ew_float_bound(x->dtype, ft_attr_float(n, "min", 0), &slo);
	if (tmax && tmax->numel > 0)
		c.hi = tmax->data;
	else if (amax)
		c.hi = ew_float_bound(x->dtype, ft_attr_float(n, "max", 0), &shi);
	ew_apply(ft_out(g, n, 0), 1, &x, fn, &c);
	return FT_OK;
}

ft_status ft_cpu_identity(const ft_graph *g, ft_node *n)
{
	const ft_tensor *x = ft_in(g, n, 0);
	ft_tensor *y = ft_out(g, n, 0);

	if (y->data != x->data && ft_tensor_bytes(x))
		memcpy(y->data, x->data, ft_tensor_bytes(x));
	return FT_OK;
}

/* ---- Cast ---- */

/* double -> half/bfloat16 rounding once: round to odd into float, whose 13+ spare bits
 * make the final round-to-nearest-even exact */
static inline float ew_f64_to_f32_odd(double d)
{
	float f = (float)d;
	if (isfinite(f) && (double)f != d && d == d) {
		uint32_t b;
		memcpy(&b, &f, 4);
		if (fabs((double)f) > fabs(d))
			b--; /* rounded away from zero: step back towards zero */
		b |= 1;
		memcpy(&f, &b, 4);
	}
	return f;
}

static inline uint16_t ew_f64_to_f16(double d) { return ft_f32_to_f16(ew_f64_to_f32_odd(d)); }
static inline uint16_t ew_f64_to_bf16(double d) { return ft_f32_to_bf16(ew_f64_to_f32_odd(d)); }

/* float -> integer saturates (NaN -> 0): C leaves out-of-range conversions undefined */
#define EW_SAT(T, MINV, MAXV)                              \
	static inline T ew_sat_##T(double d)               \
	{                                                  \
		if (d != d)                                \
			return 0;                          \
		if (d <= (double)(MINV))                   \
			return MINV;                       \
		if (d >= (double)(MAXV))                   \
			return MAXV;                       \
		return (T)d;                               \
	}
EW_SAT(int8_t, INT8_MIN, INT8_MAX)
EW_SAT(int16_t, INT16_MIN, INT16_MAX)
EW_SAT(int32_t, INT32_MIN, INT32_MAX)
EW_SAT(int64_t, INT64_MIN, INT64_MAX)
EW_SAT(uint8_t, 0, UINT8_MAX)
EW_SAT(uint16_t, 0, UINT16_MAX)
EW_SAT(uint32_t, 0, UINT32_MAX)
EW_SAT(uint64_t, 0, UINT64_MAX)

/*
 * Sources load into a wide value w: double for floats (exact), int64_t for
 * signed, narrow unsigned and bool, uint64_t for uint64. Destinations convert
 * from w: floats by C's correctly rounded conversion (half types through the
 * round-to-odd float), integers from integers by wrapping (as numpy's astype),
 * integers from floats by saturating, bool by != 0.
 */
#define EW_CAST_SRCS(X, ...)                                         \
	X(F32, float, double, , __VA_ARGS__)                         \
	X(F64, double, double, , __VA_ARGS__)                        \
	X(F16, uint16_t, double, ft_f16_to_f32, __VA_ARGS__)         \
	X(BF16, uint16_t, double, ft_bf16_to_f32, __VA_ARGS__)       \
	X(I8, int8_t, int64_t, , __VA_ARGS__)                        \
	X(I16, int16_t, int64_t, , __VA_ARGS__)                      \
	X(I32, int32_t, int64_t, , __VA_ARGS__)                      \
	X(I64, int64_t, int64_t, , __VA_ARGS__)                      \
	X(U8, uint8_t, int64_t, , __VA_ARGS__)                       \
	X(U16, uint16_t, int64_t, , __VA_ARGS__)                     \
	X(U32, uint32_t, int64_t, , __VA_ARGS__)                     \
	X(U64, uint64_t, uint64_t, , __VA_ARGS__)                    \
	X(BOOL, uint8_t, int64_t, , __VA_ARGS__)

#define EW_TO_INT(T, w) _Generic((w), double: ew_sat_##T((double)(w)), default: (T)(w))
#define EW_CAST_DSTS(X, ...)                                                  \
	X(F32, float, (float)(w), __VA_ARGS__)                                \
	X(F64, double, (double)(w), __VA_ARGS__)                              \
	X(F16, uint16_t, ew_f64_to_f16((double)(w)), __VA_ARGS__)             \
	X(BF16, uint16_t, ew_f64_to_bf16((double)(w)), __VA_ARGS__)           \
	X(I8, int8_t, EW_TO_INT(int8_t, w), __VA_ARGS__)                      \
	X(I16, int16_t, EW_TO_INT(int16_t, w), __VA_ARGS__)                   \
	X(I32, int32_t, EW_TO_INT(int32_t, w), __VA_ARGS__)                   \
	X(I64, int64_t, EW_TO_INT(int64_t, w), __VA_ARGS__)                   \
	X(U8, uint8_t, EW_TO_INT(uint8_t, w), __VA_ARGS__)                    \
	X(U16, uint16_t, EW_TO_INT(uint16_t, w), __VA_ARGS__)                 \
	X(U32, uint32_t, EW_TO_INT(uint32_t, w), __VA_ARGS__)                 \
	X(U64, uint64_t, EW_TO_INT(uint64_t, w), __VA_ARGS__)                 \
	X(BOOL, uint8_t, (uint8_t)((w) != 0), __VA_ARGS__)

#define EW_CAST_DST_CASE(DTT, DT, CONV, ST, WT, LD)                                       \
	case FT_##DTT: {                                                                  \
		DT *o = dst;                                                              \
		const ST *s = src;                                                        \
		_Pragma("omp parallel for schedule(static) if (n >= EW_PAR_MIN)")         \
		for (int64_t i = 0; i < n; i++) {                                         \
			WT w = (WT)LD(s[i]);                                              \
			o[i] = CONV;                                                      \
		}                                                                         \
		return true;                                                              \
	}
#define EW_CAST_SRC_CASE(STT, ST, WT, LD, ...)                         \
	case FT_##STT:                                                 \
		switch (dt) {                                          \
			EW_CAST_DSTS(EW_CAST_DST_CASE, ST, WT, LD)     \
		default:                                               \
			return false;                                  \
		}

/* dst[0..n) of dtype dt = src[0..n) of dtype sty; false if a dtype is not handled */
static bool ew_cast(void *dst, ft_dtype dt, const void *src, ft_dtype sty, int64_t n)
{
	/* the AMP casts, direct */
	if (sty == FT_F32 && (dt == FT_F16 || dt == FT_BF16)) {
		ft_cpu_narrow(dst, dt, src, n);
		return true;
	}
	if (dt == FT_F32 && (sty == FT_F16 || sty == FT_BF16)) {
		ft_cpu_widen(dst, src, sty, n);
		return true;
	}
	switch (sty) {
		EW_CAST_SRCS(EW_CAST_SRC_CASE, 0)
	default:
		return false;
	}
}

ft_status ft_cpu_cast(const ft_graph *g, ft_node *n)
{
	const ft_tensor *x = ft_in(g, n, 0);
	ft_tensor *y = ft_out(g, n, 0);

	if (x->dtype == y->dtype) {
		if (y->data != x->data && ft_tensor_bytes(x))
			memcpy(y->data, x->data, ft_tensor_bytes(x));
		return FT_OK;
	}
	if (!ew_cast(y->data, y->dtype, x->data, x->dtype, x->numel))
		return ft_node_error(g, n, FT_EUNSUPPORTED, "cast from %s to %s not supported",
				     ft_dtype_name(x->dtype), ft_dtype_name(y->dtype));
	return FT_OK;
}

/* ---- Dropout ---- */

static _Atomic uint64_t ew_dropout_seed;
static _Atomic uint64_t ew_dropout_calls;

void ft_cpu_dropout_seed(uint64_t seed)
{
	atomic_store(&ew_dropout_seed, seed);
	atomic_store(&ew_dropout_calls, 0);
}

/* splitmix64's finaliser: a counter-based generator, so the mask is the same for any thread count */
static inline uint64_t ew_mix(uint64_t z)
{
	z += 0x9e3779b97f4a7c15ull;
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* the scalar value of a float or integer tensor of one element */
static double ew_scalar_value(const ft_tensor *t)
{
	switch (t->dtype) {
	case FT_F16: return ft_f16_to_f32(*(const uint16_t *)t->data);
	case FT_BF16: return ft_bf16_to_f32(*(const uint16_t *)t->data);
	default: return ft_tensor_float(t, 0);
	}
}

#define EW_GEN_DROPOUT(TT, T, CT, UT, LD, ST, ...)                                                      \
	static void ew_dropout_##TT(T *o, uint8_t *mask, const T *x, int64_t n, double ratio,         \
				    uint64_t key)                                                     \
	{                                                                                             \
		/* keep with probability 1 - ratio; u is uniform in [0, 1) with 53 bits */            \
		CT scale = (CT)(1.0 / (1.0 - ratio));                                                 \
		_Pragma("omp parallel for schedule(static) if (n >= EW_PAR_MIN)")                     \
		for (int64_t i = 0; i < n; i++) {                                                     \
			double u = (double)(ew_mix(key ^ ew_mix((uint64_t)i)) >> 11) * 0x1p-53;      \
			bool keep = u >= ratio;                                                       \
			o[i] = keep ? ST(LD(x[i]) * scale) : ST((CT)0);                               \
			if (mask)                                                             \
				mask[i] = keep;                                                       \
		}                                                                                     \
	}
EW_FLOAT_TYPES(EW_GEN_DROPOUT, 0)

/*
 * Inference (no training_mode input, or false): the identity, mask all true.
 * Training: each element is kept with probability 1 - ratio and scaled by
 * 1/(1 - ratio); the random stream is keyed by the node's seed attribute (or
 * the seed set with ft_cpu_dropout_seed) and a per-call counter.
 */
ft_status ft_cpu_dropout(const ft_graph *g, ft_node *n)
{
	const ft_tensor *x = ft_in(g, n, 0), *tratio = ft_in(g, n, 1), *ttrain = ft_in(g, n, 2);
	ft_tensor *y = ft_out(g, n, 0), *mask = ft_out(g, n, 1);
	bool training = ttrain && ttrain->numel > 0 && ft_tensor_int(ttrain, 0) != 0;
	double ratio = 0.5;

	if (tratio && tratio->numel > 0)
		ratio = ew_scalar_value(tratio);
	else if (n->opset < 12)
		ratio = ft_attr_float(n, "ratio", 0.5f);
	if (!training || ratio == 0) {
		if (y->data != x->data && ft_tensor_bytes(x))
			memcpy(y->data, x->data, ft_tensor_bytes(x));
		if (mask && mask->numel)
			memset(mask->data, 1, (size_t)mask->numel);
		return FT_OK;
	}
	if (!(ratio >= 0 && ratio < 1))
		return ft_node_error(g, n, FT_EBADINPUT, "ratio %g is not in [0, 1)", ratio);

	uint64_t seed = ft_attr_find(n, "seed") ? (uint64_t)ft_attr_int(n, "seed", 0) : atomic_load(&ew_dropout_seed);
	uint64_t key = ew_mix(ew_mix(seed) ^ atomic_fetch_add(&ew_dropout_calls, 1));
	uint8_t *m = mask ? mask->data : NULL;
	switch (x->dtype) {
	case FT_F32: ew_dropout_F32(y->data, m, x->data, x->numel, ratio, key); break;
	case FT_F64: ew_dropout_F64(y->data, m, x->data, x->numel, ratio, key); break;
	case FT_F16: ew_dropout_F16(y->data, m, x->data, x->numel, ratio, key); break;
	case FT_BF16: ew_dropout_BF16(y->data, m, x->data, x->numel, ratio, key); break;
	default: return ew_bad_dtype(g, n, x->dtype);
	}
	return FT_OK;
}

/* ---- gradients of the activations ---- */

/*
 * dx = f(dy, s) for the internal *_GRAD ops, float32 only: s is what the
 * forward saved (its input x, its output y, or Dropout's mask), of dy's
 * shape (checked by ft_infer_unary_grad), so every loop is one flat pass.
 * The formulas are PyTorch's backward functions, including their choice at
 * the kinks (Relu's gradient at 0 is 0, Clip's at a bound is dy).
 */
typedef struct ew_grad_args {
	float *dx;
	const float *dy, *s;
	int64_t n;
} ew_grad_args;

static ft_status ew_grad_args_get(const ft_graph *g, ft_node *n, ew_grad_args *a)
{
	const ft_tensor *dy = ft_in(g, n, 0), *s = ft_in(g, n, 1);

	if (dy->dtype != FT_F32)
		return ew_bad_dtype(g, n, dy->dtype);
	if (s->dtype != FT_F32 && !(n->op == FT_OP_DROPOUT_GRAD && s->dtype == FT_BOOL))
		return ew_bad_dtype(g, n, s->dtype);
	a->dx = ft_out(g, n, 0)->data;
	a->dy = dy->data;
	a->s = s->data;
	a->n = dy->numel;
	return FT_OK;
}

/* dx[i] = EXPR of d = dy[i] and v = s[i] (float) for i < n, with the node's float parameters p0, p1 */
#define EW_GRAD_KERNEL(name, EXPR)                                                          \
	FT_CPU_CLONES static void ew_##name##_loop(float *restrict dx, const float *restrict dy, \
						   const float *restrict s, int64_t n, float p0,  \
						   float p1)                                      \
	{                                                                                   \
		(void)p0;                                                                   \
		(void)p1;                                                                   \
		for (int64_t i = 0; i < n; i++) {                                           \
			float d = dy[i], v = s[i];                                          \
			dx[i] = EXPR;                                                       \
		}                                                                           \
	}

/* dy * (y > 0), y = Relu(x) */
EW_GRAD_KERNEL(relu_grad, ew_select(v > 0, d, 0.0f))
/* dy * (x > 0 ? 1 : alpha) */
EW_GRAD_KERNEL(leaky_relu_grad, ew_select(v > 0, d, d * p0))
/* dy * y * (1 - y), y = Sigmoid(x) */
EW_GRAD_KERNEL(sigmoid_grad, d * v * (1.0f - v))
/* dy * (1 - y^2), y = Tanh(x) */
EW_GRAD_KERNEL(tanh_grad, d * (1.0f - v * v))
/* dy * 2/sqrt(pi) * exp(-x^2); exp's argument limited to -87 (it is 0 in float by then), NaN kept */
EW_GRAD_KERNEL(erf_grad, d * 1.12837916709551257f * ew_keep_nan(v, ew_expf_fast(-ew_clamp_abs(v * v, 87.0f))))
/* dy * alpha where 0 < alpha x + beta < 1 */
EW_GRAD_KERNEL(hard_sigmoid_grad, ew_select((p0 * v + p1 > 0) & (p0 * v + p1 < 1), d * p0, 0.0f))
/* PyTorch's hardswish_backward: 0 below -3, dy (x/3 + 1/2) on [-3, 3], dy above */
EW_GRAD_KERNEL(hard_swish_grad, ew_select(v < -3.0f, 0.0f, ew_select(v <= 3.0f, d * (v / 3.0f + 0.5f), d)))
/* PyTorch's silu_backward: dy s (1 + x (1 - s)), s = Sigmoid(x) */
#define EW_SILU_GRAD(d, v, s) ((d) * (s) * (1.0f + (v) * (1.0f - (s))))
EW_GRAD_KERNEL(silu_grad, EW_SILU_GRAD(d, v, ew_sigmoidf(v)))

/* e^(-x^2 / 2) / sqrt(2 pi): exactly 0 once e^-87 underflows (an infinite x gives x * 0 = NaN, as
 * PyTorch's), NaN kept */
static inline float ew_gauss_pdf(float v)
{
	float h = 0.5f * v * v, e = ew_expf_fast(-ew_clamp_abs(h, 87.0f));
	return ew_keep_nan(v, ew_select(ew_bits(h) > ew_bits(87.0f), 0.0f, e) * 0.398942280401432678f);
}

/* PyTorch's gelu_backward (approximate none): dy (Phi(x) + x phi(x)), Phi(x) = (1 + erf(x / sqrt 2)) / 2 */
EW_GRAD_KERNEL(gelu_grad, d * (0.5f * (1.0f + ew_erff(v * 0.707106781186547524f)) + v * ew_gauss_pdf(v)))
/* dy where lo <= x <= hi */
EW_GRAD_KERNEL(clip_grad, ew_select((v >= p0) & (v <= p1), d, 0.0f))

typedef void (*ew_grad_loop)(float *restrict dx, const float *restrict dy, const float *restrict s, int64_t n,
			     float p0, float p1);

static ft_status ew_grad(const ft_graph *g, ft_node *n, ew_grad_loop loop, float p0, float p1)
{
	ew_grad_args a = { 0 };

	FT_TRY(ew_grad_args_get(g, n, &a));
	int64_t units = (a.n + EW_CHUNK - 1) / EW_CHUNK;
#pragma omp parallel for schedule(static) if (a.n >= EW_PAR_MIN && units > 1)
	for (int64_t u = 0; u < units; u++) {
		int64_t i0 = u * EW_CHUNK, len = a.n - i0 < EW_CHUNK ? a.n - i0 : EW_CHUNK;
		loop(a.dx + i0, a.dy + i0, a.s + i0, len, p0, p1);
	}
	return FT_OK;
}

ft_status ft_cpu_relu_grad(const ft_graph *g, ft_node *n) { return ew_grad(g, n, ew_relu_grad_loop, 0, 0); }
ft_status ft_cpu_sigmoid_grad(const ft_graph *g, ft_node *n) { return ew_grad(g, n, ew_sigmoid_grad_loop, 0, 0); }
ft_status ft_cpu_tanh_grad(const ft_graph *g, ft_node *n) { return ew_grad(g, n, ew_tanh_grad_loop, 0, 0); }
ft_status ft_cpu_erf_grad(const ft_graph *g, ft_node *n) { return ew_grad(g, n, ew_erf_grad_loop, 0, 0); }

ft_status ft_cpu_hard_swish_grad(const ft_graph *g, ft_node *n)
{
	return ew_grad(g, n, ew_hard_swish_grad_loop, 0, 0);
}

ft_status ft_cpu_silu_grad(const ft_graph *g, ft_node *n) { return ew_grad(g, n, ew_silu_grad_loop, 0, 0); }
ft_status ft_cpu_gelu_grad(const ft_graph *g, ft_node *n) { return ew_grad(g, n, ew_gelu_grad_loop, 0, 0); }

ft_status ft_cpu_leaky_relu_grad(const ft_graph *g, ft_node *n)
{
	return ew_grad(g, n, ew_leaky_relu_grad_loop, ft_attr_float(n, "alpha", 0.01f), 0);
}

ft_status ft_cpu_hard_sigmoid_grad(const ft_graph *g, ft_node *n)
{
	return ew_grad(g, n, ew_hard_sigmoid_grad_loop, ft_attr_float(n, "alpha", 0.2f),
		       ft_attr_float(n, "beta", 0.5f));
}

/* a bound of CLIP_GRAD: input i if present and not empty, else attribute name (opset < 11), else def */
static float ew_clip_bound(const ft_graph *g, const ft_node *n, int i, const char *name, float def)
{
	const ft_tensor *t = ft_in(g, n, i);

	if (t && t->numel > 0)
		return (float)ft_tensor_float(t, 0);
	return ft_attr_float(n, name, def);
}

/* CLIP_GRAD(dy, x[, min, max]) */
ft_status ft_cpu_clip_grad(const ft_graph *g, ft_node *n)
{
	return ew_grad(g, n, ew_clip_grad_loop, ew_clip_bound(g, n, 2, "min", -INFINITY),
		       ew_clip_bound(g, n, 3, "max", INFINITY));
}

/* dx = dy * mask * scale for i < n (NaN in dy stays NaN where dropped, as in PyTorch) */
FT_CPU_CLONES static void ew_dropout_grad_loop(float *restrict dx, const float *restrict dy,
					       const uint8_t *restrict mask, int64_t n, float scale)
{
	for (int64_t i = 0; i < n; i++)
		dx[i] = dy[i] * ((float)mask[i] * scale); /* a bool mask holds 0 or 1 */
}

/* DROPOUT_GRAD(dy, mask): dy * mask / (1 - ratio), the scale computed as the forward does */
ft_status ft_cpu_dropout_grad(const ft_graph *g, ft_node *n)
{
	ew_grad_args a = { 0 };
	double ratio = ft_attr_float(n, "ratio", 0.5f);

	FT_TRY(ew_grad_args_get(g, n, &a));
	if (!(ratio >= 0 && ratio < 1))
		return ft_node_error(g, n, FT_EBADINPUT, "ratio %g is not in [0, 1)", ratio);
	float scale = (float)(1.0 / (1.0 - ratio));
	int64_t units = (a.n + EW_CHUNK - 1) / EW_CHUNK;
#pragma omp parallel for schedule(static) if (a.n >= EW_PAR_MIN && units > 1)
	for (int64_t u = 0; u < units; u++) {
		int64_t i0 = u * EW_CHUNK, len = a.n - i0 < EW_CHUNK ? a.n - i0 : EW_CHUNK;
		ew_dropout_grad_loop(a.dx + i0, a.dy + i0, (const uint8_t *)a.s + i0, len, scale);
	}
	return FT_OK;
}
