#!/usr/bin/python3
"""Export torchvision classification models to ONNX for ftrun.

Run with Debian's Python (it has python3-torch / python3-torchvision / python3-onnx):

    /usr/bin/python3 onnx_models/export.py --out /work/models \
        [--models resnet50,vit_b_16,efficientnet_b0] [--batch 2] [--ref]

Every model is built with random weights from a fixed seed (torch.manual_seed(0)) and
exported at opset 17 with a dynamic batch axis (input "input" [batch,C,H,W], output
"logits" [batch,classes]); ftrun specialises the shapes when it loads the file.

What the export keeps on purpose (see README.md next to this file):

* BatchNormalization nodes are kept, not fused into the preceding Conv.  Two things in
  torch 1.13's exporter fuse them: constant folding (we pass do_constant_folding=False) and
  the eval-mode peephole pass `_jit_pass_onnx_eval_peephole`, which runs whenever
  training=TrainingMode.EVAL (torch/onnx/utils.py, _model_to_graph) and folds every
  Conv+BatchNorm pair.  So we put the model in eval mode ourselves (model.eval()) and export
  with training=TrainingMode.PRESERVE: the graph is the inference graph (BatchNormalization
  on running statistics, Dropout/StochasticDepth gone) but BatchNorm stays a node with its
  own scale, bias, mean and var initializers.
* Every initializer is distinct.  The exporter's `_jit_pass_onnx_deduplicate_initializers`
  merges initializers with equal values when the model is not in training mode, so a
  freshly initialised model (all-ones BatchNorm/LayerNorm scales, all-zero biases) would come
  out with shared tensors.  Before export we re-randomise BatchNorm (weight U(0.9,1.1), bias
  U(-0.1,0.1), running_mean U(-0.1,0.1), running_var U(0.5,1.5)), LayerNorm (weight
  U(0.9,1.1), bias U(-0.1,0.1)), ViT's class_token / pos_embedding (N(0, 0.02)), ConvNeXt's
  layer_scale (U(0.05,0.15)) and any other tensor whose elements are all equal (zero biases,
  ViT's zero-initialised head), then check that no two tensors are byte-identical and that
  the file has one initializer per parameter/state buffer.
* keep_initializers_as_inputs=False: weights are graph initializers, the graph's only input
  is the image batch.
"""

import argparse
import hashlib
import inspect
import os
import sys
import time
import warnings

import numpy as np
import onnx
from onnx import numpy_helper
import torch
import torchvision

OPSET = 17
SEED = 0
INPUT_SEED = 1234
INPUT_NAME = "input"
OUTPUT_NAME = "logits"


# name -> (builder, input shape without batch [C,H,W], description)
def _tv(name, **kw):
    return lambda: getattr(torchvision.models, name)(weights=None, **kw)


