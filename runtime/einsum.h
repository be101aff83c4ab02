/*
 * einsum.h - Einsum's equation, resolved against its inputs' shapes.
 *
 * "bij,bjk->bik": each input's axes get letters; a letter repeated within an
 * input takes its diagonal; letters absent from the output are summed over.
 * "..." stands for the same run of broadcast axes in every operand. Without
 * "->" the output is the ellipsis, then the letters used once, in order
 * (ONNX's implicit mode). Spaces are ignored.
 */
#ifndef FT_EINSUM_H
#define FT_EINSUM_H

#include "ir.h"

enum { FT_EINSUM_MAX_LETTERS = 16, FT_EINSUM_MAX_INPUTS = 8 };

typedef struct ft_einsum {
	int n_in;
	int n_letters;                                    /* distinct letters, ellipsis axes first */
	int64_t extent[FT_EINSUM_MAX_LETTERS];            /* size of each letter's axis */
	int rank_in[FT_EINSUM_MAX_INPUTS];
	int8_t in_letter[FT_EINSUM_MAX_INPUTS][FT_MAX_RANK]; /* letter of each input axis */
	int rank_out;
	int8_t out_letter[FT_MAX_RANK];
} ft_einsum;

/*
 * eq without its spaces, in buf (cap bytes), cut in place into its input
 * terms and its output term *out: the one after "->", or in implicit mode the
 * one ONNX implies (an ellipsis if any term has one, then the letters used
 * once, upper case first), written to implied (cap bytes too). Returns the
 * number of input terms, or -1 when there are more than FT_EINSUM_MAX_INPUTS.
 */
int ft_einsum_split(const char *eq, char *buf, char *implied, size_t cap, char **terms, const char **out);

/* Parses the node's equation against its inputs' shapes; a node error when they disagree. */
ft_status ft_einsum_resolve(const ft_graph *g, const ft_node *n, ft_einsum *e);

#endif
