"""The spam classifiers: every variant behind one builder, chosen by name.

``build_model("bi-lstm", "ragged", vector_size)`` returns a compiled model; ``load_model``
reads a saved one back (it knows this module's custom layer, no other import needed).
"""

import keras
import tensorflow as tf
from keras import layers

from labs.cli import LabError
from labs.training import RECURRENT_LAYERS

VARIANTS = ("simplernn", "lstm", "gru", "bi-simplernn", "bi-lstm", "bi-gru")
INPUT_KINDS = ("padded", "ragged")
UNITS = 64
DROPOUT = 0.3
LEARNING_RATE = 1e-3


@keras.saving.register_keras_serializable(package="rnn_labs")
class DensifyRagged(layers.Layer):
    """Turn a ragged batch into a dense, zero-padded one plus a mask.

    Keras 3 recurrent layers reject ``tf.RaggedTensor`` input ("Cannot index into an
    inner ragged dimension"). Padding each batch only to its own longest message and
    passing the mask on makes the RNN skip the padding, so a message gets the same
    prediction whatever batch it is in.
    """

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def call(self, inputs):
        if isinstance(inputs, tf.RaggedTensor):
            return inputs.to_tensor()
        return inputs

    def compute_mask(self, inputs, mask=None):
        if isinstance(inputs, tf.RaggedTensor):
            lengths = inputs.row_lengths()
            return tf.sequence_mask(lengths, maxlen=tf.reduce_max(lengths))
        return mask


def recurrent_layer(variant, units):
    """``lstm`` → LSTM(units); ``bi-lstm`` → Bidirectional(LSTM(units)); and so on."""
    cell = variant.removeprefix("bi-")
    if variant not in VARIANTS:
        raise ValueError(f"unknown variant {variant!r}; choose from {', '.join(VARIANTS)}")
    layer = RECURRENT_LAYERS[cell](units)
    return layers.Bidirectional(layer) if variant.startswith("bi-") else layer


def build_model(variant, inputs, vector_size, maxlen=50, units=UNITS, dropout=DROPOUT,
                learning_rate=LEARNING_RATE):
    """The course's classifier: RNN(64) → Dropout(0.3) → Dense(1, sigmoid), Adam, BCE.

    ``inputs="padded"`` takes (maxlen, vector_size) batches with no mask, as in the course:
    the RNN reads the zero vectors. ``inputs="ragged"`` takes a ragged batch of any length.
    """
    if inputs == "padded":
        sequence = keras.Input(shape=(maxlen, vector_size), name="token_vectors")
        features = sequence
    elif inputs == "ragged":
        sequence = keras.Input(shape=(None, vector_size), ragged=True, name="token_vectors")
        features = DensifyRagged()(sequence)
    else:
        raise ValueError(f"unknown inputs {inputs!r}; choose from {', '.join(INPUT_KINDS)}")
    features = recurrent_layer(variant, units)(features)
    features = layers.Dropout(dropout)(features)
    probability = layers.Dense(1, activation="sigmoid", name="spam_probability")(features)
    model = keras.Model(sequence, probability, name=f"spam_{variant}_{inputs}".replace("-", "_"))
    model.compile(optimizer=keras.optimizers.Adam(learning_rate),
                  loss="binary_crossentropy", metrics=["accuracy"])
    return model


def load_model(path):
    """A saved spam model, with its custom layer passed explicitly."""
    try:
        return keras.models.load_model(path, custom_objects={"DensifyRagged": DensifyRagged})
    except Exception as error:  # noqa: BLE001  (a damaged file: Keras raises many kinds)
        raise LabError(f"cannot load {path}: the file is damaged or not a Keras model "
                       f"({type(error).__name__}); retrain it with `make spam`") from None


def check_signature(model, metadata, path):
    """The metadata must describe the model it sits beside: input kind, length, vector size.
    A padded model fed ragged inputs (or the reverse) would answer, wrongly."""
    _, length, vector_size = model.input_shape
    actual = "ragged" if length is None else "padded"
    problems = []
    if metadata["inputs"] != actual:
        problems.append(f"it says {metadata['inputs']!r} inputs but the model takes {actual}")
    if actual == "padded" and length != metadata["maxlen"]:
        problems.append(f"it says maxlen {metadata['maxlen']} but the model takes {length}")
    if vector_size != metadata["vector_size"]:
        problems.append(f"it says vector size {metadata['vector_size']} but the model takes "
                        f"{vector_size}")
    if problems:
        raise LabError(f"{path.with_suffix('.json')} does not match {path.name}: "
                       f"{'; '.join(problems)}; retrain it with `make spam`")
