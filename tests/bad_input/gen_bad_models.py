#!/usr/bin/python3
"""
gen_bad_models.py OUT_DIR - writes hostile and broken models for the bad-input
test (tests/bad_input/run_bad_input.sh) and a manifest of the cases.

Each case is a command line for ftrun that must fail with exit code 2 and a
message on stderr holding every expected key word (the file, the node where
there is one, and the problem). Manifest lines, tab-separated:

    NAME <tab> RC <tab> KEY1|KEY2|... <tab> ARG1 <tab> ARG2 ...

ARGs are given to ftrun as they are (absolute paths into OUT_DIR). RC 0 marks
the few positive controls (they show that the mechanism a hostile case attacks
works, e.g. external data inside the folder is read).

Built with onnx.helper where onnx can express the defect, and with raw
protobuf bytes where it cannot (nesting 10000 deep).
"""
import os
import random
import shutil
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OUT = os.path.abspath(sys.argv[1])
cases = []


def path(*parts):
    return os.path.join(OUT, *parts)


def case(name, keys, *args, rc=2):
    assert keys, "at least one key word (\"-\" for none): empty tab fields would collapse"
    for a in args:
        assert "\t" not in a and "\n" not in a
    cases.append("\t".join([name, str(rc), "|".join(keys)] + list(args)))


def save_model(m, name, sub=None):
    d = path(sub) if sub else OUT
    os.makedirs(d, exist_ok=True)
    p = os.path.join(d, name)
    with open(p, "wb") as f:
        f.write(m.SerializeToString())
    return p


def save_bytes(b, name):
    p = path(name)
    with open(p, "wb") as f:
        f.write(b)
    return p


def save_pb(arr, name):
    return save_bytes(numpy_helper.from_array(arr).SerializeToString(), name)


def model(nodes, inits, inputs, outputs, opset=13):
    g = helper.make_graph(nodes, "g", inputs, outputs, initializer=inits)
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", opset)], producer_name="bad_input")
    m.ir_version = 7
    return m


def vi(name, shape, elem=TensorProto.FLOAT):
    return helper.make_tensor_value_info(name, elem, shape)


def f32(shape, seed=0):
    return np.random.RandomState(seed).standard_normal(shape).astype(np.float32)


def raw_tensor(name, dims, elem, raw):
    """A TensorProto built field by field (helper.make_tensor validates what we want broken)."""
    t = TensorProto()
    t.name = name
    t.data_type = elem
    t.dims.extend(dims)
    t.raw_data = raw
    return t


X = vi("x", [1, 3, 8, 8])
Y = vi("y", None)


def conv_model(w_shape, w_name="w", node_name="conv1", extra_inits=()):
    w = numpy_helper.from_array(f32(w_shape), w_name)
    return model([helper.make_node("Conv", ["x", w_name], ["c"], name=node_name),
                  helper.make_node("Relu", ["c"], ["y"], name="relu1")],
                 [w] + list(extra_inits), [X], [Y])


def inspect(name, keys, model_path, rc=2):
    case(name, keys, "inspect", model_path, rc=rc)


def run(name, keys, model_path, inputs, rc=2, extra=()):
    args = ["run", model_path]
    for i in inputs:
        args += ["--input", i]
    args += ["--output-dir", path("out_" + name)]
    case(name, keys, *args, *extra, rc=rc)


# ---- a valid base model and positive controls ------------------------------
base = conv_model([4, 3, 3, 3])
base_path = save_model(base, "base.onnx")
inspect("ok_base", ["input", "x"], base_path, rc=0)
good_in = save_pb(f32([1, 3, 8, 8], 1), "good_input.pb")
run("ok_run_base", ["-"], base_path, [good_in], rc=0)

# ---- files that are not models ----------------------------------------------
inspect("empty_file", ["empty.onnx", "empty"], save_bytes(b"", "empty.onnx"))
rnd = random.Random(1234)
for k, n in enumerate([7, 100, 4096]):
    b = bytes(rnd.getrandbits(8) for _ in range(n))
    inspect("random_bytes_%d" % n, ["random_%d.onnx" % n, "not an ONNX model"], save_bytes(b, "random_%d.onnx" % n))
