"""Writes the seed corpus (corpus/) and the regression inputs of the already-fixed defects
(regressions/) of graft's fuzz targets; the files are committed, the tests never run Python.

    python3 tests/fuzz/make_seeds.py

Standard library only. The .npy, .npz and safetensors seeds are the golden files of
tests/io/golden (made by NumPy and Python's safetensors), copied; the others are written
byte by byte here, every one small (a fuzzer mutates small inputs fastest). The JPEG seeds
are made by cjpeg (Debian's libjpeg-turbo-progs) from PGM/PPM bytes written here. Rerunning the
script gives byte-identical files (the junk is drawn from a fixed seed). Crashers found by
scripts/fuzz.sh go into regressions/ by hand, not through this script.
"""

import gzip
import io
import json
import pathlib
import random
import shutil
import struct
import subprocess
import zipfile
import zlib

HERE = pathlib.Path(__file__).resolve().parent
GOLDEN = HERE.parent / "io" / "golden"


def write(folder, name, data):
    path = HERE / folder / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def idx(type_code, dims, payload):
    return bytes([0, 0, type_code, len(dims)]) + b"".join(struct.pack(">I", d) for d in dims) + payload


def safetensors(tensors, metadata=None):
    """tensors: name -> (dtype code, shape, raw bytes), laid out in the given order."""
    header, data = {}, b""
    if metadata is not None:
        header["__metadata__"] = metadata
    for name, (dtype, shape, raw) in tensors.items():
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [len(data), len(data) + len(raw)]}
        data += raw
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + data


def zip64_archive(members):
    """members: name -> .npy bytes, stored, in graft's layout (io/zip_writer.cpp): every size
    and offset in ZIP64 fields, and the ZIP64 end records, which NumPy's files lack."""
    out, directory = b"", b""
    for name, data in members.items():
        name = name.encode()
        fixed = struct.pack("<HHHHHIII", 45, 0, 0, 0, 0x21, zlib.crc32(data), 0xFFFFFFFF, 0xFFFFFFFF)
        directory += (struct.pack("<IH", 0x02014B50, 0x32D) + fixed
                      + struct.pack("<HHHHHII", len(name), 28, 0, 0, 0, 0o644 << 16, 0xFFFFFFFF)
                      + name + struct.pack("<HHQQQ", 1, 24, len(data), len(data), len(out)))
        out += (struct.pack("<I", 0x04034B50) + fixed + struct.pack("<HH", len(name), 20) + name
                + struct.pack("<HHQQ", 1, 16, len(data), len(data)) + data)
    end = len(out) + len(directory)
    return (out + directory
            + struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, 0x32D, 45, 0, 0, len(members), len(members),
                          len(directory), len(out))
            + struct.pack("<IIQI", 0x07064B50, 0, end, 1)
            + struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0))


def gzip_fixed(data):
    return gzip.compress(data, mtime=0)


def f32(*values):
    return struct.pack(f"<{len(values)}f", *values)


def png(width, height, bit_depth, colour_type, rows, extra_chunks=()):
    """rows: the raw bytes of each scanline (filter type 0 is prepended here)."""
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))
    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, colour_type, 0, 0, 0)
    idat = zlib.compress(b"".join(b"\0" + row for row in rows), 9)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
            + b"".join(chunk(kind, body) for kind, body in extra_chunks)
            + chunk(b"IDAT", idat) + chunk(b"IEND", b""))


def cjpeg(netpbm, *options):
    return subprocess.run(["cjpeg", *options], input=netpbm, capture_output=True, check=True).stdout