MODELS = {
    # The three models of the project card: ImageNet shape, 1000 classes.
    "resnet50": (_tv("resnet50"), (3, 224, 224), "ResNet-50, 25.6M params, BatchNorm"),
    "vit_b_16": (_tv("vit_b_16"), (3, 224, 224), "ViT-B/16, 86.6M params, LayerNorm + attention"),
    "efficientnet_b0": (_tv("efficientnet_b0"), (3, 224, 224),
                        "EfficientNet-B0, 5.3M params, depthwise conv + SiLU + squeeze-excite"),
    # Fashion-MNIST model: torchvision resnet18 with 10 classes, standard 3-channel stem, at
    # 32x32.  It is not edited for 1-channel 28x28 input: ftrun's data loader adapts the
    # images to the model's input (pads/resizes 28->32, repeats the grey channel), as the
    # design asks ("images are adapted to the model's input by the loader").
    "resnet18_fmnist": (_tv("resnet18", num_classes=10), (3, 32, 32),
                        "ResNet-18, 10 classes, 3x32x32 input (Fashion-MNIST via the loader)"),
    # ResNet-50 the same way: tests/pretrain.py trains it briefly on Fashion-MNIST so that
    # the AMP gradient checks have a ResNet-50 whose gradients are not dominated by the
    # chaos of random-weight BatchNorm nets (docs/amp.md).
    "resnet50_fmnist": (_tv("resnet50", num_classes=10), (3, 32, 32),
                        "ResNet-50, 10 classes, 3x32x32 input (Fashion-MNIST via the loader)"),
    # Small, cheap models for CI (ops coverage: hardswish/hardsigmoid, squeeze-excite, channel
    # shuffle, ceil-mode max-pool, concat, LayerNorm over channels, ...).
    "mobilenet_v3_small": (_tv("mobilenet_v3_small"), (3, 224, 224),
                           "MobileNetV3-Small, 2.5M params, Hardswish/Hardsigmoid + SE"),
    "squeezenet1_0": (_tv("squeezenet1_0"), (3, 224, 224),
                      "SqueezeNet 1.0, 1.2M params, no normalisation, Concat, ceil-mode MaxPool"),
    "shufflenet_v2_x0_5": (_tv("shufflenet_v2_x0_5"), (3, 224, 224),
                           "ShuffleNetV2 x0.5, 1.4M params, channel split + shuffle"),
    "convnext_tiny": (_tv("convnext_tiny"), (3, 224, 224),
                      "ConvNeXt-Tiny, 28.6M params, 7x7 depthwise conv + LayerNorm + GELU + layer scale"),
    # MaxViT's attention is two Einsums: the model of grad_maxvit_t (Einsum's gradient against
    # PyTorch's). Exported with --models all, as the test suite does; not by default (125 MB)
    "maxvit_t": (_tv("maxvit_t"), (3, 224, 224), "MaxViT-T, 30.9M params, Einsum attention + MBConv"),
}
DEFAULT_MODELS = "resnet50,vit_b_16,efficientnet_b0,resnet18_fmnist"


def _uniform_(t, lo, hi):
    with torch.no_grad():
        t.copy_(torch.rand(t.shape, dtype=torch.float32) * (hi - lo) + lo)


def randomize(model):
    """Give every normalisation parameter/state and every constant tensor random values."""
    bn_types = (torch.nn.modules.batchnorm._BatchNorm,)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, bn_types):
                if m.weight is not None:
                    _uniform_(m.weight, 0.9, 1.1)
                    _uniform_(m.bias, -0.1, 0.1)
                if m.running_mean is not None:
                    _uniform_(m.running_mean, -0.1, 0.1)
                    _uniform_(m.running_var, 0.5, 1.5)
            elif isinstance(m, (torch.nn.LayerNorm, torch.nn.GroupNorm)):
                if getattr(m, "weight", None) is not None:
                    _uniform_(m.weight, 0.9, 1.1)
                if getattr(m, "bias", None) is not None:
                    _uniform_(m.bias, -0.1, 0.1)
        for name, p in model.named_parameters():
            leaf = name.rsplit(".", 1)[-1]
            if leaf in ("class_token", "pos_embedding"):  # ViT
                p.normal_(0.0, 0.02)
            elif leaf == "layer_scale":  # ConvNeXt CNBlock (1e-6 everywhere by default)
                _uniform_(p, 0.05, 0.15)
        # Anything still constant (zero biases, zero-initialised heads): small random values.
        for name, t in list(model.named_parameters()) + list(model.named_buffers()):
            if not t.is_floating_point() or t.numel() == 0:
                continue
            flat = t.reshape(-1)
            if bool((flat == flat[0]).all()):
                v = float(flat[0])
                if v == 0.0:
                    t.normal_(0.0, 0.02)
                else:
                    t.mul_(1.0 + 0.1 * (2 * torch.rand(t.shape) - 1))
        # Byte-identical tensors would still be merged by the exporter: nudge them apart.
        seen = {}
        for name, t in list(model.named_parameters()) + list(model.named_buffers()):
            if not t.is_floating_point():
                continue
            key = (tuple(t.shape), hashlib.sha1(t.detach().numpy().tobytes()).hexdigest())
            if key in seen:
                t.add_(1e-3 * torch.randn(t.shape))
            seen[key] = name


