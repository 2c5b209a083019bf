#!/usr/bin/python3
"""PyTorch's figure for examples/char_austen.mjs: the same character LSTM, trained
on the same data in the same order from the same initial weights, for the same
number of steps; writes examples/data/austen_torch.json (config, held-out bits
per character before and after training, the loss every 25 steps).

    /usr/bin/python3 examples/data/austen_torch.py     # Debian's python3-torch (1.13), CPU

The protocol, which examples/char_austen.mjs follows line by line:
  text   examples/data/persuasion.txt (bash examples/data/make_austen.sh, run
         from here when the file is missing); the
         held-out part is the last chapter, from the last line that starts with
         "Chapter <n>" to the end; everything before it is training text.
  vocab  the sorted distinct characters of the whole text; id = index in it.
  model  Embedding(V, E) -> LSTM(E, H, batch_first) -> Linear(H, V), logits.
  init   every parameter filled, in state-dict order (embedding.weight,
         weight_ih_l0, weight_hh_l0, bias_ih_l0, bias_hh_l0, fc.weight, fc.bias),
         row-major, with uniform(-a, a) from one 32-bit LCG seeded `init_seed`:
         s = (1664525 s + 1013904223) mod 2^32, u = s / 2^32, value = (2u - 1) a;
         a = 1 for the embedding, 1/sqrt(H) for the rest (PyTorch's own bound).
  data   step k takes B windows; window b starts at o = floor(u (N - T)) for the
         next u of a second LCG seeded `data_seed` (N = training characters);
         inputs text[o : o+T], targets text[o+1 : o+T+1]; every window starts
         from a zero state.
  step   mean softmax cross entropy over the B*T targets, backward, global
         gradient norm clipped to `clip`, Adam(lr, betas (0.9, 0.999), eps 1e-8).
  eval   the held-out chapter cut into consecutive chunks of `eval_len` + 1
         characters (the tail that does not fill one is dropped), each chunk
         from a zero state; bits per character = mean cross entropy / ln 2 over
         the eval_len predictions of every chunk.
"""
import json
import math
import os
import re
import subprocess
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
CONFIG = {
    "embed": 16,
    "hidden": 64,
    "seq_len": 32,
    "batch": 16,
    "steps": 250,
    "lr": 0.01,
    "clip": 1.0,
    "init_seed": 1234,
    "data_seed": 42,
    "eval_len": 256,
}


def lcg(seed):
    s = seed % 2**32
    while True:
        s = (1664525 * s + 1013904223) % 2**32
        yield s / 2**32


def load():
    path = os.path.join(HERE, "persuasion.txt")
    if not os.path.exists(path):  # committed; remade from Debian's r-cran-janeaustenr when absent
        subprocess.run(["bash", os.path.join(HERE, "make_austen.sh")], check=True)
    with open(path, encoding="utf-8") as f:
        text = f.read()
    cut = [m.start() for m in re.finditer(r"^Chapter \d+", text, re.M)][-1]
    vocab = sorted(set(text))
    return text, cut, vocab


class CharLSTM(nn.Module):
    def __init__(self, V, E, H):
        super().__init__()
        self.embedding = nn.Embedding(V, E)
        self.lstm = nn.LSTM(E, H, batch_first=True)
        self.fc = nn.Linear(H, V)

    def forward(self, ids):
        out, _ = self.lstm(self.embedding(ids))
        return self.fc(out)


def init_weights(model, H, seed):
    u = lcg(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():
            a = 1.0 if name.startswith("embedding") else 1.0 / math.sqrt(H)
            vals = [(2 * next(u) - 1) * a for _ in range(p.numel())]
            p.copy_(torch.tensor(vals, dtype=torch.float64).reshape(p.shape).to(p.dtype))


def held_out_bpc(model, ids, L):
    n = (len(ids) - 1) // L
    x = torch.tensor([ids[k * L : k * L + L] for k in range(n)])
    y = torch.tensor([ids[k * L + 1 : k * L + L + 1] for k in range(n)])
    with torch.no_grad():
        logits = model(x)
        ce = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), y.reshape(-1))
    return ce.item() / math.log(2), n * L


def main():
    torch.set_num_threads(2)
    torch.manual_seed(0)  # nothing random is left to torch; set anyway
    c = CONFIG
    text, cut, vocab = load()
    index = {ch: i for i, ch in enumerate(vocab)}
    ids = [index[ch] for ch in text]
    train, test = ids[:cut], ids[cut:]
    V, E, H, T, B = len(vocab), c["embed"], c["hidden"], c["seq_len"], c["batch"]

    model = CharLSTM(V, E, H)
    init_weights(model, H, c["init_seed"])
    bpc0, n_eval = held_out_bpc(model, test, c["eval_len"])
    opt = torch.optim.Adam(model.parameters(), lr=c["lr"])
    u = lcg(c["data_seed"])
    N = len(train)
    curve = []
    t0 = time.time()
    for step in range(1, c["steps"] + 1):
        starts = [math.floor(next(u) * (N - T)) for _ in range(B)]
        x = torch.tensor([train[o : o + T] for o in starts])
        y = torch.tensor([train[o + 1 : o + T + 1] for o in starts])
        logits = model(x)
        loss = F.cross_entropy(logits.reshape(-1, V), y.reshape(-1))
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), c["clip"])
        opt.step()
        if step == 1 or step % 25 == 0:
            curve.append([step, round(loss.item(), 6)])
    seconds = time.time() - t0
    bpc, _ = held_out_bpc(model, test, c["eval_len"])
    out = {
        "source": "examples/data/austen_torch.py, torch %s, CPU, float32" % torch.__version__,
        "config": c,
        "vocab_size": V,
        "train_chars": N,
        "held_out_chars": len(test),
        "held_out_predictions": n_eval,
        "bpc_init": round(bpc0, 6),
        "bpc": round(bpc, 6),
        "train_loss": curve,
        "train_seconds": round(seconds, 2),
    }
    with open(os.path.join(HERE, "austen_torch.json"), "w") as f:
        json.dump(out, f, indent=1)
        f.write("\n")
    print(json.dumps({k: out[k] for k in ("bpc_init", "bpc", "train_seconds")}))


if __name__ == "__main__":
    main()