def image_seeds():
    gradient = [bytes((x * 32 + y * 8) % 256 for x in range(8)) for y in range(4)]
    write("corpus/image", "gray8.png", png(8, 4, 8, 0, gradient))
    write("corpus/image", "gray1.png", png(8, 2, 1, 0, [b"\xa5", b"\x5a"]))
    write("corpus/image", "gray16.png", png(2, 2, 16, 0, [b"\x00\x00\xff\xff", b"\x80\x00\x12\x34"]))
    write("corpus/image", "rgb8.png", png(3, 2, 8, 2, [bytes(range(9)), bytes(range(200, 209))]))
    write("corpus/image", "rgba8.png", png(2, 2, 8, 6, [bytes([255, 0, 0, 255, 0, 255, 0, 128]),
                                                        bytes([0, 0, 255, 0, 9, 9, 9, 9])]))
    write("corpus/image", "gray_alpha8.png", png(2, 1, 8, 4, [bytes([200, 255, 100, 50])]))
    write("corpus/image", "palette_trns.png",
          png(4, 1, 2, 3, [b"\x1b"], [(b"PLTE", bytes([0, 0, 0, 255, 0, 0, 0, 255, 0, 9, 9, 255])),
                                        (b"tRNS", bytes([255, 0, 128]))]))
    # A header claiming a 32768 x 32768 image (1 Gpixel) in a few bytes: refused by the
    # pixel limit before any decoding.
    write("corpus/image", "huge_claim.png", png(1 << 15, 1 << 15, 8, 0, []))
    pgm = b"P5 8 4 255\n" + b"".join(gradient)
    ppm = b"P6 4 4 255\n" + bytes((i * 37) % 256 for i in range(48))
    write("corpus/image", "gray.pgm", pgm)
    write("corpus/image", "gray.jpg", cjpeg(pgm, "-quality", "90"))
    write("corpus/image", "rgb_420.jpg", cjpeg(ppm, "-quality", "75", "-sample", "2x2"))
    write("corpus/image", "rgb_progressive.jpg", cjpeg(ppm, "-progressive"))
    write("corpus/image", "rgb_restart.jpg", cjpeg(ppm, "-restart", "1B", "-optimize"))
    # A JPEG cut inside its header, before the frame marker: TurboJPEG's header call
    # succeeds with a 0x0 size, which the reader must turn into an error (it did, with a
    # misleading message, until a unit test caught it; tests/fuzz keeps the input).
    write("regressions/image", "header_cut_before_frame.jpg", cjpeg(pgm, "-quality", "90")[:20])


