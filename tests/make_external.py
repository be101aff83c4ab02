"""Re-saves an ONNX model with every initializer in an external data file
(the form models over 2 GB must take), for the external-data parity test.

usage: /usr/bin/python3 tests/make_external.py IN.onnx OUT_DIR
writes OUT_DIR/model.onnx and OUT_DIR/model.data
"""
import os
import sys

import onnx

src, out = sys.argv[1], sys.argv[2]
os.makedirs(out, exist_ok=True)
m = onnx.load(src)
onnx.save_model(m, os.path.join(out, "model.onnx"), save_as_external_data=True, all_tensors_to_one_file=True,
                location="model.data", size_threshold=0)
