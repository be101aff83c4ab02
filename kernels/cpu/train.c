/*
 * kernels/cpu/train.c - the training core on the CPU: the softmax
 * cross-entropy loss and its gradient, the broadcast-reducing sum, gradient
 * accumulation and the optimizer steps (PyTorch's SGD and AdamW, exactly).
 */
#include <math.h>

#include "util.h"

/*
 * logits is (N,C), labels (N) int; loss is the mean over the batch of
 * -sum_c target_c * log softmax(logits)_c with target = (1-ls)*onehot + ls/C;
 * probs (N,C) keeps softmax(logits) for the backward pass.
 */
ft_status ft_cpu_softmax_cross_entropy(const ft_graph *g, ft_node *n)
{
	const ft_tensor *x = ft_in(g, n, 0), *lab = ft_in(g, n, 1);
	float *loss = ft_out(g, n, 0)->data, *probs = ft_out(g, n, 1)->data;
	const float *logits = x->data;
	int64_t N = x->dims[0], C = x->dims[1];
	double ls = ft_attr_float(n, "label_smoothing", 0.0f);
	for (int64_t i = 0; i < N; i++) {
		int64_t y = ft_tensor_int(lab, i);
		if (y < 0 || y >= C)
			return ft_node_error(g, n, FT_EBADINPUT, "label %lld at batch index %lld is out of range for %lld classes",
					     (long long)y, (long long)i, (long long)C);
	}
	double total = 0;
	for (int64_t i = 0; i < N; i++) {
		const float *row = logits + i * C;
		float *p = probs + i * C;
		float mx = row[0];
		for (int64_t c = 1; c < C; c++)
			mx = row[c] > mx ? row[c] : mx;
		double sum = 0;
		for (int64_t c = 0; c < C; c++)
			sum += exp((double)row[c] - mx);
		double lse = log(sum) + mx;
		double row_loss = 0;
		int64_t y = ft_tensor_int(lab, i);
		for (int64_t c = 0; c < C; c++) {
			double logp = (double)row[c] - lse;
			p[c] = (float)exp(logp);
			double target = (c == y ? 1.0 - ls : 0.0) + ls / (double)C;
			row_loss -= target * logp;
		}
		total += row_loss;
	}
	*loss = (float)(total / (double)N);
	return FT_OK;
}

/* dlogits (N,C) = dloss / N * (probs - target) */
ft_status ft_cpu_softmax_cross_entropy_grad(const ft_graph *g, ft_node *n)
{
	const float dloss = *(const float *)ft_in(g, n, 0)->data;
	const ft_tensor *pt = ft_in(g, n, 1), *lab = ft_in(g, n, 2);
	const float *probs = pt->data;
	float *dx = ft_out(g, n, 0)->data;
	int64_t N = pt->dims[0], C = pt->dims[1];
	float ls = ft_attr_float(n, "label_smoothing", 0.0f);
	float scale = dloss / (float)N;
	for (int64_t i = 0; i < N; i++) {
		int64_t y = ft_tensor_int(lab, i);
		for (int64_t c = 0; c < C; c++) {
			float target = (c == y ? 1.0f - ls : 0.0f) + ls / (float)C;
			dx[i * C + c] = scale * (probs[i * C + c] - target);
		}
	}
	return FT_OK;
}

/* y = x summed over the axes that numpy broadcasting expanded from y's shape: x walked in order, each
   element added into its y position (T: float, or double for float64 graphs) */
#define REDUCE_SUM_TO(T)                                                 \
	do {                                                             \
		T *out = y->data;                                        \
		const T *in = x->data;                                   \
		for (int64_t i = 0; i < y->numel; i++)                   \
			out[i] = 0;                                      \
		int64_t idx[FT_MAX_RANK] = { 0 };                        \
		int64_t yo = 0;                                          \
		for (int64_t i = 0; i < x->numel; i++) {                 \
			out[yo] += in[i];                                \
			for (int d = x->rank - 1; d >= 0; d--) {         \
				idx[d]++;                                \
				yo += ystr[d];                           \
				if (idx[d] < x->dims[d])                 \
					break;                           \
				yo -= ystr[d] * idx[d];                  \
				idx[d] = 0;                              \
			}                                                \
		}                                                        \
	} while (0)

ft_status ft_cpu_reduce_sum_to(const ft_graph *g, ft_node *n)
{
	const ft_tensor *x = ft_in(g, n, 0);
	ft_tensor *y = ft_out(g, n, 0);
	int64_t ystr[FT_MAX_RANK];
	ft_broadcast_strides(y, x->rank, x->dims, ystr);
	if (x->dtype == FT_F64)
		REDUCE_SUM_TO(double);
	else if (x->dtype == FT_F32)
		REDUCE_SUM_TO(float);
	else
		return ft_node_error(g, n, FT_EUNSUPPORTED, "dtype %s not supported", ft_dtype_name(x->dtype));
	return FT_OK;
}
#undef REDUCE_SUM_TO