def expected_initializers(model):
    """Names of the tensors the eval-mode graph should hold as initializers."""
    names = [n for n, _ in model.named_parameters()]
    names += [n for n, b in model.named_buffers() if b.is_floating_point()]  # not num_batches_tracked
    return names


def summarize(path, model_proto):
    g = model_proto.graph
    ops = sorted({(n.domain + "::" if n.domain not in ("", "ai.onnx") else "") + n.op_type for n in g.node})
    return {
        "size": os.path.getsize(path),
        "nodes": len(g.node),
        "initializers": len(g.initializer),
        "params": sum(int(np.prod(i.dims)) for i in g.initializer),
        "ops": ops,
    }


def check_initializers(name, model, model_proto):
    problems = []
    init = model_proto.graph.initializer
    want = expected_initializers(model)
    have = [i.name for i in init]
    if len(have) != len(want):
        problems.append(f"{len(have)} initializers, model has {len(want)} parameters+state buffers")
    missing = sorted(set(want) - set(have))
    extra = sorted(set(have) - set(want))
    if missing:
        problems.append(f"missing {len(missing)}: {', '.join(missing[:8])}{' ...' if len(missing) > 8 else ''}")
    if extra:
        problems.append(f"unexpected {len(extra)}: {', '.join(extra[:8])}{' ...' if len(extra) > 8 else ''}")
    digests = {}
    for i in init:
        d = (tuple(i.dims), i.data_type, hashlib.sha1(i.raw_data or numpy_helper.to_array(i).tobytes()).hexdigest())
        if d in digests:
            problems.append(f"initializers {digests[d]} and {i.name} are equal")
        digests[d] = i.name
    bn = sum(1 for n in model_proto.graph.node if n.op_type == "BatchNormalization")
    n_bn = sum(1 for m in model.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm))
    if bn != n_bn:
        problems.append(f"{bn} BatchNormalization nodes, model has {n_bn} BatchNorm modules (fused?)")
    for p in problems:
        print(f"  WARNING {name}: {p}")
    return not problems


def write_tensor(path, array, name):
    t = numpy_helper.from_array(np.ascontiguousarray(array), name)
    with open(path, "wb") as f:
        f.write(t.SerializeToString())


def try_onnxruntime(path, x, ref):
    try:
        import onnxruntime as ort  # noqa: F401  (usually not installed for /usr/bin/python3)
    except Exception:
        return None
    sess = ort.InferenceSession(path, providers=["CPUExecutionProvider"])
    (out,) = sess.run([OUTPUT_NAME], {INPUT_NAME: x})
    # A batch one larger than the traced one exercises the dynamic batch axis.
    (out2,) = sess.run([OUTPUT_NAME], {INPUT_NAME: np.concatenate([x, x[:1]])})
    return max(float(np.abs(out - ref).max()), float(np.abs(out2[: len(x)] - ref).max()),
               float(np.abs(out2[len(x)] - ref[0]).max()))


def build(name, state=None):
    """MODEL with export.py's weights: seed SEED, randomize(); then the trained state if given."""
    torch.manual_seed(SEED)
    model = MODELS[name][0]()
    randomize(model)
    if state:
        model.load_state_dict(torch.load(state))
    return model