def main():
    for path in sorted(GOLDEN.glob("*.npy")):
        shutil.copy(path, HERE / "corpus" / "npy" / path.name)
    for path in sorted(GOLDEN.glob("*.safetensors")):
        shutil.copy(path, HERE / "corpus" / "safetensors" / path.name)
    (HERE / "corpus" / "npz").mkdir(exist_ok=True)
    for path in sorted(GOLDEN.glob("*.npz")):
        shutil.copy(path, HERE / "corpus" / "npz" / path.name)
    write("corpus/npz", "zip64.npz", zip64_archive({
        "x.npy": (GOLDEN / "f32_v1.npy").read_bytes(), "scalar.npy": (GOLDEN / "f64_scalar.npy").read_bytes()}))

    # IDX: each element type once, one and three dims, and gzip of one and of two members.
    images = idx(0x08, [2, 2, 3], bytes(range(12)))
    write("corpus/idx", "u8_2x2x3.idx", images)
    write("corpus/idx", "i8_4.idx", idx(0x09, [4], bytes([0, 1, 0x7F, 0x80])))
    write("corpus/idx", "i16_3.idx", idx(0x0B, [3], struct.pack(">3h", -2, 0, 300)))
    write("corpus/idx", "i32_2.idx", idx(0x0C, [2], struct.pack(">2i", -1, 1 << 20)))
    write("corpus/idx", "f32_2x2.idx", idx(0x0D, [2, 2], struct.pack(">4f", 0.5, -1, 2, 3.25)))
    write("corpus/idx", "f64_1.idx", idx(0x0E, [1], struct.pack(">d", 1.5)))
    write("corpus/idx", "u8_2x2x3.idx.gz", gzip_fixed(images))
    write("corpus/idx", "two_members.idx.gz", gzip_fixed(images[:7]) + gzip_fixed(images[7:]))

    # JSON: safetensors headers, and the value kinds the parser knows.
    write("corpus/json", "header.json",
          b'{"__metadata__":{"format":"pt"},"w":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]}}')
    write("corpus/json", "empty_object.json", b"{}")
    write("corpus/json", "nested.json", b' [1, -2, "a\\"b\\\\\\u00e9\\n", {"k": []}, [[]]] ')
    write("corpus/json", "integers.json", b"[0,-9223372036854775808,9223372036854775807]")

    # graft-train's checkpoint: the metadata save_checkpoint writes, a two-parameter model
    # and one optimizer state tensor.
    checkpoint = safetensors(
        {
            "model.0.weight": ("F32", [1, 2], f32(0.25, -0.5)),
            "model.0.bias": ("F32", [1], f32(0.125)),
            "optimizer.state.0.exp_avg": ("F32", [1, 2], f32(0, 1)),
            "optimizer.step": ("I64", [], struct.pack("<q", 3)),
        },
        {"model": "mlp", "optimizer": "adam", "epoch": "1", "step": "3", "seed": "42",
         "normalize_mean": "0.2860", "normalize_std": "0.3530"})
    write("corpus/checkpoint", "tiny.safetensors", checkpoint)
    write("corpus/safetensors", "tiny_checkpoint.safetensors", checkpoint)
    # graft-gpt's: every metadata key save_gpt_checkpoint writes (a vocabulary with a
    # newline and a non-ASCII character), a one-tensor model and an optimizer step.
    gpt = safetensors(
        {
            "model.wte.weight": ("F32", [3, 2], f32(0.5, -1, 0.25, 2, -0.5, 1)),
            "optimizer.step": ("I64", [], struct.pack("<q", 7)),
        },
        {"program": "graft-gpt", "config": "cpu", "vocab_size": "3", "block_size": "4",
         "n_layer": "1", "n_head": "1", "n_embd": "2", "dropout": "0", "bias": "0",
         "vocabulary": "\na\u00e9", "corpus": "", "iter": "7", "wall_time_s": "1.5",
         "seed": "0", "iters": "10", "batch_size": "2", "grad_accum": "1", "lr": "0.001",
         "min_lr": "0.0001", "warmup": "2", "weight_decay": "0.1", "clip_grad_norm": "1",
         "eval_interval": "5", "eval_iters": "1"})
    write("corpus/checkpoint", "tiny_gpt.safetensors", gpt)

    image_seeds()

    # The defects found before these targets were in the repo (all fixed, each with a
    # GoogleTest test next to its reader's other tests):
    # dims whose product overflows int64 once the zero dim is skipped (core/shape.h's
    # checked numel, tests/data/idx_test.cpp);
    write("regressions/idx", "zero_dim_overflow.idx", idx(0x08, [0, 3640655874, 2952986624], b""))
    # gzip junk behind a forged size trailer of 4 GiB, which sized the output buffer before
    # inflate grew it from a guess (the original was 4 MiB; 4 KiB of junk takes the same path);
    junk = random.Random(18).randbytes(4096 - 14)
    write("regressions/idx", "forged_trailer.idx.gz",
          bytes([0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 0, 0xFF]) + junk + b"\xff\xff\xff\xff")
    # a header that is a long array of zeros, a tree 20 times its size before json::Limits
    # (the original was 100 MB; this one only walks the same path);
    zeros = b"[" + b",".join([b"0"] * 2000) + b"]"
    for target in ("safetensors", "checkpoint"):
        write(f"regressions/{target}", "zeros_header.safetensors", struct.pack("<Q", len(zeros)) + zeros)
    write("regressions/json", "zeros.json", zeros)
    # shapes whose element count overflows int64 (checked numel in the loaders).
    write("regressions/safetensors", "numel_overflow.safetensors",
          safetensors({"x": ("F32", [1 << 32, 1 << 32, 1 << 32], b"")}))
    # Not a defect found but the attack the .npz reader's size bound is for: a deflated member
    # of a few bytes claiming 4 GiB, which must be refused before anything is allocated.
    claim = io.BytesIO()
    with zipfile.ZipFile(claim, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(zipfile.ZipInfo("x.npy"), b"\0" * 4096, zipfile.ZIP_DEFLATED)
    claim = bytearray(claim.getvalue())
    central = claim.index(b"PK\x01\x02")
    for at in (22, central + 24):  # the uncompressed size, local and central
        claim[at:at + 4] = struct.pack("<I", 0xFFFFFFF0)
    write("regressions/npz", "size_claim.npz", bytes(claim))
    header = b"{'descr': '<f4', 'fortran_order': False, 'shape': (4294967296, 4294967296, 4294967296), }"
    header += b" " * (-(len(header) + 11) % 64) + b"\n"
    write("regressions/npy", "numel_overflow.npy", b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header)


if __name__ == "__main__":
    main()
