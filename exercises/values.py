"""Values, and only values, between a sandboxed submission and the grader.

The grader calls a student's function inside the sandbox (exercises/harness.py) and gets
back what it returned. Nothing crosses as code: every value is JSON; an array crosses as
its dtype (a plain one, never objects), shape and bytes; a Keras model as the facts the
checks compare (``model_summary``), a ``tf.RaggedTensor`` as its row lengths and flat
values, a ``np.random.RandomState`` as its state; an object the format does not know comes
back as its type's name. Standard library and NumPy only: the harness imports this before
any student code runs, and the grader decodes with it without importing anything of the
submission's.
"""

import base64
import json
import re
import types

import numpy as np

LIMIT = 16 * 2**20  # bytes of one reply the grader reads (grade.py --reply-mb): the largest
# honest answer (char-rnn's trained parameters, a padded spam batch) is under 1 MB
DEPTH = 40  # levels the encoder writes; deeper, it writes an 'unsupported' marker instead
ITEMS = 1_000_000  # values in one message
DIGITS = 20  # digits of a plain JSON integer (the encoder sends |n| >= 2**53 as a 'bigint')
BIG_DIGITS = 1_000  # digits of a 'bigint' (Python's own int() stops at 4,300, with a ValueError)
KEY_ITEMS = 16  # items of a tuple used as a dict key


class FormatError(ValueError):
    """A message that is not a value of this format: damaged, too large, too deep, too many
    items, too many digits, a key that cannot be a key. The one error a reply's reading
    raises, whatever is wrong with it: the grader turns it into "the reply was not a value"
    for the task that asked."""


class Unsupported:
    """A value of a type the format does not carry: the checks see its type's name."""

    def __init__(self, type_name):
        self.remote_type = type_name

    def __repr__(self):
        return f"<{self.remote_type}>"


class Ragged:
    """A ``tf.RaggedTensor`` read back: its row lengths and flat values, as NumPy arrays."""

    def __init__(self, row_lengths, flat_values):
        self._row_lengths = np.asarray(row_lengths)
        self.flat_values = np.asarray(flat_values)

    def row_lengths(self):
        return self._row_lengths


class TinyModel:
    """A stand-in for a trained character model (the poetry checks hand it to a student's
    ``generate_text``): deterministic next-character probabilities from the last three
    characters of a one-hot window. It crosses the sandbox as its weights."""

    def __init__(self, vocabulary_size, seed=0, weights=None):
        self.weights = (np.random.default_rng(seed).normal(0, 1.5, (vocabulary_size,
                                                                    vocabulary_size))
                        if weights is None else np.asarray(weights, dtype=np.float64))

    def predict(self, x, verbose=0):
        features = np.asarray(x, float)[:, -3:, :].sum(axis=1)
        logits = features @ self.weights
        return np.exp(logits) / np.exp(logits).sum(axis=-1, keepdims=True)


class ModelSummary(dict):
    """What the checks compare of a Keras model: layers and their output shapes, parameter
    count, the last layer's activation, optimizer, learning rate and loss."""

    remote_type = "Model"


def model_summary(model):
    """The facts of a Keras model (or anything with ``layers`` and ``count_params``)."""
    def shape(layer):
        try:
            return tuple(None if size is None else int(size) for size in layer.output.shape)
        except Exception:
            return None

    def name(value):
        return getattr(value, "__name__", None) or type(value).__name__

    optimizer = getattr(model, "optimizer", None)
    try:
        learning_rate = float(optimizer.learning_rate) if optimizer is not None else None
    except Exception:
        learning_rate = None
    loss = getattr(model, "loss", None)
    try:
        output_shape = tuple(None if size is None else int(size) for size in model.output.shape)
    except Exception:
        output_shape = None
    layers = list(model.layers)
    activation = getattr(layers[-1], "activation", None) if layers else None
    return ModelSummary(
        layers=[(type(layer).__name__, shape(layer)) for layer in layers],
        output_shape=output_shape, params=int(model.count_params()),
        last_activation=name(activation) if activation is not None else None,
        optimizer=type(optimizer).__name__ if optimizer is not None else None,
        learning_rate=learning_rate,
        loss=loss if isinstance(loss, str) or loss is None else f"<{name(loss)}>")


def _array_bytes(array):
    """An array as plain data: its dtype's name, its shape and its bytes (base64)."""
    array = np.ascontiguousarray(array)
    return {"dtype": array.dtype.str, "shape": list(array.shape),
            "bytes": base64.b64encode(array.tobytes()).decode("ascii")}


