#!/usr/bin/env python3
"""PyTorch's half of the GPT side by side: nanoGPT's model and training loop, as graft-gpt
runs them, on the same corpus and config.

    python3 nanogpt_torch.py --out DIR [--config cpu|gpu] [--data FILE] [--iters N]
                             [--eval-iters N]

The model is nanoGPT's model.py (bias = False, weight tying, normal(0, 0.02) initialisation,
residual projections at 0.02 / sqrt(2 n_layer), F.scaled_dot_product_attention with
is_causal), the loop its train.py (AdamW betas (0.9, 0.99), weight decay 0.1 on the
parameters of two or more dims, linear warmup over 100 iterations then a cosine to 1e-4 at
the last, gradient clipping at 1.0, estimate_loss every 250 iterations), and the data
graft-gpt's: the text decoded as UTF-8, the characters sorted into the vocabulary, the first
90% for training. It writes DIR/metrics.csv in graft-gpt's format
(iter,wall_time_s,lr,train_loss,val_loss,ms_per_iter), so gpt_versus.py reads both alike.
Threads: torch.set_num_threads(OMP_NUM_THREADS, else the cores), one inter-op thread.
Needs torch and numpy (PyTorch is a benchmark dependency only).
"""
import argparse
import math
import os
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

CONFIGS = {  # graft-gpt's (examples/gpt_model.cpp, examples/gpt_options.cpp)
    "cpu": dict(n_layer=4, n_head=4, n_embd=128, block_size=64, dropout=0.0,
                batch_size=12, iters=2000, eval_iters=20),
    "gpu": dict(n_layer=6, n_head=6, n_embd=384, block_size=256, dropout=0.2,
                batch_size=64, iters=5000, eval_iters=200),
}
FORTUNES = "/usr/share/games/fortunes"


def load_text(path):
    if path:
        with open(path, encoding="utf-8") as f:
            return f.read()
    names = sorted(n for n in os.listdir(FORTUNES)
                   if not n.endswith(".dat") and not os.path.islink(os.path.join(FORTUNES, n))
                   and os.path.isfile(os.path.join(FORTUNES, n)))
    parts = []
    for n in names:
        with open(os.path.join(FORTUNES, n), encoding="utf-8") as f:
            parts.append(f.read())
    return "".join(parts)


