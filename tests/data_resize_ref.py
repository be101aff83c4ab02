#!/usr/bin/python3
"""Reference values for tests/test_data.c, computed by PyTorch (Debian's python3-torch).

For each case it prints a header line and the expected floats, one per line:

    resize IH IW OH OW
        torch.nn.functional.interpolate(src, size=(OH, OW), mode='bilinear',
        align_corners=False, antialias=False) of the float image src below,
        as channel 0 of a 3-channel NCHW tensor: PyTorch runs a 1-channel tensor
        through its channels-last kernel, whose rounding differs in the last bit
    pipeline IH IW C OH OW M0 M1 M2 S0 S1 S2
        the loader's adaptation of the uint8 gray image src (data.h):
        channels 1 -> C, resize as above, x / 255, (x - mean) / std

src[y, x] = (37 * (y * IW + x) + 11) % 256, the formula test_data.c uses too.
"""
import torch
import torch.nn.functional as F

RESIZE = [(5, 7, 3, 11), (7, 9, 4, 3), (4, 4, 8, 8), (13, 17, 32, 40), (1, 1, 3, 2), (6, 1, 2, 3),
          (28, 28, 224, 224), (30, 40, 7, 5)]
PIPELINE = [(5, 7, 3, 3, 11, (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)),
            (28, 28, 1, 32, 32, (0.2860, 0, 0), (0.3530, 1, 1)),
            (9, 6, 3, 9, 6, (0.5, 0.5, 0.5), (0.5, 0.5, 0.5))]


def src(ih, iw):
    v = [(37 * i + 11) % 256 for i in range(ih * iw)]
    return torch.tensor(v, dtype=torch.float32).reshape(1, 1, ih, iw)


def emit(t):
    for v in t.flatten().tolist():
        print(repr(v))


def main():
    torch.set_num_threads(1)
    for ih, iw, oh, ow in RESIZE:
        print("resize", ih, iw, oh, ow)
        x = src(ih, iw).repeat(1, 3, 1, 1)
        emit(F.interpolate(x, size=(oh, ow), mode="bilinear", align_corners=False, antialias=False)[:, :1])
    for ih, iw, c, oh, ow, mean, std in PIPELINE:
        print("pipeline", ih, iw, c, oh, ow, *mean, *std)
        x = src(ih, iw).repeat(1, c, 1, 1)
        x = F.interpolate(x, size=(oh, ow), mode="bilinear", align_corners=False, antialias=False)
        x = x / 255
        m = torch.tensor(mean[:c], dtype=torch.float32).reshape(1, c, 1, 1)
        s = torch.tensor(std[:c], dtype=torch.float32).reshape(1, c, 1, 1)
        emit((x - m) / s)


if __name__ == "__main__":
    main()