inspect("text_file", ["text.onnx", "not an ONNX model"], save_bytes(b"hello, I am not a model\n" * 10, "text.onnx"))
os.makedirs(path("a_folder.onnx"), exist_ok=True)
inspect("model_is_folder", ["a_folder.onnx", "not a regular file"], path("a_folder.onnx"))
inspect("missing_model", ["nonexistent.onnx", "cannot open"], path("nonexistent.onnx"))

full = base.SerializeToString()
for frac in (0.1, 0.5, 0.9):
    cut = int(len(full) * frac)
    name = "truncated_%d.onnx" % cut
    inspect("truncated_%d" % int(frac * 100), [name, "not an ONNX model", "truncated"], save_bytes(full[:cut], name))
inspect("truncated_last_byte", ["truncated_last.onnx", "not an ONNX model"],
        save_bytes(full[:-1], "truncated_last.onnx"))
inspect("truncated_2_bytes", ["truncated_2.onnx", "not an ONNX model"], save_bytes(full[:2], "truncated_2.onnx"))

# a valid protobuf that is not a ModelProto (a TensorProto)
inspect("tensor_not_model", ["tensor_as_model.onnx", "not an ONNX model"],
        save_bytes(numpy_helper.from_array(f32([2, 2])).SerializeToString(), "tensor_as_model.onnx"))

# ---- graph structure -----------------------------------------------------------
m = model([helper.make_node("Relu", ["x"], ["r"], name="relu_ok"),
           helper.make_node("Add", ["r", "ghost"], ["y"], name="add_orphan")], [], [X], [Y])
inspect("dangling_input", ["dangling.onnx", "add_orphan", "ghost", "not produced"], save_model(m, "dangling.onnx"))

m = model([helper.make_node("Add", ["x", "b"], ["a"], name="cyc_a"),
           helper.make_node("Relu", ["a"], ["b"], name="cyc_b"),
           helper.make_node("Relu", ["a"], ["y"], name="cyc_out")], [], [X], [Y])
inspect("cycle", ["cycle.onnx", "cycle", "cyc_"], save_model(m, "cycle.onnx"))

m = model([helper.make_node("Relu", ["x"], ["y"], name="self_loop_in"),
           helper.make_node("Relu", ["z"], ["z"], name="self_loop")], [], [X], [Y, vi("z", None)])
inspect("self_loop", ["self_loop.onnx", "self_loop", "cycle"], save_model(m, "self_loop.onnx"))

m = model([helper.make_node("Relu", ["x"], ["t"], name="r1"),
           helper.make_node("FrobnicateA", ["t"], ["u"], name="bogus_one"),
           helper.make_node("Relu", ["u"], ["v"], name="r2"),
           helper.make_node("NoSuchOp", ["v"], ["w"], name="bogus_two"),
           helper.make_node("Relu", ["w"], ["y0"], name="r3"),
           helper.make_node("Foo", ["y0"], ["y"], name="bogus_three", domain="com.example")], [], [X], [Y])
inspect("unknown_ops", ["unknown_ops.onnx", "3 nodes", "does not support", "bogus_one", "FrobnicateA",
                        "bogus_two", "NoSuchOp", "bogus_three", "com.example.Foo"], save_model(m, "unknown_ops.onnx"))

m = model([helper.make_node("Relu", ["x"], ["r"], name="r1")], [], [X], [])
inspect("no_outputs", ["no_outputs.onnx", "no outputs"], save_model(m, "no_outputs.onnx"))

m = model([helper.make_node("Relu", ["x"], ["r"], name="r1")], [], [X], [vi("nowhere", None)])
inspect("output_not_produced", ["output_missing.onnx", "nowhere", "not produced"], save_model(m, "output_missing.onnx"))

m = model([helper.make_node("Relu", ["x"], ["y"], name="first"),
           helper.make_node("Relu", ["x"], ["y"], name="second")], [], [X], [Y])
inspect("two_producers", ["two_producers.onnx", "already produced"], save_model(m, "two_producers.onnx"))

