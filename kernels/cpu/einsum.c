/*
 * kernels/cpu/einsum.c - the reference Einsum: one loop over every output
 * element, summing the product of the operands over the letters the output
 * lacks (in double). A letter's stride in an operand is the sum of the strides
 * of the axes it labels (a repeated letter walks the diagonal); broadcast
 * axes of size 1 have stride 0.
 */
#include "einsum.h"
#include "util.h"

ft_status ft_cpu_einsum(const ft_graph *g, ft_node *n)
{
	ft_einsum e;
	FT_TRY(ft_einsum_resolve(g, n, &e));
	ft_tensor *y = ft_out(g, n, 0);
	int64_t stride[FT_EINSUM_MAX_INPUTS][FT_EINSUM_MAX_LETTERS] = { { 0 } };
	for (int k = 0; k < e.n_in; k++) {
		const ft_tensor *x = ft_in(g, n, k);
		int64_t own[FT_MAX_RANK];
		ft_strides(x->rank, x->dims, own);
		for (int a = 0; a < x->rank; a++)
			if (x->dims[a] != 1)
				stride[k][e.in_letter[k][a]] += own[a];
	}
	bool in_out[FT_EINSUM_MAX_LETTERS] = { false };
	for (int i = 0; i < e.rank_out; i++)
		in_out[e.out_letter[i]] = true;
	int sum_letter[FT_EINSUM_MAX_LETTERS], n_sum = 0;
	int64_t sum_count = 1;
	for (int l = 0; l < e.n_letters; l++)
		if (!in_out[l]) {
			sum_letter[n_sum++] = l;
			sum_count *= e.extent[l];
		}
	bool f64 = y->dtype == FT_F64;
	int64_t total = y->numel;
#pragma omp parallel for if (total * sum_count > 65536)
	for (int64_t o = 0; o < total; o++) {
		/* the operands' offsets of this output element */
		int64_t base[FT_EINSUM_MAX_INPUTS] = { 0 }, rem = o;
		for (int i = e.rank_out - 1; i >= 0; i--) {
			int l = e.out_letter[i];
			int64_t idx = rem % e.extent[l];
			rem /= e.extent[l];
			for (int k = 0; k < e.n_in; k++)
				base[k] += idx * stride[k][l];
		}
		double acc = 0;
		int64_t idx[FT_EINSUM_MAX_LETTERS] = { 0 }, off[FT_EINSUM_MAX_INPUTS];
		for (int k = 0; k < e.n_in; k++)
			off[k] = base[k];
		for (int64_t s = 0; s < sum_count; s++) {
			double p = 1;
			for (int k = 0; k < e.n_in; k++) {
				const void *d = ft_in(g, n, k)->data;
				p *= f64 ? ((const double *)d)[off[k]] : (double)((const float *)d)[off[k]];
			}
			acc += p;
			for (int j = n_sum - 1; j >= 0; j--) { /* odometer over the summed letters */
				int l = sum_letter[j];
				for (int k = 0; k < e.n_in; k++)
					off[k] += stride[k][l];
				if (++idx[j] < e.extent[l])
					break;
				for (int k = 0; k < e.n_in; k++)
					off[k] -= stride[k][l] * e.extent[l];
				idx[j] = 0;
			}
		}
		if (f64)
			((double *)y->data)[o] = acc;
		else
			((float *)y->data)[o] = (float)acc;
	}
	return FT_OK;
}
