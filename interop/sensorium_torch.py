#!/usr/bin/env python3
"""Plain-PyTorch reference forward of a Sensorium export (`sensorium export --checkpoint RUN --out DIR`).

It needs torch and the Python standard library only: model.safetensors is read with struct + json +
torch.frombuffer (no `safetensors` package). It rebuilds the encoder from DIR/config.json, loads the weights by
their PyTorch module names (the mapping is in src/main/java/org/sensorium/model/TorchNames.java), and computes
each modality's unit embedding from the same preprocessed tensors Sensorium feeds its stems:

    video   (B, T, H, W, 3) float32   RGB clip, normalised with the spec's mean/std
    motion  (B, T, Hg, Wg, 2) float32 pooled motion-vector field
    audio   (B, F, M) float32         normalised log-mel, time-major; or (B, S) waveform with input = waveform
    imu     (B, W, C) float32         resampled, normalised window
    text    (B, L) int64 ids + (B, L) bool valid       scratch text tower
            (B, W) float32 sentence vectors           pretrained tower (pooled and normalised by the tower)
            (B, L, W) float32 token states + (B, L) bool valid   pretrained tower with learned pooling

The pretrained text tower itself (an ONNX sentence encoder, all-MiniLM-L6-v2 by default) is not part of the
export and not run here: it stays frozen outside the model, so its output is this model's text input.
Decoding and preprocessing raw files stays in Sensorium: `sensorium export --samples MANIFEST` writes the
inputs of a manifest's samples (and Sensorium's own embeddings of them) to DIR/samples.safetensors.

Shape letters: B batch, N tokens, D width, H heads, Dh = D / H, E embedding, K texts in a bag, W tower width.

As a library:
    import sensorium_torch
    model = sensorium_torch.load("DIR")                 # torch.nn.Module in eval mode
    e = model.embed("video", clips)                      # (B, T, H, W, 3) -> (B, E), unit rows
    e = model.embed("text", ids, valid)                  # (B, L) + (B, L) -> (B, E)

From the command line (interop/README.md):
    python3 interop/sensorium_torch.py golden --export DIR --inputs DIR/samples.safetensors --out golden.safetensors
"""
import argparse
import json
import math
import struct
import sys
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

FORMAT, VERSION = "sensorium-export", 1
DTYPES = {"F32": torch.float32, "F64": torch.float64, "F16": torch.float16, "I64": torch.int64,
          "I32": torch.int32, "I8": torch.int8, "U8": torch.uint8, "BOOL": torch.bool}
WIDTHS = {"F32": 4, "F64": 8, "F16": 2, "I64": 8, "I32": 4, "I8": 1, "U8": 1, "BOOL": 1}


class ExportError(Exception):
    """A damaged or foreign export: the message is one line naming the file."""


# ---------------------------------------------------------------------------------------------- safetensors