m = model([helper.make_node("Conv", ["x"], ["y"], name="lonely_conv")], [], [X], [Y])
inspect("too_few_inputs", ["few_inputs.onnx", "lonely_conv", "inputs"], save_model(m, "few_inputs.onnx"))

m = model([helper.make_node("Relu", ["x"], ["y"], name="r1")], [], [X], [Y], opset=0)
inspect("opset_zero", ["opset0.onnx", "opset 0"], save_model(m, "opset0.onnx"))
m = model([helper.make_node("Relu", ["x"], ["y"], name="r1")], [], [X], [Y], opset=99)
inspect("future_opset", ["opset99.onnx", "opset 99"], save_model(m, "opset99.onnx"))

w = numpy_helper.from_array(f32([4, 3, 3, 3]), "w")
m = model([helper.make_node("Conv", ["x", "w"], ["y"], name="c")], [w, w], [X], [Y])
inspect("duplicate_initializer", ["dup_init.onnx", "\"w\"", "twice"], save_model(m, "dup_init.onnx"))

# ---- shapes that do not fit ----------------------------------------------------------
inspect("conv_weight_rank", ["conv_rank.onnx", "conv_bad_rank", "weight [4,3,3]", "rank"],
        save_model(conv_model([4, 3, 3], node_name="conv_bad_rank"), "conv_rank.onnx"))
inspect("conv_weight_channels", ["conv_chan.onnx", "conv_bad_chan", "3 channels", "[4,5,3,3]"],
        save_model(conv_model([4, 5, 3, 3], node_name="conv_bad_chan"), "conv_chan.onnx"))
m = model([helper.make_node("Conv", ["x", "w"], ["y"], name="conv_ks", kernel_shape=[5, 5])],
          [numpy_helper.from_array(f32([4, 3, 3, 3]), "w")], [X], [Y])
inspect("conv_kernel_shape", ["conv_ks.onnx", "conv_ks", "kernel_shape", "does not match"],
        save_model(m, "conv_ks.onnx"))

shape = numpy_helper.from_array(np.array([5, 7], dtype=np.int64), "shape")
m = model([helper.make_node("Reshape", ["x", "shape"], ["y"], name="bad_reshape")], [shape], [X], [Y])
inspect("reshape_count", ["reshape.onnx", "bad_reshape", "cannot reshape", "element counts differ"],
        save_model(m, "reshape.onnx"))
shape = numpy_helper.from_array(np.array([-1, -1], dtype=np.int64), "shape")
m = model([helper.make_node("Reshape", ["x", "shape"], ["y"], name="two_minus_one")], [shape], [X], [Y])
inspect("reshape_two_minus_one", ["reshape2.onnx", "two_minus_one", "more than one -1"],
        save_model(m, "reshape2.onnx"))

# ---- initializers ------------------------------------------------------------------
bias_neg = raw_tensor("bias_neg", [-4], TensorProto.FLOAT, b"")
m = model([helper.make_node("Add", ["x", "bias_neg"], ["y"], name="add")], [bias_neg], [X], [Y])
inspect("negative_dim_init", ["neg_dim.onnx", "bias_neg", "negative dim"], save_model(m, "neg_dim.onnx"))

huge = raw_tensor("huge_w", [1 << 40, 1 << 40], TensorProto.FLOAT, b"\0" * 16)
m = model([helper.make_node("Add", ["x", "huge_w"], ["y"], name="add")], [huge], [X], [Y])
inspect("overflow_dims_init", ["overflow_dims.onnx", "huge_w", "overflow"], save_model(m, "overflow_dims.onnx"))

wrap = raw_tensor("wrap_w", [1 << 62, 4], TensorProto.FLOAT, b"")
m = model([helper.make_node("Add", ["x", "wrap_w"], ["y"], name="add")], [wrap], [X], [Y])
inspect("overflow_dims_wrap", ["overflow_wrap.onnx", "wrap_w", "overflow"], save_model(m, "overflow_wrap.onnx"))