def _read_array(data):
    """The array ``_array_bytes`` wrote: a plain dtype only (never objects), its bytes
    exactly the shape's."""
    try:
        dtype = np.dtype(str(data["dtype"]))
        shape = tuple(int(size) for size in data["shape"])
        if dtype.hasobject or dtype.kind in "OV" or any(size < 0 for size in shape):
            raise ValueError("not a plain dtype")
        raw = base64.b64decode(data["bytes"], validate=True)
        return np.frombuffer(raw, dtype=dtype).reshape(shape).copy()
    except Exception as error:
        raise FormatError(f"an array could not be read ({type(error).__name__})") from None


def encode(value, depth=0):
    """``value`` as JSON-able data."""
    if depth > DEPTH:
        return {"$": "unsupported", "type": "a value nested too deeply"}
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return value if abs(value) < 2**53 else {"$": "bigint", "value": str(value)}
    if isinstance(value, float):
        return value if np.isfinite(value) else {"$": "float", "value": repr(value)}
    if isinstance(value, np.generic):
        value = np.asarray(value)
        return {"$": "scalar", "array": _array_bytes(value)} if value.dtype.kind in "biufcSUM" \
            else {"$": "unsupported", "type": type(value).__name__}
    if isinstance(value, np.ndarray):
        if value.dtype.kind == "O":
            items = value.ravel().tolist()
            if all(isinstance(item, str) for item in items):
                return {"$": "strings", "shape": list(value.shape), "items": items}
            return {"$": "unsupported", "type": "ndarray of objects"}
        if value.dtype.kind not in "biufcSUMm":
            return {"$": "unsupported", "type": f"ndarray of {value.dtype}"}
        return {"$": "array", "array": _array_bytes(value)}
    if isinstance(value, np.random.RandomState):
        name, keys, position, has_gauss, cached = value.get_state()
        return {"$": "randomstate", "keys": _array_bytes(keys), "position": int(position),
                "has_gauss": int(has_gauss), "cached": float(cached)}
    if isinstance(value, ModelSummary):
        return {"$": "model", "summary": encode(dict(value), depth + 1)}
    if isinstance(value, TinyModel):
        return {"$": "tinymodel", "weights": _array_bytes(value.weights)}
    if isinstance(value, (list, tuple)):
        return {"$": "tuple" if isinstance(value, tuple) else "list",
                "items": [encode(item, depth + 1) for item in value]}
    if isinstance(value, dict):
        return {"$": "dict", "items": [[encode(key, depth + 1),
                                        encode(item, depth + 1)]
                                       for key, item in value.items()]}
    if hasattr(value, "row_lengths") and hasattr(value, "flat_values"):
        try:
            return {"$": "ragged", "row_lengths": _array_bytes(np.asarray(value.row_lengths())),
                    "flat_values": _array_bytes(np.asarray(value.flat_values))}
        except Exception:
            return {"$": "unsupported", "type": type(value).__name__}
    if hasattr(value, "layers") and hasattr(value, "count_params"):
        try:
            return {"$": "model", "summary": encode(dict(model_summary(value)), depth + 1)}
        except Exception:
            return {"$": "unsupported", "type": type(value).__name__}
    if isinstance(value, (types.GeneratorType, zip, map, filter, range, enumerate)):
        return encode(list(value), depth)
    return {"$": "unsupported", "type": type(value).__name__}


def decode(data, items=ITEMS):
    """The value that ``encode`` wrote; ``FormatError`` for anything else (at most ``items``
    values, nested at most ``DEPTH`` + 1 deep, dict keys of the types a key can safely be)."""
    try:
        return _Decoder(items).value(data, 0)
    except FormatError:
        raise
    except (RecursionError, MemoryError):
        raise FormatError("a value too large or too deeply nested") from None
    except Exception as error:  # anything a damaged value can raise on the way
        raise FormatError(f"a damaged value ({type(error).__name__})") from None


def safe_key(key, depth=0):
    """A dict key that hashes as Python hashes plain values, with no way to make many keys
    collide: a string (its hash is salted per process), a bool, None, an integer below
    2**53 (its own hash; larger ones can be chosen to share one), or a short tuple of these."""
    if key is None or isinstance(key, (str, bool)):
        return True
    if isinstance(key, int):
        return abs(key) < 2**53
    if isinstance(key, tuple) and depth == 0 and len(key) <= KEY_ITEMS:
        return all(safe_key(item, 1) for item in key)
    return False


