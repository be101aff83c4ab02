#!/usr/bin/python3
"""Makes the ImageFolder trees tests/test_data.c reads (PIL, Debian's python3-pil).

    make_imagefolder.py tree OUT     the test trees: OUT/good and the broken ones below
    make_imagefolder.py bench OUT N SIZE
                                     N RGB JPEGs of SIZE x SIZE in OUT/train/<10 classes>
                                     (and a tenth as many in OUT/val), for the decode benchmark
    make_imagefolder.py fmnist IDX_DIR OUT N
                                     the first N Fashion-MNIST training images (and N/10 test
                                     images) as 28 x 28 grey JPEGs (quality 95) in OUT/train/<label>
                                     and OUT/val/<label>, for the loader benchmark (docs/input-pipeline.md)

Pixel values follow a formula that test_data.c computes too, so PNGs are checked
exactly and JPEGs to within their loss:
    v(k, j, y, x, c) = 20 + 40 k + j + 2 y + 2 x + 15 c    (class k, file j, channel c)
Gray images are channel 0 of that.
"""
import os
import random
import shutil
import sys

from PIL import Image


def pixel(k, j, y, x, c):
    return 20 + 40 * k + j + 2 * y + 2 * x + 15 * c


def image(k, j, h, w, mode):
    channels = {"L": 1, "RGB": 3, "RGBA": 4}[mode]
    data = []
    for y in range(h):
        for x in range(w):
            px = [pixel(k, j, y, x, c) for c in range(min(channels, 3))]
            if mode == "RGBA":
                px.append((x * 37 + y * 11) % 256)  # alpha varies; it must be dropped, not blended
            data.append(tuple(px) if channels > 1 else px[0])
    im = Image.new(mode, (w, h))
    im.putdata(data)
    return im


def save(im, path):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    if path.lower().endswith((".jpg", ".jpeg")):
        im.save(path, format="JPEG", quality=95)
    else:
        im.save(path, format="PNG")


def truncate(path, keep):
    with open(path, "rb") as f:
        data = f.read()
    with open(path, "wb") as f:
        f.write(data[: int(len(data) * keep)])


def make_tree(out):
    shutil.rmtree(out, ignore_errors=True)
    classes = ["a_cat", "b_dog", "c_eel"]

    # good/: train has every class (6 files of varied size, mode and format),
    # val lacks b_dog (allowed) and has images of one size, 16 x 20
    g = os.path.join(out, "good")
    for k, name in enumerate(classes):
        for j in range(6):
            h, w = 16 + (j % 3) * 4, 20 - (j % 2) * 4
            mode = "L" if j % 3 == 0 else "RGB"
            ext = ".png" if j % 2 == 0 else (".JPEG" if j == 5 else ".jpg")
            save(image(k, j, h, w, mode), os.path.join(g, "train", name, "%03d%s" % (j, ext)))
        with open(os.path.join(g, "train", name, "notes.txt"), "w") as f:
            f.write("not an image, ignored by extension\n")
        with open(os.path.join(g, "train", name, ".hidden.jpg"), "w") as f:
            f.write("hidden, ignored\n")
    # val: per kept class, 000.png gray, 001.png RGB, 002.png RGBA, 003.jpg RGB, 004.jpg gray
    for k in (0, 2):
        for j, (mode, ext) in enumerate([("L", ".png"), ("RGB", ".png"), ("RGBA", ".png"),
                                         ("RGB", ".jpg"), ("L", ".jpg")]):
            save(image(k, j, 16, 20, mode), os.path.join(g, "val", classes[k], "%03d%s" % (j, ext)))

    # bad_files/: unreadable images in val (and a good train)
    b = os.path.join(out, "bad_files")
    for k in range(2):
        for j in range(2):
            save(image(k, j, 16, 20, "RGB"), os.path.join(b, "train", classes[k], "%03d.png" % j))
    # a JPEG cut inside its scan data (the one in val/ is cut inside its header)
    noise = Image.effect_noise((64, 64), 60).convert("RGB")
    save(noise, os.path.join(b, "train", classes[0], "002.jpg"))
    truncate(os.path.join(b, "train", classes[0], "002.jpg"), 0.7)
    v = os.path.join(b, "val")
    save(image(0, 0, 16, 20, "RGB"), os.path.join(v, "a_cat", "000.png"))
    save(image(0, 1, 16, 20, "RGB"), os.path.join(v, "a_cat", "001.jpg"))
    truncate(os.path.join(v, "a_cat", "001.jpg"), 0.5)
    save(image(0, 2, 16, 20, "RGB"), os.path.join(v, "a_cat", "002.png"))
    os.makedirs(os.path.join(v, "b_dog"))
    with open(os.path.join(v, "b_dog", "000.png"), "w") as f:
        f.write("this is text, not a PNG\n")
    save(image(1, 1, 16, 20, "RGB"), os.path.join(v, "b_dog", "001.png"))
    save(image(1, 2, 16, 20, "RGB"), os.path.join(v, "b_dog", "002.png"))
    truncate(os.path.join(v, "b_dog", "002.png"), 0.6)

    # bad_empty/: an empty class folder in train
    e = os.path.join(out, "bad_empty")
    save(image(0, 0, 8, 8, "RGB"), os.path.join(e, "train", "a_cat", "000.png"))
    os.makedirs(os.path.join(e, "train", "b_dog"))
    with open(os.path.join(e, "train", "b_dog", "readme.txt"), "w") as f:
        f.write("no images here\n")

    # bad_valclass/: val has a class train lacks
    c = os.path.join(out, "bad_valclass")
    for k in range(2):
        save(image(k, 0, 8, 8, "RGB"), os.path.join(c, "train", classes[k], "000.png"))
    save(image(0, 0, 8, 8, "RGB"), os.path.join(c, "val", "a_cat", "000.png"))
    save(image(0, 0, 8, 8, "RGB"), os.path.join(c, "val", "zz_yak", "000.png"))

    # bad_noclass/: train/ without class folders; not_data/: neither layout
    os.makedirs(os.path.join(out, "bad_noclass", "train"))
    os.makedirs(os.path.join(out, "not_data"))
    with open(os.path.join(out, "not_data", "readme.txt"), "w") as f:
        f.write("nothing\n")