short = raw_tensor("w", [4, 3, 3, 3], TensorProto.FLOAT, b"\0" * 100)
m = model([helper.make_node("Conv", ["x", "w"], ["y"], name="c")], [short], [X], [Y])
inspect("raw_data_short", ["raw_short.onnx", "\"w\"", "raw_data has 100 bytes", "432"],
        save_model(m, "raw_short.onnx"))

t = TensorProto()
t.name = "w"
t.data_type = TensorProto.FLOAT
t.dims.extend([4, 3, 3, 3])
t.float_data.extend([1.0] * 10)
m = model([helper.make_node("Conv", ["x", "w"], ["y"], name="c")], [t], [X], [Y])
inspect("float_data_short", ["float_short.onnx", "\"w\"", "10 values", "108"], save_model(m, "float_short.onnx"))

s = helper.make_tensor("str_w", TensorProto.STRING, [2], [b"a", b"b"])
m = model([helper.make_node("Add", ["x", "str_w"], ["y"], name="add")], [s], [X], [Y])
inspect("string_weight", ["string_w.onnx", "str_w", "string"], save_model(m, "string_w.onnx"))

bad_type = raw_tensor("t99", [1], 99, b"\0" * 4)
m = model([helper.make_node("Add", ["x", "t99"], ["y"], name="add")], [bad_type], [X], [Y])
inspect("unknown_elem_type", ["elem99.onnx", "t99", "element type 99"], save_model(m, "elem99.onnx"))

deep = raw_tensor("deep", [1] * 9, TensorProto.FLOAT, b"\0" * 4)
m = model([helper.make_node("Add", ["x", "deep"], ["y"], name="add")], [deep], [X], [Y])
inspect("rank_9_init", ["rank9.onnx", "deep", "rank 9"], save_model(m, "rank9.onnx"))

# Constant node whose value tensor is broken: the node is named
ct = raw_tensor("cv", [3], TensorProto.FLOAT, b"\0" * 5)
m = model([helper.make_node("Constant", [], ["k"], name="const_broken", value=ct),
           helper.make_node("Add", ["x", "k"], ["y"], name="add")], [], [X], [Y])
inspect("constant_raw_short", ["const_short.onnx", "const_broken", "raw_data has 5 bytes"],
        save_model(m, "const_short.onnx"))

# ---- external data ----------------------------------------------------------
W_BYTES = f32([4, 3, 3, 3], 7).tobytes()


def ext_model(location, offset=None, length=None, sub="ext"):
    t = TensorProto()
    t.name = "w_ext"
    t.data_type = TensorProto.FLOAT
    t.dims.extend([4, 3, 3, 3])
    t.data_location = TensorProto.EXTERNAL
    for k, v in (("location", location), ("offset", offset), ("length", length)):
        if v is not None:
            e = t.external_data.add()
            e.key = k
            e.value = str(v)
    return model([helper.make_node("Conv", ["x", "w_ext"], ["y"], name="c")], [t], [X], [Y])


# A secret outside the model folders, of exactly the size the weight needs:
# if containment failed, these models would load and `inspect` would succeed.
save_bytes(W_BYTES, "secret.bin")
os.makedirs(path("ext"), exist_ok=True)
with open(path("ext", "weights.bin"), "wb") as f:
    f.write(W_BYTES)
inspect("ext_inside_ok", ["params  108 in 1 tensors"], save_model(ext_model("weights.bin"), "ok.onnx", "ext"), rc=0)
inspect("ext_dotdot", ["dotdot.onnx", "w_ext", "../secret.bin", "outside the model's folder"],
        save_model(ext_model("../secret.bin"), "dotdot.onnx", "ext"))
os.makedirs(path("ext", "sub"), exist_ok=True)
inspect("ext_dotdot_deep", ["dotdot2.onnx", "w_ext", "outside the model's folder"],
        save_model(ext_model("sub/../../secret.bin"), "dotdot2.onnx", "ext"))
inspect("ext_absolute", ["abs.onnx", "w_ext", "/etc/passwd", "absolute path"],
        save_model(ext_model("/etc/passwd"), "abs.onnx", "ext"))
