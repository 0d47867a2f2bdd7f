"""The project's seed article, step by step, with graft in place of PyTorch.

NumPy prepares the data, graft runs the model, NumPy takes the result back, and the two
share memory instead of copying it: "PyTorch is NumPy on the GPU plus autograd".

    PYTHONPATH=build/python python3 examples/python/seed.py
"""
import numpy as np

import graft

device = "cuda" if graft.cuda.is_available() else "cpu"

# 4. Zero-copy: a tensor made with from_numpy is a second window onto the array's memory.
x_np = np.zeros((2, 2))
x_tensor = graft.from_numpy(x_np)
x_tensor[0, 0] = 1
print(x_np)  # [[1. 0.] [0. 0.]]: the array changed too
assert x_np[0, 0] == 1
x_np2 = x_tensor.numpy()  # and back, again without a copy
assert np.shares_memory(x_np, x_np2)

# 5. The whole flow. 1: an "image" prepared with NumPy, (H, W, C) uint8 -> (C, H, W) float.
rng = np.random.default_rng(0)
img = rng.integers(0, 256, size=(28, 28, 1), dtype=np.uint8)
img = img.astype(np.float32) / 255.0
img = np.transpose(img, (2, 0, 1))  # (C, H, W): a strided view, which graft views as it is

# 2. NumPy -> graft (shared memory), a batch dim, then the device.
x = graft.from_numpy(img)
assert x.stride() == (1, 28, 1) and np.shares_memory(x.numpy(), img)
x = x.unsqueeze(0)  # (1, 1, 28, 28)
x = x.to(device)

# 3. Inference without recording a graph.
graft.manual_seed(0)
model = graft.nn.Sequential(
    graft.nn.Conv2d(1, 8, 3, padding=1), graft.nn.ReLU(), graft.nn.MaxPool2d(2),
    graft.nn.Flatten(), graft.nn.Linear(8 * 14 * 14, 10))
model.to(device)
model.eval()
with graft.no_grad():
    logits = model(x)
    probs = graft.softmax(logits, 1)
assert not probs.requires_grad

# 4. Back to NumPy for post-processing. A CUDA tensor must come to the host first: the
# error says so, as PyTorch's does.
if probs.is_cuda:
    try:
        probs.numpy()
    except TypeError as error:
        print("as the article warns:", error)
probs_np = probs.cpu().numpy()
pred_class = np.argmax(probs_np, axis=1)[0]
print(f"probabilities sum to {probs_np.sum():.4f}; predicted class {pred_class} "
      f"({graft.data.FashionMNIST.classes[pred_class]}) on {device}")
assert abs(probs_np.sum() - 1) < 1e-5 and 0 <= pred_class < 10