def read_safetensors(path):
    """(tensors by name in file order, metadata) of a safetensors file; ExportError for any damage."""
    path = Path(path)
    if sys.byteorder != "little":
        raise ExportError(f"{path}: this reader assumes a little-endian machine")
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ExportError(f"{path}: no such file") from None
    if len(data) < 8:
        raise ExportError(f"{path}: truncated header: {len(data)} bytes, shorter than the 8-byte header length")
    (n,) = struct.unpack("<Q", data[:8])
    if n < 2 or n > len(data) - 8:
        raise ExportError(f"{path}: truncated header: its length field says {n} bytes, the file has {len(data) - 8} after it")
    try:
        header = json.loads(data[8:8 + n].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ExportError(f"{path}: header is not JSON: {e}") from None
    if not isinstance(header, dict):
        raise ExportError(f"{path}: header is not a JSON object")
    metadata = header.pop("__metadata__", None) or {}
    body = memoryview(data)[8 + n:]
    tensors = {}
    for name, spec in header.items():
        dtype = spec.get("dtype") if isinstance(spec, dict) else None
        if dtype not in DTYPES:
            raise ExportError(f"{path}: tensor {name}: dtype {dtype!r} is not one of {', '.join(DTYPES)}")
        shape, offsets = spec.get("shape"), spec.get("data_offsets")
        if not isinstance(shape, list) or not all(isinstance(s, int) and s >= 0 for s in shape):
            raise ExportError(f"{path}: tensor {name}: shape {shape!r} is not a list of sizes")
        if not isinstance(offsets, list) or len(offsets) != 2 or not all(isinstance(o, int) for o in offsets):
            raise ExportError(f"{path}: tensor {name}: data_offsets {offsets!r} is not [begin, end]")
        begin, end = offsets
        if begin < 0 or end < begin or end > len(body):
            raise ExportError(f"{path}: tensor {name}: data_offsets [{begin}, {end}] out of range: the data is "
                              f"{len(body)} bytes (file truncated?)")
        need = math.prod(shape) * WIDTHS[dtype]
        if end - begin != need:
            raise ExportError(f"{path}: tensor {name}: data_offsets hold {end - begin} bytes, shape {shape} of {dtype} needs {need}")
        flat = torch.frombuffer(bytearray(body[begin:end]), dtype=DTYPES[dtype]) if need else torch.empty(0, dtype=DTYPES[dtype])
        tensors[name] = flat.reshape(shape)
    return tensors, metadata


def write_safetensors(path, tensors, metadata=None):
    """Writes float32 tensors (and string metadata) as safetensors, header padded to 8 bytes."""
    header, blobs, offset = {}, [], 0
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    for name, t in tensors.items():
        values = t.detach().to(torch.float32).contiguous().flatten().tolist()
        blob = struct.pack(f"<{len(values)}f", *values)
        header[name] = {"dtype": "F32", "shape": list(t.shape), "data_offsets": [offset, offset + len(blob)]}
        blobs.append(blob)
        offset += len(blob)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for blob in blobs:
            f.write(blob)


# ---------------------------------------------------------------------------------------------- the model

def unit(e):
    """Rows divided by their L2 norm (with Sensorium's 1e-12 under the root): (B, E) -> (B, E)."""
    return e / (e.square().sum(dim=1, keepdim=True) + 1e-12).sqrt()


class Attention(nn.Module):
    """Multi-head self-attention with one fused qkv projection and an additive key-padding bias."""

    def __init__(self, width, heads, scale):
        super().__init__()
        self.qkv = nn.Linear(width, 3 * width)
        self.proj = nn.Linear(width, width)
        self.heads, self.scale = heads, scale

    def forward(self, x, key_bias):
        b, n, d = x.shape
        q, k, v = self.qkv(x).reshape(b, n, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)  # 3 x (B, H, N, Dh)
        scores = (q @ k.transpose(-2, -1)) * self.scale                                            # (B, H, N, N)
        if key_bias is not None:
            scores = scores + key_bias                                                              # + (B, 1, 1, N)
        out = scores.softmax(dim=-1) @ v                                                            # (B, H, N, Dh)
        return self.proj(out.transpose(1, 2).reshape(b, n, d))                                      # (B, N, D)


class Mlp(nn.Module):
    def __init__(self, width, hidden):
        super().__init__()
        self.fc1 = nn.Linear(width, hidden)
        self.fc2 = nn.Linear(hidden, width)

    def forward(self, x):
        return self.fc2(F.gelu(self.fc1(x)))  # exact (erf) GELU, as libtorch's default under DJL


class Block(nn.Module):
    """Pre-norm block: x + attn(LN(x)), then x + mlp(LN(x))."""

    def __init__(self, t):
        super().__init__()
        d = t["width"]
        self.norm1 = nn.LayerNorm(d, eps=t["layer_norm_eps"])
        self.attn = Attention(d, t["heads"], t["attention_scale"])
        self.norm2 = nn.LayerNorm(d, eps=t["layer_norm_eps"])
        self.mlp = Mlp(d, t["mlp_ratio"] * d)

    def forward(self, x, key_bias):
        x = x + self.attn(self.norm1(x), key_bias)
        return x + self.mlp(self.norm2(x))


class Trunk(nn.Module):
    def __init__(self, t):
        super().__init__()
        self.blocks = nn.ModuleList(Block(t) for _ in range(t["depth"]))
        self.norm = nn.LayerNorm(t["width"], eps=t["layer_norm_eps"])
        self.mask_bias = t["mask_bias"]

    def forward(self, x, valid):
        """x (B, N, D), valid (B, N) bool or None -> (B, N, D)."""
        bias = None
        if valid is not None:
            bias = (~valid).to(x.dtype).mul(self.mask_bias).reshape(x.shape[0], 1, 1, x.shape[1])  # (B, 1, 1, N)
        for block in self.blocks:
            x = block(x, bias)
        return self.norm(x)


class Tubelets(nn.Module):
    """(B, T, H, W, C) -> non-overlapping t x p x p tubelets -> linear: (B, N, D)."""

    def __init__(self, s, width):
        super().__init__()
        self.s = s
        self.proj = nn.Linear(s["tubelet_frames"] * s["patch"] ** 2 * s["channels"], width)

    def forward(self, x):
        s, b = self.s, x.shape[0]
        t, p, c = s["tubelet_frames"], s["patch"], s["channels"]
        x = x.reshape(b, s["frames"] // t, t, s["height"] // p, p, s["width"] // p, p, c)  # (B, T/t, t, H/p, p, W/p, p, C)
        x = x.permute(0, 1, 3, 5, 2, 4, 6, 7)                                              # (B, T/t, H/p, W/p, t, p, p, C)
        return self.proj(x.reshape(b, s["tokens"], t * p * p * c))


class MelPatches(nn.Module):
    """(B, F, M) log-mel -> p x p patches (time x mel) -> linear: (B, N, D)."""

    def __init__(self, s, width):
        super().__init__()
        self.s = s
        self.proj = nn.Linear(s["patch"] ** 2, width)

    def forward(self, x):
        s, b, p = self.s, x.shape[0], self.s["patch"]
        x = x.reshape(b, s["frames"] // p, p, s["mel_bins"] // p, p).permute(0, 1, 3, 2, 4)  # (B, F/p, M/p, p, p)
        return self.proj(x.reshape(b, s["tokens"], p * p))


class WavePatches(nn.Module):
    """(B, S) waveform -> patches of k samples -> linear: (B, N, D)."""

    def __init__(self, s, width):
        super().__init__()
        self.s = s
        self.proj = nn.Linear(s["patch"], width)

    def forward(self, x):
        return self.proj(x.reshape(x.shape[0], self.s["tokens"], self.s["patch"]))


class ImuPatches(nn.Module):
    """(B, W, C) -> windows of k samples, channels within -> linear: (B, N, D)."""

    def __init__(self, s, width):
        super().__init__()
        self.s = s
        self.proj = nn.Linear(s["patch"] * s["channels"], width)

    def forward(self, x):
        return self.proj(x.reshape(x.shape[0], self.s["tokens"], self.s["patch"] * self.s["channels"]))


class TokenEmbedding(nn.Module):
    """(B, L) token ids -> embedding rows (B, L, D)."""

    def __init__(self, s, width):
        super().__init__()
        self.embedding = nn.Embedding(s["vocab_size"], width)

    def forward(self, ids):
        return self.embedding(ids.long())


STEMS = {"tubelets": Tubelets, "mel_patches": MelPatches, "wave_patches": WavePatches, "imu_patches": ImuPatches,
         "token_embedding": TokenEmbedding}


class TextPool(nn.Module):
    """Learned pooling of a frozen tower's token states: softmax(h q) over valid tokens, weighted sum, unit."""

    def __init__(self, width):
        super().__init__()
        self.query = nn.Parameter(torch.zeros(width, 1))

    def forward(self, h, valid):
        scores = (h @ self.query).squeeze(2)                                  # (B, L)
        pad = (1 - valid.to(h.dtype)) * -1e9                                  # 0 where valid, -1e9 at padding
        w = (scores + pad).softmax(dim=1).unsqueeze(2)                        # (B, L, 1)
        return unit((h * w).sum(dim=1))                                       # (B, W)


class SensoriumModel(nn.Module):
    """stem -> + positional and modality embeddings -> [CLS] -> shared trunk -> pool -> head -> unit, per modality."""

    def __init__(self, cfg):
        super().__init__()
        t, d, e = cfg["trunk"], cfg["trunk"]["width"], cfg["embed_dim"]
        self.pool = cfg["pool"]
        self.stems = nn.ModuleDict({m: STEMS[s["kind"]](s, d) for m, s in cfg["stems"].items()})
        self.pos_embed = nn.ParameterDict({m: nn.Parameter(torch.zeros(1, s["tokens"], d)) for m, s in cfg["stems"].items()})
        self.modality_embed = nn.ParameterDict({m: nn.Parameter(torch.zeros(1, 1, d)) for m in cfg["stems"]})
        if self.pool == "cls":
            self.cls_token = nn.ParameterDict({m: nn.Parameter(torch.zeros(1, 1, d)) for m in cfg["stems"]})
        self.trunk = Trunk(t)
        tower = cfg.get("text_tower") or {}
        self.text_bag = tower.get("bag", 1)
        self.pretrained_text = tower.get("kind") == "pretrained"
        heads = {m: nn.Linear(d, e) for m in cfg["stems"]}
        if self.pretrained_text and tower["projection"] == "linear":
            heads["text"] = nn.Linear(tower["width"], e)
        self.heads = nn.ModuleDict(heads)
        if self.pretrained_text and tower["input"] == "token_states":
            self.text_pool = TextPool(tower["width"])
        self.logit_scale = nn.Parameter(torch.zeros(()))  # log of the scale; exp(.) clamped at config's max
        self.modalities = cfg["modalities"]

    @torch.no_grad()
    def embed(self, modality, x, valid=None):
        """Unit embeddings (B, E) of one modality's inputs (B, ...); valid (B, N) bool where it has padding (text)."""
        if modality not in self.modalities:
            raise ValueError(f"the model has no {modality} (it has {', '.join(self.modalities)})")
        b, k = x.shape[0], self.text_bag if modality == "text" else 1
        if k > 1:  # a bag of K texts per sample: each text is one sequence
            x = x.reshape(b * k, *x.shape[2:])                                # (B, K, ...) -> (B*K, ...)
            valid = valid.reshape(b * k, -1)                                  # (B, K*L) or (B, K) -> (B*K, L or 1)
        if modality == "text" and self.pretrained_text:
            if hasattr(self, "text_pool"):
                x = self.text_pool(x, valid)                                  # (B, L, W) -> (B, W)
            e = unit(self.heads["text"](x) if "text" in self.heads else x)    # (B, E)
        else:
            e = self._encode(modality, x, valid)
        if k > 1:
            rows = (valid.to(torch.float32).sum(dim=1) > 0).reshape(b, k)     # (B, K) texts present
            e = unit((e.reshape(b, k, -1) * rows.unsqueeze(2).to(e.dtype)).sum(dim=1))  # unit mean of the bag
        return e

    def _encode(self, m, x, valid):
        h = self.stems[m](x) + self.pos_embed[m] + self.modality_embed[m]    # (B, N, D)
        if self.pool == "cls":
            h = torch.cat([self.cls_token[m].expand(h.shape[0], 1, h.shape[2]), h], dim=1)  # (B, 1+N, D)
            if valid is not None:
                valid = torch.cat([torch.ones(h.shape[0], 1, dtype=torch.bool), valid.bool()], dim=1)
        h = self.trunk(h, None if valid is None else valid.bool())          # (B, [1+]N, D)
        if self.pool == "cls":
            pooled = h[:, 0]                                                  # (B, D)
        elif valid is None:
            pooled = h.mean(dim=1)
        else:
            w = valid.to(h.dtype).unsqueeze(2)                                # (B, N, 1)
            pooled = (h * w).sum(dim=1) / w.sum(dim=1).clamp(min=1.0)         # mean over valid tokens
        return unit(self.heads[m](pooled))                                    # (B, E)


# ---------------------------------------------------------------------------------------------- loading

def read_config(export_dir):
    """DIR/config.json, checked for format and version."""
    d = Path(export_dir)
    if not d.is_dir():
        raise ExportError(f"{d}: no such folder")
    path = d / "config.json"
    try:
        cfg = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ExportError(f"{path}: no such file (not a Sensorium export?)") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ExportError(f"{path}: not JSON: {e}") from None
    if not isinstance(cfg, dict) or cfg.get("format") != FORMAT:
        raise ExportError(f"{path}: format is not {FORMAT}")
    if cfg.get("format_version") != VERSION:
        raise ExportError(f"{path}: format_version {cfg.get('format_version')!r} is not {VERSION}, the one this script reads")
    return cfg


def load(export_dir):
    """The exported model with its weights, in eval mode; ExportError naming the file for anything missing or damaged."""
    cfg = read_config(export_dir)
    path = Path(export_dir) / cfg.get("weights", "model.safetensors")
    tensors, _ = read_safetensors(path)
    model = SensoriumModel(cfg)
    expected = model.state_dict()
    for name, t in expected.items():
        if name not in tensors:
            raise ExportError(f"{path}: tensor {name} {list(t.shape)} is missing")
        if tensors[name].dtype != torch.float32 or tensors[name].shape != t.shape:
            raise ExportError(f"{path}: tensor {name}: {tensors[name].dtype} {list(tensors[name].shape)}, "
                              f"the model needs float32 {list(t.shape)}")
    extra = [n for n in tensors if n not in expected]
    if extra:
        raise ExportError(f"{path}: tensors the model does not have: {', '.join(extra)}")
    model.load_state_dict(tensors, strict=True)
    return model.eval()


# ---------------------------------------------------------------------------------------------- golden

def cosine_distance(a, b):
    """1 - cos of each row pair: (n, E), (n, E) -> (n)."""
    return 1 - (a * b).sum(dim=1) / (a.norm(dim=1) * b.norm(dim=1)).clamp(min=1e-12)


def golden(args):
    model = load(args.export)
    inputs, meta = read_safetensors(args.inputs)
    out, out_meta, worst = {}, {"export": Path(args.export).name, "torch": torch.__version__}, 0.0
    print(f"{'modality':10s} {'n':>4s}  worst cosine distance to Sensorium's embeddings")
    for m in model.modalities:
        if f"input.{m}" not in inputs:
            continue
        e = model.embed(m, inputs[f"input.{m}"], inputs.get(f"valid.{m}"))
        out[f"embedding.{m}"] = e
        if f"ids.{m}" in meta:
            out_meta[f"ids.{m}"] = meta[f"ids.{m}"]
        ref = inputs.get(f"embedding.{m}")
        if ref is None:
            print(f"{m:10s} {e.shape[0]:4d}  (no Sensorium embeddings in the inputs file)")
            continue
        dist = cosine_distance(e.double(), ref.double()).max().item()
        worst = max(worst, dist)
        print(f"{m:10s} {e.shape[0]:4d}  {dist:.3e}")
    if not out:
        raise ExportError(f"{args.inputs}: no input.<modality> tensor of a modality the model has")
    write_safetensors(args.out, out, out_meta)
    print(f"wrote {args.out}")
    if worst > args.tolerance:
        print(f"error: worst cosine distance {worst:.3e} is above --tolerance {args.tolerance:g}", file=sys.stderr)
        return 1
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(prog="sensorium_torch.py", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    g = sub.add_parser("golden", help="embed the inputs of a samples file with the reference forward, write the embeddings")
    g.add_argument("--export", required=True, help="the export folder (config.json, model.safetensors)")
    g.add_argument("--inputs", required=True, help="a samples.safetensors: input.<m>, valid.<m> [, embedding.<m>]")
    g.add_argument("--out", required=True, help="the safetensors file of embedding.<m> to write")
    g.add_argument("--tolerance", type=float, default=1e-4,
                   help="exit 1 when a cosine distance to the inputs' Sensorium embeddings exceeds this (default 1e-4)")
    args = parser.parse_args(argv)
    torch.set_num_threads(1)  # small inputs; the reference is about numbers, not speed
    try:
        return golden(args)
    except ExportError as e:
        print(f"sensorium_torch.py: error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