inspect("ext_absolute_secret", ["abs2.onnx", "w_ext", "absolute path"],
        save_model(ext_model(path("secret.bin")), "abs2.onnx", "ext"))
link = path("ext", "link.bin")
if os.path.lexists(link):
    os.remove(link)
os.symlink(path("secret.bin"), link)
inspect("ext_symlink_out", ["symlink.onnx", "w_ext", "link.bin", "outside the model's folder"],
        save_model(ext_model("link.bin"), "symlink.onnx", "ext"))
os.makedirs(path("ext", "d"), exist_ok=True)
dlink = path("ext", "d", "up")
if os.path.lexists(dlink):
    os.remove(dlink)
os.symlink("../..", dlink)
inspect("ext_symlink_dir", ["symlink_dir.onnx", "w_ext", "outside the model's folder"],
        save_model(ext_model("d/up/secret.bin"), "symlink_dir.onnx", "ext"))
inspect("ext_missing_file", ["missing.onnx", "w_ext", "nothere.bin"],
        save_model(ext_model("nothere.bin"), "missing.onnx", "ext"))
inspect("ext_is_folder", ["isdir.onnx", "w_ext", "\"d\""], save_model(ext_model("d"), "isdir.onnx", "ext"))
inspect("ext_no_location", ["noloc.onnx", "w_ext", "without a location"],
        save_model(ext_model(None), "noloc.onnx", "ext"))
inspect("ext_offset_beyond", ["offset.onnx", "w_ext", "too short", "offset 1000"],
        save_model(ext_model("weights.bin", offset=1000), "offset.onnx", "ext"))
inspect("ext_offset_huge", ["offset_huge.onnx", "w_ext", "too short"],
        save_model(ext_model("weights.bin", offset=(1 << 62)), "offset_huge.onnx", "ext"))
inspect("ext_offset_partial", ["offset_part.onnx", "w_ext", "too short", "offset 4"],
        save_model(ext_model("weights.bin", offset=4), "offset_part.onnx", "ext"))
inspect("ext_length_beyond", ["length.onnx", "w_ext", "length 1000000", "does not match"],
        save_model(ext_model("weights.bin", length=1000000), "length.onnx", "ext"))
inspect("ext_offset_overflow", ["offset_ovf.onnx", "w_ext", "not a non-negative integer"],
        save_model(ext_model("weights.bin", offset="99999999999999999999999"), "offset_ovf.onnx", "ext"))
inspect("ext_offset_negative", ["offset_neg.onnx", "w_ext", "not a non-negative integer"],
        save_model(ext_model("weights.bin", offset=-8), "offset_neg.onnx", "ext"))


# ---- deep nesting (raw protobuf bytes) --------------------------------------
def varint(v):
    out = bytearray()
    while True:
        b = v & 0x7F
        v >>= 7
        if v:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def field_bytes(num, payload):
    return varint((num << 3) | 2) + varint(len(payload)) + payload


def field_varint(num, v):
    return varint(num << 3) + varint(v)


def nested_if_model(depth):
    """Graph -> If node -> then_branch graph -> If node ... depth times."""
    g = field_bytes(2, b"leaf")
    for i in range(depth):
        attr = field_bytes(1, b"then_branch") + field_varint(20, 5) + field_bytes(6, g)
        node = field_bytes(1, b"cond") + field_bytes(2, b"o%d" % i) + field_bytes(3, b"if_%d" % i) + \
            field_bytes(4, b"If") + field_bytes(5, attr)
        g = field_bytes(1, node) + field_bytes(2, b"g%d" % i)
    opset = field_bytes(1, b"") + field_varint(2, 13)
    return field_varint(1, 7) + field_bytes(7, g) + field_bytes(8, opset)


inspect("nested_if_10000", ["nested_10000.onnx", "nested more than"],
        save_bytes(nested_if_model(10000), "nested_10000.onnx"))
inspect("nested_if_100", ["nested_100.onnx", "nested more than"], save_bytes(nested_if_model(100), "nested_100.onnx"))
# below the guard: parses, and If is reported as unsupported by name
inspect("nested_if_10", ["nested_10.onnx", "if_9", "If", "does not support"],
        save_bytes(nested_if_model(10), "nested_10.onnx"))
