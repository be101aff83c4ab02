"""onnxruntime-training's side of bench/train_step.sh: the time of one training step.

usage: ORT_VENV/bin/python bench/ort_train_step.py MODEL.onnx BATCH ITERS THREADS [WORK_DIR]

Runs in its own venv (onnxruntime-training 1.19.2, onnx, numpy; no torch), made by
    /usr/bin/python3 -m venv /work/helpers/ort-train-venv
    /work/helpers/ort-train-venv/bin/pip install onnxruntime-training==1.19.2

Uses the on-device training API on the exported eval-mode model (onnx_models/export.py):
1. The graph is put in training mode as ftrun puts it (runtime/train.c to_training_mode):
   every BatchNormalization gets training_mode=1 (normalise with the batch statistics and
   update the running ones). Without this ORT would differentiate the inference BatchNorm
   (running statistics), a different and cheaper computation than ftrun's and PyTorch's.
   LayerNormalization nodes get their optional Mean and InvStdDev outputs, which ORT's
   gradient builder needs (the exporter leaves them out).
2. onnxruntime.training.artifacts.generate_artifacts builds the training graph with
   requires_grad = every float initializer except BatchNorm running mean/var (frozen), loss
   CrossEntropyLoss on the logits, optimizer SGD. ORT 1.19's SGD block (SGDOptimizerV2) has
   no momentum, so ORT's update does a little less work than ftrun's and PyTorch's SGD with
   momentum 0.9 (one parameter-sized buffer fewer to read and write; small next to the
   backward pass). The artifacts are cached in WORK_DIR/<model>/ (default
   $TMPDIR/ftrun-ort-train), rebuilt when the model file changes.
3. onnxruntime.training.api: CheckpointState, Module (CPU, SessionOptions with
   intra_op_num_threads = THREADS, inter_op_num_threads = 1, sequential execution), Optimizer
   (lr 0.01). One step is module(x, y) (forward + loss + backward), optimizer.step() and
   module.lazy_reset_grad(), on one fixed random batch; two warm-up steps, then ITERS timed.

Prints "step_ms_median S step_ms_min M loss_first A loss_last B" (median = sorted[ITERS // 2],
as bench_train.c). On failure prints "ort_train_step: n/a (reason)" on stdout and exits 3.

onnxruntime/training/__init__.py imports its amp and optim subpackages, which import torch
(for ORTModule); artifacts and api do not need torch, so the package is registered here
without running that __init__.
"""
import json
import os
import sys
import tempfile
import time
import types


def fail(reason):
    reason = " ".join(str(reason).split())
    print(f"ort_train_step: n/a ({reason[:1200]})")
    sys.exit(3)


def import_ort_training():
    import onnxruntime

    pkg = types.ModuleType("onnxruntime.training")
    pkg.__path__ = [os.path.join(os.path.dirname(onnxruntime.__file__), "training")]
    sys.modules.setdefault("onnxruntime.training", pkg)
    from onnxruntime.training import api, artifacts

    return onnxruntime, artifacts, api


def to_training_mode(model):
    """BatchNormalization in training mode, LayerNormalization with its saved statistics;
    returns the names of the BatchNorm running mean/var."""
    from onnx import helper

    frozen = []
    for n in model.graph.node:
        if n.op_type == "LayerNormalization" and len(n.output) < 3:
            # ORT's LayerNormalization gradient reads the saved mean and 1/std outputs
            # (ftrun makes them too): add the optional outputs the exporter left out
            while len(n.output) < 3:
                n.output.append(n.name + ("/saved_mean", "/saved_invstd")[len(n.output) - 1])
            continue
        if n.op_type != "BatchNormalization":
            continue
        for a in list(n.attribute):
            if a.name == "training_mode":
                n.attribute.remove(a)
        n.attribute.append(helper.make_attribute("training_mode", 1))
        # opset 15: outputs Y, running_mean, running_var (updated statistics)
        del n.output[1:]
        n.output.extend([n.name + "/running_mean_out", n.name + "/running_var_out"])
        frozen += [n.input[3], n.input[4]]
    return frozen


