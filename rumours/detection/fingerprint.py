"""Near-duplicate fingerprints: MinHash signatures (datasketch) and LSH band keys.

Copies of one story (syndicated wire copy, a rewrite with a new headline, a
sentence added or cut) share most of their character n-grams. A MinHash signature
of those n-grams estimates the Jaccard similarity of two texts from 64 numbers, and
cutting the signature into 16 bands of 4 gives keys that two texts share, with high
probability, when their similarity is above about 0.5. The keys go into an indexed
table, so finding the candidates for a new article is one indexed lookup whatever
the number of stored articles; each candidate is then checked on the full signature.

Character n-grams work for every script here: 5-grams where words are spaced,
3-grams for Chinese, Japanese, Korean and Thai.
"""

from __future__ import annotations

import functools
import hashlib
import re
import zlib

import numpy as np
from datasketch import MinHash

from rumours.detection.language import script_language
from rumours.detection.text import fold

NUM_PERM = 64
BANDS = 16
ROWS = NUM_PERM // BANDS
SAME_STORY = 0.5  # estimated Jaccard similarity at or above which two texts are one story
_SEED = 20251108
_NOT_LETTERS = re.compile(r"[\W_]+", re.UNICODE)


def _hash32(data: bytes) -> int:
    # CRC-32 in C: stable across processes (unlike hash()) and far cheaper than SHA-1; the
    # random affine permutations on top spread it as MinHash needs.
    return zlib.crc32(data)


@functools.cache
def _template() -> MinHash:
    return MinHash(num_perm=NUM_PERM, seed=_SEED, scheme="affine32", hashfunc=_hash32)


def shingles(text: str) -> set[str]:
    """Character n-grams of the folded text, punctuation and spacing removed."""
    unspaced = script_language(text) in {"zh", "ja", "ko", "th"}
    size = 3 if unspaced else 5
    cleaned = _NOT_LETTERS.sub(" " if not unspaced else "", fold(text)).strip()
    if len(cleaned) <= size:
        return {cleaned} if cleaned else set()
    return {cleaned[i : i + size] for i in range(len(cleaned) - size + 1)}


def signature(text: str) -> bytes:
    """The MinHash signature of ``text``, as bytes to store (``NUM_PERM`` unsigned 32-bit values).

    Empty for a text with no letters: it is like nothing, not like every other empty text.
    """
    grams = shingles(text)
    if not grams:
        return b""
    template = _template()
    minhash = MinHash(
        num_perm=NUM_PERM, seed=_SEED, permutations=template.permutations, scheme="affine32", hashfunc=_hash32
    )
    minhash.update_batch(gram.encode("utf-8") for gram in grams)
    return np.asarray(minhash.hashvalues, dtype="<u4").tobytes()


def similarity(a: bytes, b: bytes) -> float:
    """Estimated Jaccard similarity of the texts behind two signatures."""
    if len(a) != len(b) or not a:
        return 0.0
    left, right = np.frombuffer(a, dtype="<u4"), np.frombuffer(b, dtype="<u4")
    return float(np.count_nonzero(left == right)) / len(left)


def band_keys(sig: bytes) -> list[int]:
    """One signed 64-bit key per band (what the database index stores)."""
    if len(sig) != NUM_PERM * 4:
        return []
    width = ROWS * 4
    keys = []
    for band in range(BANDS):
        digest = hashlib.blake2b(bytes([band]) + sig[band * width : (band + 1) * width], digest_size=8).digest()
        keys.append(int.from_bytes(digest, "big", signed=True))
    return keys