# deep nesting of an unknown length-delimited field is just bytes: nothing to recurse into
inspect("length_past_end", ["len_past_end.onnx", "not an ONNX model"],
        save_bytes(field_varint(1, 7) + varint((7 << 3) | 2) + varint(1 << 40) + b"abc", "len_past_end.onnx"))
inspect("varint_too_long", ["varint_long.onnx", "not an ONNX model"],
        save_bytes(b"\x08" + b"\xff" * 20, "varint_long.onnx"))

# ---- graph inputs --------------------------------------------------------------
m = model([helper.make_node("Relu", ["xh"], ["y"], name="r")], [], [vi("xh", [1, 1 << 40, 1 << 40])], [Y])
inspect("huge_input_dim_overflow", ["huge_in.onnx", "xh", "overflow"], save_model(m, "huge_in.onnx"))
m = model([helper.make_node("Relu", ["xh"], ["y"], name="r")], [], [vi("xh", [1, 1 << 62])], [Y])
inspect("huge_input_dim", ["huge_in2.onnx", "xh", "overflow"], save_model(m, "huge_in2.onnx"))
# fits the element limit but not any machine: 2^39 floats = 2 TiB
m = model([helper.make_node("Relu", ["xh"], ["y"], name="r")], [], [vi("xh", [1, 1 << 20, 1 << 19])], [Y])
p = save_model(m, "huge_in3.onnx")
# `run` without --input: the session plans and allocates before it asks for values
run("huge_input_alloc", ["huge_in3.onnx", "memory"], p, [])
# the same through an intermediate: Expand to 2^39 elements
shp = numpy_helper.from_array(np.array([1, 1 << 20, 1 << 19], dtype=np.int64), "shp")
m = model([helper.make_node("Expand", ["x1", "shp"], ["y"], name="blow_up")], [shp], [vi("x1", [1, 1, 1])], [Y])
run("huge_intermediate_alloc", ["huge_mid.onnx", "memory"], save_model(m, "huge_mid.onnx"),
    [save_pb(np.zeros([1, 1, 1], np.float32), "tiny.pb")])
m = model([helper.make_node("Relu", ["xn"], ["y"], name="r")], [], [vi("xn", [1, -5])], [Y])
inspect("negative_input_dim", ["neg_in.onnx", "xn", "negative dim"], save_model(m, "neg_in.onnx"))
m = model([helper.make_node("Relu", ["xs"], ["y"], name="r")], [], [vi("xs", ["N", "C", 8])], [Y])
inspect("symbolic_non_batch", ["sym_in.onnx", "xs", "symbolic dim \"C\""], save_model(m, "sym_in.onnx"))
m = model([helper.make_node("Relu", ["xr"], ["y"], name="r")], [], [vi("xr", [1] * 9)], [Y])
inspect("input_rank_9", ["rank9_in.onnx", "xr", "rank 9"], save_model(m, "rank9_in.onnx"))
m = model([helper.make_node("Identity", ["xt"], ["y"], name="r")], [], [vi("xt", [2], TensorProto.STRING)], [Y])
inspect("string_input", ["str_in.onnx", "xt", "element type 8"], save_model(m, "str_in.onnx"))

# ---- run: input files that do not fit -----------------------------------------------
run("run_wrong_shape", ["base.onnx", "\"x\"", "axis 2", "8", "5"], base_path,
    [save_pb(f32([1, 3, 5, 5]), "shape_1x3x5x5.pb")])
run("run_wrong_rank", ["base.onnx", "\"x\"", "rank 4", "rank 2"], base_path, [save_pb(f32([3, 64]), "rank2.pb")])
run("run_wrong_dtype", ["base.onnx", "\"x\"", "float32", "int64"], base_path,
    [save_pb(np.zeros([1, 3, 8, 8], np.int64), "int64_input.pb")])
