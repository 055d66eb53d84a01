"""The fine-tuned sentence encoder of a bundle, run by onnxruntime (no torch at run time).

A bundle may carry `encoder.onnx` (all-MiniLM-L6-v2 fine-tuned on the training rows with one
logit per binary head, int8-quantised) and its `tokenizer.json`. The linear heads are fast and
explain themselves; the encoder reads word order, so it sees what a bag of n-grams cannot
("not vermin" against "vermin", a quoted slur inside counter-speech). The scorer sends it
only the comments the linear heads are unsure about (see app.scoring), and blends the two
decisions with weights fitted on validation rows.

Texts are the normalised ones (app.textnorm), the same the encoder was fine-tuned on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

ENCODER_FILE = "encoder.onnx"
TOKENIZER_FILE = "tokenizer.json"


@dataclass
class Encoder:
    """An ONNX encoder with its tokenizer; `logits` gives one column per head in `heads`."""

    model_path: Path
    tokenizer_path: Path
    heads: tuple[str, ...]
    max_tokens: int = 64
    threads: int = 1
    batch: int = 32
    _session: Any = field(default=None, init=False, repr=False)
    _tokenizer: Any = field(default=None, init=False, repr=False)

    def _load(self) -> None:
        import onnxruntime
        from tokenizers import Tokenizer

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = self.threads
        options.inter_op_num_threads = 1
        self._session = onnxruntime.InferenceSession(
            str(self.model_path), options, providers=["CPUExecutionProvider"]
        )
        tokenizer = Tokenizer.from_file(str(self.tokenizer_path))
        tokenizer.enable_truncation(self.max_tokens)
        tokenizer.no_padding()
        self._tokenizer = tokenizer

    def logits(self, texts: Sequence[str]) -> np.ndarray:
        """n x len(heads) logits; texts are batched by length so padding stays small."""
        if self._session is None:
            self._load()
        out = np.zeros((len(texts), len(self.heads)), dtype=np.float64)
        if not texts:
            return out
        encoded = self._tokenizer.encode_batch(list(texts))
        order = np.argsort([len(e.ids) for e in encoded], kind="stable")
        for start in range(0, len(order), self.batch):
            rows = order[start : start + self.batch]
            width = max(len(encoded[i].ids) for i in rows)
            ids = np.zeros((len(rows), width), dtype=np.int64)
            mask = np.zeros((len(rows), width), dtype=np.int64)
            for r, i in enumerate(rows):
                tokens = encoded[i].ids
                ids[r, : len(tokens)] = tokens
                mask[r, : len(tokens)] = 1
            (logits,) = self._session.run(None, {"input_ids": ids, "attention_mask": mask})
            out[rows] = logits
        return out
