/*
 * amp.h - Automatic Mixed Precision as a graph pass (issue 4, DESIGN.md).
 *
 * ft_amp_pass() rewrites a forward graph the way PyTorch's autocast runs it:
 *   low      Conv, MatMul, Gemm: every float input cast to the low type
 *            (fp16 or bf16), so they compute on low-precision operands;
 *   fp32     LayerNorm, Softmax, LogSoftmax, the reductions and global
 *            pooling, Exp, Log, Pow, Sqrt, Reciprocal, the loss:
 *            low-precision inputs cast to float32;
 *   BatchNorm (class other) takes the low-precision input with its float32
 *            parameters and running statistics, computes the batch
 *            statistics in float32 and writes its output in the input's type,
 *            as cuDNN's batch norm does under PyTorch's autocast;
 *   promote  ops of several float inputs (Add, Mul, Concat, Where...): when
 *            the inputs disagree, the narrower ones are cast to the widest,
 *            except that a constant of one element takes the other inputs'
 *            type (PyTorch: 0-dim tensors and Python scalars do not promote);
 *   other    run in their input's type.
 * A tensor is cast at most once per type and adjacent low-precision ops pass
 * low-precision tensors. The graph outputs come back as float32 (the loss is
 * fp32). Casts of parameters are made once per optimizer step: the trainer
 * hoists them (and anything else that reads only persistent tensors) ahead of
 * the micro-batch loop. The backward pass differentiates the casts like any
 * other node, so gradients flow back through the same casts to the float32
 * master weights.
 */
#ifndef FT_AMP_H
#define FT_AMP_H

#include "ir.h"

typedef enum ft_amp_class { FT_AMP_LOW, FT_AMP_FP32, FT_AMP_PROMOTE, FT_AMP_KEEP } ft_amp_class;

ft_amp_class ft_amp_class_of(ft_op op);

/* Rewrites g (shapes inferred, topologically sorted) for low type lp (FT_F16 or FT_BF16). */
ft_status ft_amp_pass(ft_graph *g, ft_dtype lp);

/* "fp16", "bf16" */
const char *ft_amp_name(ft_dtype lp);

#endif