def make_artifacts(artifacts, model_path, out_dir):
    import onnx

    st = os.stat(model_path)
    stamp = {"model": os.path.abspath(model_path), "size": st.st_size, "mtime": st.st_mtime, "v": 2}
    stamp_path = os.path.join(out_dir, "stamp.json")
    try:
        with open(stamp_path) as f:
            if json.load(f) == stamp:
                return
    except (OSError, ValueError):
        pass
    os.makedirs(out_dir, exist_ok=True)
    model = onnx.load(model_path)
    frozen = set(to_training_mode(model))
    floats = (onnx.TensorProto.FLOAT, onnx.TensorProto.FLOAT16, onnx.TensorProto.DOUBLE, onnx.TensorProto.BFLOAT16)
    init = [i for i in model.graph.initializer if i.data_type in floats]
    requires_grad = [i.name for i in init if i.name not in frozen]
    frozen_params = [i.name for i in init if i.name in frozen]
    artifacts.generate_artifacts(
        model,
        requires_grad=requires_grad,
        frozen_params=frozen_params,
        loss=artifacts.LossType.CrossEntropyLoss,
        optimizer=artifacts.OptimType.SGD,
        artifact_directory=out_dir,
    )
    with open(stamp_path, "w") as f:
        json.dump(stamp, f)


def main():
    if len(sys.argv) not in (5, 6):
        sys.exit(__doc__)
    model_path, batch, iters, threads = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    work = sys.argv[5] if len(sys.argv) > 5 else os.path.join(tempfile.gettempdir(), "ftrun-ort-train")
    out_dir = os.path.join(work, os.path.splitext(os.path.basename(model_path))[0])
    try:
        ort, artifacts, api = import_ort_training()
        import numpy as np
        import onnx
    except Exception as e:  # no venv, wrong package
        fail(f"import: {type(e).__name__}: {e}")
    try:
        make_artifacts(artifacts, model_path, out_dir)
    except Exception as e:  # e.g. an op without a gradient builder
        fail(f"generate_artifacts: {type(e).__name__}: {e}")

    # shapes from the exported model: input (batch, C, H, W), logits (batch, classes)
    g = onnx.load(model_path, load_external_data=False).graph
    inits = {i.name for i in g.initializer}
    x_info = [i for i in g.input if i.name not in inits][0]
    chw = [d.dim_value for d in x_info.type.tensor_type.shape.dim[1:]]
    classes = g.output[0].type.tensor_type.shape.dim[1].dim_value

    ort.set_default_logger_severity(3)  # errors only (generate_artifacts logs at INFO)
    try:
        so = ort.SessionOptions()
        so.intra_op_num_threads = threads
        so.inter_op_num_threads = 1
        so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        state = api.CheckpointState.load_checkpoint(os.path.join(out_dir, "checkpoint"))
        module = api.Module(os.path.join(out_dir, "training_model.onnx"), state, None, "cpu", so)
        opt = api.Optimizer(os.path.join(out_dir, "optimizer_model.onnx"), module)
        opt.set_learning_rate(0.01)
        module.train()

        rng = np.random.default_rng(1)
        x = (rng.random((batch, *chw), dtype=np.float32) * 2 - 1).astype(np.float32)
        y = rng.integers(0, classes, size=(batch,), dtype=np.int64)
        times, losses = [], []
        for i in range(iters + 2):  # two warm-up steps
            t0 = time.perf_counter()
            loss = module(x, y)
            opt.step()
            module.lazy_reset_grad()
            if i >= 2:
                times.append((time.perf_counter() - t0) * 1e3)
            losses.append(float(np.asarray(loss)))
    except Exception as e:
        fail(f"train step: {type(e).__name__}: {e}")
    times.sort()
    print(f"step_ms_median {times[iters // 2]:.1f} step_ms_min {times[0]:.1f} "
          f"loss_first {losses[0]:.4f} loss_last {losses[-1]:.4f}")


if __name__ == "__main__":
    main()