/* acc = g when *first != 0, else acc += g (gradient accumulation, DESIGN.md) */
ft_status ft_cpu_grad_accum(const ft_graph *g, ft_node *n)
{
	const ft_tensor *acc_t = ft_in(g, n, 0);
	float *acc = acc_t->data;
	const float *gr = ft_in(g, n, 1)->data;
	bool first = *(const float *)ft_in(g, n, 2)->data != 0;
	int64_t cnt = acc_t->numel;
	if (first) {
		memcpy(acc, gr, sizeof(float) * (size_t)cnt);
		return FT_OK;
	}
#pragma omp parallel for if (cnt > 65536)
	for (int64_t i = 0; i < cnt; i++)
		acc[i] += gr[i];
	return FT_OK;
}

static float grad_scale(const ft_graph *g, const ft_node *n, int i)
{
	const ft_tensor *s = ft_in(g, n, i);
	return s ? *(const float *)s->data : 1.0f;
}

/* the optional found_inf input i of an optimizer step: nonzero skips the step (AMP) */
static bool skipped(const ft_graph *g, const ft_node *n, int i)
{
	const ft_tensor *f = ft_in(g, n, i);
	return f && *(const float *)f->data != 0.0f;
}

/*
 * PyTorch's SGD: d = g*s + wd*p; buf = momentum*buf + (1-dampening)*d;
 * d = nesterov ? d + momentum*buf : buf; p -= lr*d. Inputs: param, grad,
 * momentum buffer (may be absent without momentum), lr, optional grad scale s,
 * optional found_inf (the step is skipped, nothing changes).
 */
/* one tensor's SGD step (p, grad, momentum buffer or NULL) with the node's attributes */
static void sgd(const ft_node *n, const ft_tensor *pt, const ft_tensor *gt, const ft_tensor *bt, float lr, float s)
{
	float *p = pt->data, *buf = bt ? bt->data : NULL;
	const float *gr = gt->data;
	float mom = ft_attr_float(n, "momentum", 0.0f), wd = ft_attr_float(n, "weight_decay", 0.0f);
	float damp = ft_attr_float(n, "dampening", 0.0f);
	bool nesterov = ft_attr_int(n, "nesterov", 0) != 0;
	int64_t cnt = pt->numel;
#pragma omp parallel for if (cnt > 65536)
	for (int64_t i = 0; i < cnt; i++) {
		float d = gr[i] * s + wd * p[i];
		if (buf && mom != 0.0f) {
			buf[i] = mom * buf[i] + (1.0f - damp) * d;
			d = nesterov ? d + mom * buf[i] : buf[i];
		}
		p[i] -= lr * d;
	}
}

ft_status ft_cpu_sgd_step(const ft_graph *g, ft_node *n)
{
	if (skipped(g, n, 5))
		return FT_OK;
	sgd(n, ft_in(g, n, 0), ft_in(g, n, 1), ft_in(g, n, 2), *(const float *)ft_in(g, n, 3)->data,
	    grad_scale(g, n, 4));
	return FT_OK;
}

/* SGD_STEP_MULTI (lr, scale, found_inf, then param, grad, momentum per tensor): each as SGD_STEP */
ft_status ft_cpu_sgd_step_multi(const ft_graph *g, ft_node *n)
{
	if (skipped(g, n, 2))
		return FT_OK;
	float lr = *(const float *)ft_in(g, n, 0)->data, s = grad_scale(g, n, 1);
	for (int i = 3; i + 2 < n->n_in; i += 3)
		sgd(n, ft_in(g, n, i), ft_in(g, n, i + 1), ft_in(g, n, i + 2), lr, s);
	return FT_OK;
}

/*
 * PyTorch's AdamW: p *= 1 - lr*wd; m = b1*m + (1-b1)*g; v = b2*v + (1-b2)*g^2;
 * p -= lr/(1-b1^t) * m / (sqrt(v/(1-b2^t)) + eps). Inputs: param, grad, m, v,
 * lr, step t (1-based, float32 scalar), optional grad scale, optional found_inf.
 */