def make_bench(out, n, size):
    shutil.rmtree(out, ignore_errors=True)
    rng = random.Random(0)
    for split, count in (("train", n), ("val", max(n // 10, 10))):
        for i in range(count):
            k = i % 10
            # smooth content plus noise: compresses like a photo, not like a flat field
            im = Image.effect_noise((size, size), 40).convert("RGB")
            im = Image.blend(im, Image.linear_gradient("L").resize((size, size)).convert("RGB"), 0.5)
            im = im.rotate(rng.uniform(0, 360))
            save(im, os.path.join(out, split, "class%02d" % k, "%05d.jpg" % i))


def read_idx(path):
    import gzip
    import struct
    with (gzip.open if path.endswith(".gz") else open)(path, "rb") as f:
        data = f.read()
    magic, n = struct.unpack(">II", data[:8])
    if magic == 0x803:
        h, w = struct.unpack(">II", data[8:16])
        return [data[16 + i * h * w: 16 + (i + 1) * h * w] for i in range(n)], (h, w)
    return list(data[8:8 + n]), None


def make_fmnist(src, out, n):
    shutil.rmtree(out, ignore_errors=True)
    for split, prefix, count in (("train", "train", n), ("val", "t10k", max(n // 10, 10))):
        def find(kind, rank):
            for form in ("%s-%s-idx%d-ubyte", "%s-%s-idx%d-ubyte.gz"):
                p = os.path.join(src, form % (prefix, kind, rank))
                if os.path.exists(p):
                    return p
            sys.exit("no %s-%s in %s" % (prefix, kind, src))
        images, (h, w) = read_idx(find("images", 3))
        labels, _ = read_idx(find("labels", 1))
        for i in range(min(count, len(images))):
            im = Image.frombytes("L", (w, h), images[i])
            save(im, os.path.join(out, split, "%d" % labels[i], "%05d.jpg" % i))


def main():
    if len(sys.argv) == 3 and sys.argv[1] == "tree":
        make_tree(sys.argv[2])
    elif len(sys.argv) == 5 and sys.argv[1] == "fmnist":
        make_fmnist(sys.argv[2], sys.argv[3], int(sys.argv[4]))
    elif len(sys.argv) == 5 and sys.argv[1] == "bench":
        make_bench(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