class CausalSelfAttention(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c_attn = nn.Linear(c["n_embd"], 3 * c["n_embd"], bias=False)
        self.c_proj = nn.Linear(c["n_embd"], c["n_embd"], bias=False)
        self.resid_dropout = nn.Dropout(c["dropout"])
        self.n_head, self.dropout = c["n_head"], c["dropout"]

    def forward(self, x):
        B, T, C = x.size()
        q, k, v = self.c_attn(x).split(C, dim=2)
        q, k, v = (t.view(B, T, self.n_head, C // self.n_head).transpose(1, 2) for t in (q, k, v))
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=None, is_causal=True,
                                           dropout_p=self.dropout if self.training else 0)
        return self.resid_dropout(self.c_proj(y.transpose(1, 2).contiguous().view(B, T, C)))


class Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.ln_1 = nn.LayerNorm(c["n_embd"], bias=False)
        self.attn = CausalSelfAttention(c)
        self.ln_2 = nn.LayerNorm(c["n_embd"], bias=False)
        self.c_fc = nn.Linear(c["n_embd"], 4 * c["n_embd"], bias=False)
        self.c_proj = nn.Linear(4 * c["n_embd"], c["n_embd"], bias=False)
        self.dropout = nn.Dropout(c["dropout"])

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.dropout(self.c_proj(F.gelu(self.c_fc(self.ln_2(x)))))


class GPT(nn.Module):
    def __init__(self, c, vocab_size):
        super().__init__()
        self.wte = nn.Embedding(vocab_size, c["n_embd"])
        self.wpe = nn.Embedding(c["block_size"], c["n_embd"])
        self.drop = nn.Dropout(c["dropout"])
        self.h = nn.ModuleList(Block(c) for _ in range(c["n_layer"]))
        self.ln_f = nn.LayerNorm(c["n_embd"], bias=False)
        self.lm_head = nn.Linear(c["n_embd"], vocab_size, bias=False)
        self.wte.weight = self.lm_head.weight  # weight tying
        for m in self.modules():
            if isinstance(m, (nn.Linear, nn.Embedding)):
                nn.init.normal_(m.weight, 0.0, 0.02)
        for name, p in self.named_parameters():
            if name.endswith("c_proj.weight"):
                nn.init.normal_(p, 0.0, 0.02 / math.sqrt(2 * c["n_layer"]))

    def forward(self, idx, targets):
        pos = torch.arange(idx.size(1), device=idx.device)
        x = self.drop(self.wte(idx) + self.wpe(pos))
        for block in self.h:
            x = block(x)
        logits = self.lm_head(self.ln_f(x))
        return F.cross_entropy(logits.view(-1, logits.size(-1)), targets.view(-1))


def make_optimizer(model, lr):
    """nanoGPT's configure_optimizers: AdamW (0.9, 0.99), decay 0.1 on the parameters of two
    or more dims only."""
    params = list(model.parameters())
    groups = [{"params": [p for p in params if p.dim() >= 2], "weight_decay": 0.1},
              {"params": [p for p in params if p.dim() < 2], "weight_decay": 0.0}]
    return torch.optim.AdamW(groups, lr=lr, betas=(0.9, 0.99))


def get_lr(it, lr, min_lr, warmup, decay_iters):  # nanoGPT's, as graft's gpt_lr
    if it < warmup:
        return lr * (it + 1) / (warmup + 1)
    if it > decay_iters:
        return min_lr
    ratio = (it - warmup) / max(1, decay_iters - warmup)
    return min_lr + 0.5 * (1.0 + math.cos(math.pi * ratio)) * (lr - min_lr)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True)
    ap.add_argument("--config", default="cpu", choices=CONFIGS)
    ap.add_argument("--data", default="")
    ap.add_argument("--iters", type=int, default=0)
    ap.add_argument("--device", default="cpu")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--eval-iters", type=int, default=0, help="default: the config's")
    args = ap.parse_args()
    c = CONFIGS[args.config]
    iters = args.iters or c["iters"]
    eval_iters = args.eval_iters or c["eval_iters"]
    torch.set_num_threads(int(os.environ.get("OMP_NUM_THREADS", os.cpu_count())))
    torch.set_num_interop_threads(1)
    torch.manual_seed(args.seed)

    text = load_text(args.data)
    chars = sorted(set(text))
    index = {ch: i for i, ch in enumerate(chars)}
    data = np.array([index[ch] for ch in text], dtype=np.int64)
    n = int(0.9 * len(data))
    splits = {"train": torch.from_numpy(data[:n]), "val": torch.from_numpy(data[n:])}
    T, B = c["block_size"], c["batch_size"]

    def get_batch(split):
        d = splits[split]
        ix = torch.randint(len(d) - T, (B,))
        x = torch.stack([d[i:i + T] for i in ix])
        y = torch.stack([d[i + 1:i + 1 + T] for i in ix])
        return x.to(args.device), y.to(args.device)

    model = GPT(c, len(chars)).to(args.device)
    optimizer = make_optimizer(model, 1e-3)

    @torch.no_grad()
    def estimate_loss():
        model.eval()
        out = {}
        for split in ("train", "val"):
            out[split] = sum(model(*get_batch(split)).item()
                             for _ in range(eval_iters)) / eval_iters
        model.train()
        return out

    os.makedirs(args.out, exist_ok=True)
    rows = ["iter,wall_time_s,lr,train_loss,val_loss,ms_per_iter"]
    start = time.perf_counter()
    train_seconds, train_iters, lr = 0.0, 0, 0.0
    for it in range(iters + 1):
        if it % 250 == 0 or it == iters:
            losses = estimate_loss()
            ms = 1e3 * train_seconds / train_iters if train_iters else float("nan")
            rows.append(f"{it},{time.perf_counter() - start:.2f},{lr:.6g},"
                        f"{losses['train']:.5f},{losses['val']:.5f},{ms:.2f}")
            print(f"iter {it}: train loss {losses['train']:.4f}, val loss {losses['val']:.4f}, "
                  f"{ms:.2f} ms/iter", flush=True)
            train_seconds, train_iters = 0.0, 0
        if it == iters:
            break
        t0 = time.perf_counter()
        lr = get_lr(it, 1e-3, 1e-4, 100, iters)
        for g in optimizer.param_groups:
            g["lr"] = lr
        loss = model(*get_batch("train"))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        loss.item()
        train_seconds += time.perf_counter() - t0
        train_iters += 1
    with open(os.path.join(args.out, "metrics.csv"), "w") as f:
        f.write("\n".join(rows) + "\n")


if __name__ == "__main__":
    main()