run("run_too_many_inputs", ["base.onnx", "2 inputs", "takes 1"], base_path, [good_in, good_in])
run("run_input_garbage", ["garbage.pb", "TensorProto"], base_path, [save_bytes(b"\xff\xff\xff\xff\xff", "garbage.pb")])
run("run_input_missing", ["no_such_input.pb", "cannot open"], base_path, [path("no_such_input.pb")])
t = raw_tensor("x", [1, 3, 8, 8], TensorProto.FLOAT, b"\0" * 12)
run("run_input_short", ["short_input.pb", "raw_data has 12 bytes"], base_path,
    [save_bytes(t.SerializeToString(), "short_input.pb")])
t = raw_tensor("x", [1 << 40, 1 << 40], TensorProto.FLOAT, b"")
run("run_input_overflow", ["ovf_input.pb", "overflow"], base_path, [save_bytes(t.SerializeToString(), "ovf_input.pb")])
t = raw_tensor("x", [1, 3, 8, 8], TensorProto.FLOAT, b"")
t.data_location = TensorProto.EXTERNAL
e = t.external_data.add()
e.key, e.value = "location", "../secret.bin"
run("run_input_external", ["ext_input.pb", "external data"], base_path,
    [save_bytes(t.SerializeToString(), "ext_input.pb")])

# ---- data errors in kernels: at constant folding and at run time ----------------------
data = numpy_helper.from_array(np.ones([5, 3], np.float32), "data")
m = model([helper.make_node("Gather", ["data", "idx"], ["y"], name="gather_oob", axis=0)], [data],
          [vi("idx", [2], TensorProto.INT64)], [Y])
run("gather_index_folded", ["gather_fold.onnx", "gather_oob", "index 7", "out of range"],
    save_model(m, "gather_fold.onnx"), [save_pb(np.array([1, 7], np.int64), "idx_1_7.pb")])
idx = numpy_helper.from_array(np.array([1, -9], np.int64), "idx")
m = model([helper.make_node("Gather", ["d", "idx"], ["y"], name="gather_oob_rt", axis=0)], [idx],
          [vi("d", [5, 3])], [Y])
run("gather_index_runtime", ["gather_rt.onnx", "gather_oob_rt", "-9", "out of range"],
    save_model(m, "gather_rt.onnx"), [save_pb(np.ones([5, 3], np.float32), "d_5x3.pb")])
ind = numpy_helper.from_array(np.array([[9]], np.int64), "ind")
m = model([helper.make_node("ScatterND", ["d", "ind", "upd"], ["y"], name="scatter_oob")], [ind],
          [vi("d", [5, 3]), vi("upd", [1, 3])], [Y])
run("scatter_nd_index", ["scatter.onnx", "scatter_oob", "index 9", "out of range"], save_model(m, "scatter.onnx"),
    [save_pb(np.ones([5, 3], np.float32), "d_5x3.pb"), save_pb(np.ones([1, 3], np.float32), "upd_1x3.pb")])

# ---- command line -------------------------------------------------------------------
case("cli_unknown_flag", ["unknown option", "--bogus"], "run", base_path, "--bogus", "--output-dir", path("o"))
case("cli_unknown_command", ["unknown command", "frobnicate"], "frobnicate", base_path)
case("cli_no_command", ["usage"])
case("cli_no_model", ["needs a model"], "inspect")
case("cli_missing_value", ["--input", "needs a value"], "run", base_path, "--input")
case("cli_bad_batch", ["bad batch size", "zero"], "inspect", base_path, "-b", "zero")
case("cli_negative_batch", ["bad batch size", "-3"], "inspect", base_path, "-b", "-3")
case("cli_bad_threads", ["bad thread count"], "run", base_path, "--threads", "0", "--output-dir", path("o"))
case("cli_no_output_dir", ["--output-dir"], "run", base_path, "--input", good_in)
case("cli_bad_device", ["unknown device", "tpu"], "run", base_path, "--input", good_in, "--device", "tpu",
     "--output-dir", path("o"))
case("cli_two_models", ["unexpected argument"], "inspect", base_path, base_path)

with open(path("cases.tsv"), "w") as f:
    f.write("\n".join(cases) + "\n")
print("%d cases written to %s" % (len(cases), path("cases.tsv")))