class _Decoder:
    def __init__(self, items):
        self.left = items

    def value(self, data, depth):
        self.left -= 1
        if self.left < 0:
            raise FormatError("a value with too many items")
        if depth > DEPTH + 1:  # the encoder's deepest is its 'unsupported' marker at DEPTH + 1
            raise FormatError("a value nested too deeply")
        if data is None or isinstance(data, (bool, str, float)):
            return data
        if isinstance(data, int):
            if abs(data) >= 2**53:
                raise FormatError("an integer the encoder sends as a 'bigint'")
            return data
        if isinstance(data, list):
            raise FormatError("a bare list")
        if not isinstance(data, dict) or not isinstance(data.get("$"), str):
            raise FormatError("a value without its type")
        return self.tagged(data["$"], data, depth)

    def sequence(self, data, key):
        items = data.get(key, [])
        if not isinstance(items, list):
            raise FormatError("a damaged sequence")
        return items

    def tagged(self, tag, data, depth):
        if tag in ("list", "tuple"):
            items = [self.value(item, depth + 1) for item in self.sequence(data, "items")]
            return items if tag == "list" else tuple(items)
        if tag == "dict":
            result = {}
            for pair in self.sequence(data, "items"):
                if not (isinstance(pair, list) and len(pair) == 2):
                    raise FormatError("a damaged dict")
                key = self.value(pair[0], depth + 1)
                if not safe_key(key):
                    raise FormatError(f"a dict key of type {type(key).__name__} (a key is a "
                                      f"string, an integer below 2**53, a bool, None or a "
                                      f"short tuple of these)")
                result[key] = self.value(pair[1], depth + 1)
            return result
        if tag in ("array", "scalar"):
            array = _read_array(data.get("array"))
            return array[()] if tag == "scalar" else array
        if tag == "strings":
            items = self.sequence(data, "items")
            self.left -= len(items)
            if self.left < 0 or not all(isinstance(item, str) for item in items):
                raise FormatError("a damaged array of strings")
            result = np.empty(len(items), dtype=object)
            result[:] = items
            return result.reshape([int(size) for size in data.get("shape", [len(items)])])
        if tag == "bigint":
            text = str(data.get("value", "0"))
            if len(text) > BIG_DIGITS or not re.fullmatch(r"-?[0-9]+", text):
                raise FormatError(f"an integer of {len(text):,} characters (at most "
                                  f"{BIG_DIGITS:,} digits)")
            return int(text)
        if tag == "float":
            text = str(data.get("value", "nan"))
            if text not in ("nan", "inf", "-inf"):
                raise FormatError("a damaged float")
            return float(text)
        if tag == "randomstate":
            state = np.random.RandomState()
            state.set_state(("MT19937", _read_array(data["keys"]).astype(np.uint32),
                             int(data["position"]), int(data["has_gauss"]),
                             float(data["cached"])))
            return state
        if tag == "tinymodel":
            weights = _read_array(data.get("weights"))
            if weights.ndim != 2 or weights.shape[0] != weights.shape[1]:
                raise FormatError("a damaged model")
            return TinyModel(len(weights), weights=weights)
        if tag == "ragged":
            return Ragged(_read_array(data.get("row_lengths")),
                          _read_array(data.get("flat_values")))
        if tag == "model":
            summary = self.value(data.get("summary"), depth + 1)
            if not isinstance(summary, dict):
                raise FormatError("a damaged model summary")
            summary["layers"] = [tuple(layer) if isinstance(layer, (list, tuple)) else layer
                                 for layer in summary.get("layers") or []]
            return ModelSummary(summary)
        if tag == "unsupported":
            return Unsupported(str(data.get("type", "object"))[:80])
        raise FormatError(f"an unknown type {tag[:40]!r}")


def dumps(message):
    """One message as bytes: JSON, UTF-8."""
    text = json.dumps(message, allow_nan=False, ensure_ascii=False)
    return text.encode("utf-8")


def bounded_int(text):
    """A JSON integer, read only when it has at most ``DIGITS`` digits."""
    if len(text) > DIGITS + 1:
        raise FormatError(f"an integer of {len(text):,} digits in the message")
    return int(text)


def loads(payload, limit=LIMIT):
    """One message read back; ``FormatError`` for anything that is not one (of more than
    ``limit`` bytes, not UTF-8, not JSON, too deep, digits past any value's)."""
    if len(payload) > limit:
        raise FormatError(f"a message of {len(payload):,} bytes (at most {limit:,})")
    try:
        message = json.loads(payload.decode("utf-8"), parse_int=bounded_int)
    except FormatError:
        raise
    except (ValueError, RecursionError, MemoryError):  # JSONDecodeError, UnicodeDecodeError
        raise FormatError("a message that is not JSON") from None
    if not isinstance(message, dict):
        raise FormatError("a message that is not an object")
    return message