def export_one(name, out_dir, batch, ref, image_size=None, state=None, stem=None):
    _, shape, _ = MODELS[name]
    if image_size:
        shape = (shape[0], image_size, image_size)
    model = build(name, state)
    model.eval()

    gen = torch.Generator().manual_seed(INPUT_SEED)
    x = torch.randn((batch,) + tuple(shape), generator=gen, dtype=torch.float32)
    with torch.no_grad():
        y = model(x)

    stem = stem or name
    path = os.path.join(out_dir, stem + ".onnx")
    t0 = time.time()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        # Not under torch.no_grad(): in eval mode with grad disabled, nn.MultiheadAttention
        # (ViT) takes its fused fast path, aten::_native_multi_head_attention, which the
        # exporter cannot translate.  With grad enabled it traces the composite ops.
        torch.onnx.export(
            model, (x,), path,
            export_params=True,
            opset_version=OPSET,
            do_constant_folding=False,
            # PRESERVE + model.eval(): inference graph without the eval peephole that
            # fuses BatchNorm into Conv (see the module docstring).
            training=torch.onnx.TrainingMode.PRESERVE,
            keep_initializers_as_inputs=False,
            input_names=[INPUT_NAME],
            output_names=[OUTPUT_NAME],
            dynamic_axes={INPUT_NAME: {0: "batch"}, OUTPUT_NAME: {0: "batch"}},
            # newer PyTorch (the GPU machines' 2.11) exports through dynamo by default;
            # the TorchScript exporter is the one these graphs were made with
            **({"dynamo": False} if "dynamo" in inspect.signature(torch.onnx.export).parameters else {}),
        )
    dt = time.time() - t0
    assert not model.training

    proto = onnx.load(path)
    onnx.checker.check_model(path)
    s = summarize(path, proto)
    print(f"{name}: {s['size'] / 1e6:.1f} MB, {s['nodes']} nodes, {s['initializers']} initializers "
          f"({s['params']:,} values), export {dt:.1f} s")
    print(f"  ops ({len(s['ops'])}): {' '.join(s['ops'])}")
    msgs = sorted({f"{w.category.__name__} at {os.path.basename(w.filename)}:{w.lineno}: "
                   f"{str(w.message).splitlines()[0][:90]}" for w in caught})
    for m in msgs:
        print(f"  export warning: {m}")
    check_initializers(stem, model, proto)

    if ref:
        d = os.path.join(out_dir, stem + ".ref", "test_data_set_0")
        os.makedirs(d, exist_ok=True)
        xn = x.numpy().astype(np.float32)
        yn = y.numpy().astype(np.float32)
        write_tensor(os.path.join(d, "input_0.pb"), xn, INPUT_NAME)
        write_tensor(os.path.join(d, "output_0.pb"), yn, OUTPUT_NAME)
        print(f"  ref: {d} input {list(xn.shape)} output {list(yn.shape)} "
              f"logits |max| {np.abs(yn).max():.3g} std {yn.std():.3g}")
        err = try_onnxruntime(path, xn, yn)
        if err is not None:
            print(f"  onnxruntime (batch {len(xn)} and {len(xn) + 1}) max |diff| vs PyTorch {err:.3g}")
    return s


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", required=True, help="output folder (keep large .onnx files out of the repo)")
    ap.add_argument("--models", default=DEFAULT_MODELS,
                    help=f"comma-separated names or 'all' (default {DEFAULT_MODELS}); known: {', '.join(MODELS)}")
    ap.add_argument("--batch", type=int, default=2, help="batch of the reference input and of the trace (default 2)")
    ap.add_argument("--image-size", type=int, default=0, help="override H=W of the input (default: per model; vit_b_16 only takes 224)")
    ap.add_argument("--ref", action="store_true",
                    help="also write MODEL.ref/test_data_set_0/{input_0,output_0}.pb (PyTorch eval-mode logits)")
    a = ap.parse_args(argv)
    names = list(MODELS) if a.models == "all" else [m.strip() for m in a.models.split(",") if m.strip()]
    unknown = [n for n in names if n not in MODELS]
    if unknown:
        ap.error(f"unknown model(s) {', '.join(unknown)}; known: {', '.join(MODELS)}")
    os.makedirs(a.out, exist_ok=True)
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    print(f"torch {torch.__version__}, torchvision {torchvision.__version__}, onnx {onnx.__version__}, opset {OPSET}")
    failed = []
    for n in names:
        try:
            export_one(n, a.out, a.batch, a.ref, a.image_size or None)
        except Exception as e:  # keep going; report at the end
            print(f"{n}: FAILED: {type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''}")
            failed.append(n)
    if failed:
        print(f"failed: {', '.join(failed)}")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