/* one tensor's AdamW step (p, grad, exp_avg, exp_avg_sq) with the node's attributes */
static void adamw(const ft_node *n, const ft_tensor *pt, const ft_tensor *gt, const ft_tensor *mt,
		  const ft_tensor *vt, float lr, float t, float s)
{
	float *p = pt->data, *m = mt->data, *v = vt->data;
	const float *gr = gt->data;
	float b1 = ft_attr_float(n, "beta1", 0.9f), b2 = ft_attr_float(n, "beta2", 0.999f);
	float eps = ft_attr_float(n, "epsilon", 1e-8f), wd = ft_attr_float(n, "weight_decay", 0.0f);
	float bc1 = 1.0f - powf(b1, t), bc2 = 1.0f - powf(b2, t);
	float step = lr / bc1, bc2_sqrt = sqrtf(bc2);
	int64_t cnt = pt->numel;
#pragma omp parallel for if (cnt > 65536)
	for (int64_t i = 0; i < cnt; i++) {
		float gi = gr[i] * s;
		p[i] *= 1.0f - lr * wd;
		m[i] = b1 * m[i] + (1.0f - b1) * gi;
		v[i] = b2 * v[i] + (1.0f - b2) * gi * gi;
		p[i] -= step * m[i] / (sqrtf(v[i]) / bc2_sqrt + eps);
	}
}

ft_status ft_cpu_adamw_step(const ft_graph *g, ft_node *n)
{
	if (skipped(g, n, 7))
		return FT_OK;
	adamw(n, ft_in(g, n, 0), ft_in(g, n, 1), ft_in(g, n, 2), ft_in(g, n, 3), *(const float *)ft_in(g, n, 4)->data,
	      *(const float *)ft_in(g, n, 5)->data, grad_scale(g, n, 6));
	return FT_OK;
}

/* ADAMW_STEP_MULTI (lr, t, scale, found_inf, then param, grad, exp_avg, exp_avg_sq per tensor) */
ft_status ft_cpu_adamw_step_multi(const ft_graph *g, ft_node *n)
{
	if (skipped(g, n, 3))
		return FT_OK;
	float lr = *(const float *)ft_in(g, n, 0)->data, t = *(const float *)ft_in(g, n, 1)->data;
	float s = grad_scale(g, n, 2);
	for (int i = 4; i + 3 < n->n_in; i += 4)
		adamw(n, ft_in(g, n, i), ft_in(g, n, i + 1), ft_in(g, n, i + 2), ft_in(g, n, i + 3), lr, t, s);
	return FT_OK;
}

/* out = sum over all inputs of sum(x^2), accumulated in double */
ft_status ft_cpu_grad_norm_sq(const ft_graph *g, ft_node *n)
{
	double total = 0;
	for (int k = 0; k < n->n_in; k++) {
		const ft_tensor *t = ft_in(g, n, k);
		const float *x = t->data;
		double s = 0;
#pragma omp parallel for reduction(+ : s) if (t->numel > 65536)
		for (int64_t i = 0; i < t->numel; i++)
			s += (double)x[i] * x[i];
		total += s;
	}
	*(float *)ft_out(g, n, 0)->data = (float)total;
	return FT_OK;
}

/*
 * GradScaler's unscale with the inf/NaN check fused: AMP_UNSCALE(scale,
 * grads...) -> found_inf multiplies every gradient by 1/scale in place (in
 * float32, as torch._amp_foreach_non_finite_check_and_unscale_) and sets
 * found_inf to 1 if any gradient holds an inf or NaN, else 0.
 */
ft_status ft_cpu_amp_unscale(const ft_graph *g, ft_node *n)
{
	float inv = 1.0f / *(const float *)ft_in(g, n, 0)->data;
	int found = 0;
	for (int k = 1; k < n->n_in; k++) {
		const ft_tensor *t = ft_in(g, n, k);
		float *x = t->data;
		int bad = 0;
#pragma omp parallel for reduction(| : bad) if (t->numel > 65536)
		for (int64_t i = 0; i < t->numel; i++) {
			bad |= !isfinite(x[i]);
			x[i] *= inv;
		}
		found |= bad;
	}
	*(float *)ft_out(g, n, 0)->data = found ? 1.0f : 0.0f;
	return FT_OK;
}

/*
 * GradScaler's update: AMP_UPDATE_SCALE(scale, growth_tracker, found_inf),
 * in place. On an inf/NaN the scale is multiplied by backoff_factor (0.5) and
 * the tracker reset; otherwise the tracker counts clean steps and after
 * growth_interval of them the scale is multiplied by growth_factor (2) and the
 * tracker reset (torch._amp_update_scale_).
 */
ft_status ft_cpu_amp_update_scale(const ft_graph *g, ft_node *n)
{
	float *scale = ft_in(g, n, 0)->data, *tracker = ft_in(g, n, 1)->data;
	bool found = *(const float *)ft_in(g, n, 2)->data != 0.0f;
	int64_t interval = ft_attr_int(n, "growth_interval", 2000);
	if (found) {
		*scale *= ft_attr_float(n, "backoff_factor", 0.5f);
		*tracker = 0;
		return FT_OK;
	}
	*tracker += 1;
	if (*tracker >= (float)interval) {
		float grown = *scale * ft_attr_float(n, "growth_factor", 2.0f);
		if (isfinite(grown)) /* PyTorch keeps the scale when growing would overflow */
			*scale = grown;
		*tracker = 0;
	}
	return FT_OK;
}
