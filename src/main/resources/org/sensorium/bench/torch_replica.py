# PyTorch-eager peer of `sensorium bench train`: a plain PyTorch replica of Sensorium's pretraining step on the
# shapes the benchmark passes in (one JSON spec): linear patch stems (video tubelets, log-mel or waveform patches,
# IMU windows, motion tubelets: the input arrives already cut into patches), a token embedding for scratch text or a
# linear projection of a frozen tower's sentence vectors, learned positional and modality embeddings, one shared
# pre-norm trunk (fused QKV, GELU MLP, dropout and drop-path where Sensorium has them, final LayerNorm), mean pool, a
# linear head per modality, L2 normalisation, a learnable logit scale clamped at logit_scale_max, symmetric InfoNCE
# over the contrastive pairs, gradient accumulation, global-norm clipping, AdamW.
# Synthetic inputs; no padding; every modality present in every sample (slightly easier than Sensorium's step, which
# cuts patches from the raw layout and masks padded text tokens).
# It exits 3 when its parameter count differs from spec["params"] (Sensorium's count for the same config).
# Derived from ../shared/bench/torch_replica.py (tiny preset, scratch text tower: 4,677,121 parameters).
#   python3 torch_replica.py '{"width": 128, ...}'      (the spec TrainBench writes; see TrainBench.peerSpec)
# Needs torch and, with Debian's python3-torch, libopenblas0-pthread (without OpenBLAS, reference BLAS: ~50x slower).
import os
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # torch's own threads do the parallel work; OpenBLAS's would oversubscribe the cores
import json, math, sys, time, torch, torch.nn as nn, torch.nn.functional as F

s = json.loads(sys.argv[1])
torch.set_num_threads(s["threads"]); torch.manual_seed(0)
D, H, R, E, P, DP = s["width"], s["heads"], s["mlp_ratio"], s["embed"], s["dropout"], s["drop_path"]
MODS = s["modalities"]  # name -> {"tokens": N, "patch": in} | {"tokens": N, "vocab": V} | {"sentence": W}

def drop(x, training):  # as Sensorium's Layers.dropout: no dropout kernel at all when the rate is 0
    return F.dropout(x, P, True) if training and P > 0 else x

def drop_path(x, rate, training):  # DeiT's stochastic depth, per sample
    if not training or rate == 0: return x
    keep = (torch.rand(x.shape[0], 1, 1) >= rate).float() / (1 - rate)
    return x * keep

class Block(nn.Module):
    def __init__(s_, rate):
        super().__init__(); s_.n1 = nn.LayerNorm(D); s_.qkv = nn.Linear(D, 3 * D); s_.o = nn.Linear(D, D)
        s_.n2 = nn.LayerNorm(D); s_.f1 = nn.Linear(D, R * D); s_.f2 = nn.Linear(R * D, D); s_.rate = rate
    def forward(s_, x):                                                               # (B, N, D)
        b, n, _ = x.shape
        q, k, v = s_.qkv(s_.n1(x)).view(b, n, 3, H, D // H).permute(2, 0, 3, 1, 4)  # 3 x (B, H, N, Dh)
        w = drop(torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(D // H), -1), s_.training)
        a = s_.o((w @ v).transpose(1, 2).reshape(b, n, D))
        x = x + drop_path(drop(a, s_.training), s_.rate, s_.training)
        h = s_.f2(drop(F.gelu(s_.f1(s_.n2(x))), s_.training))
        return x + drop_path(drop(h, s_.training), s_.rate, s_.training)

class Model(nn.Module):
    def __init__(s_):
        super().__init__()
        seq = {m: v for m, v in MODS.items() if "sentence" not in v}
        s_.stems = nn.ModuleDict({m: nn.Embedding(v["vocab"], D) if "vocab" in v else nn.Linear(v["patch"], D) for m, v in seq.items()})
        s_.pos = nn.ParameterDict({m: nn.Parameter(torch.randn(1, v["tokens"], D) * .02) for m, v in seq.items()})
        s_.mod = nn.ParameterDict({m: nn.Parameter(torch.randn(1, 1, D) * .02) for m in seq})
        depth = s["depth"]
        s_.trunk = nn.Sequential(*[Block(DP if depth == 1 else DP * i / (depth - 1)) for i in range(depth)]); s_.norm = nn.LayerNorm(D)
        s_.heads = nn.ModuleDict({m: nn.Linear(v.get("sentence", D), E) for m, v in MODS.items()})
        s_.log_scale = nn.Parameter(torch.tensor(math.log(s["logit_scale_init"])))
    def forward(s_, x):
        out = {}
        for m, v in x.items():
            if "sentence" in MODS[m]:
                out[m] = F.normalize(s_.heads[m](v), dim=-1)
            else:
                out[m] = F.normalize(s_.heads[m](s_.norm(s_.trunk(s_.stems[m](v) + s_.pos[m] + s_.mod[m])).mean(1)), dim=-1)
        return out

model = Model(); model.train()
count = sum(t.numel() for t in model.parameters())
if count != s["params"]:
    print(json.dumps({"error": f"the peer has {count} parameters, Sensorium {s['params']}: the replica is out of step with the model"}))
    sys.exit(3)
opt = torch.optim.AdamW(model.parameters(), s["lr"], betas=(s["beta1"], s["beta2"]), eps=s["eps"], weight_decay=s["weight_decay"])
micro = s["batch"] // s["accumulate"]
def inputs(b):
    return {m: torch.randn(b, v["sentence"]) if "sentence" in v
            else torch.randint(0, v["vocab"], (b, v["tokens"])) if "vocab" in v
            else torch.randn(b, v["tokens"], v["patch"]) for m, v in MODS.items()}
batches = [inputs(micro) for _ in range(s["accumulate"])]
labels = torch.arange(micro)

def step():
    opt.zero_grad()
    for x in batches:
        e = model(x); scale = model.log_scale.exp().clamp(max=s["logit_scale_max"]); loss = 0
        for u, v in s["pairs"]:
            logits = scale * e[u] @ e[v].t()
            loss = loss + (F.cross_entropy(logits, labels) + F.cross_entropy(logits.t(), labels)) / 2
        (loss / s["accumulate"]).backward()
    if s["clip"] > 0: torch.nn.utils.clip_grad_norm_(model.parameters(), s["clip"])
    opt.step()

for _ in range(s["warmup"]): step()
times = []
for _ in range(s["steps"]):
    t = time.perf_counter(); step(); times.append(time.perf_counter() - t)
# The peer's own fp32 matmul peak, as TrainBench measures ours: its BLAS bounds what its step can reach.
a, b = torch.randn(1024, 1024), torch.randn(1024, 1024)
for _ in range(3): a @ b
peak = []
for _ in range(10):
    t = time.perf_counter(); a @ b; peak.append(time.perf_counter() - t)
print(json.dumps({"torch": torch.__version__, "threads": torch.get_num_threads(), "params": count, "step_s": times, "peak_s": peak}))
