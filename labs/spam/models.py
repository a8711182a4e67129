"""The spam classifiers: every variant behind one builder, chosen by name.

``build_model("bi-lstm", "ragged", vector_size)`` returns a compiled model; its custom
layers are registered with Keras, so ``labs.saving.load_model`` reads a saved one back.
The six recurrent variants are the course's; ``transformer`` is a small attention encoder
over the same token vectors, so that RNNs meet attention on equal terms.
"""

import keras
import tensorflow as tf
from keras import layers

from labs.cli import LabError
from labs.spam.config import INPUT_KINDS
from labs.training import RECURRENT_LAYERS

RECURRENT_VARIANTS = ("simplernn", "lstm", "gru", "bi-simplernn", "bi-lstm", "bi-gru")
VARIANTS = (*RECURRENT_VARIANTS, "transformer")
POOLINGS = ("last", "max")
UNITS = 64
DROPOUT = 0.3
LEARNING_RATE = 1e-3
# The transformer: model width, heads, feed-forward width, and the longest message it reads
# (the longest in the collection has 196 tokens; longer ones are cut).
MODEL_DIM = 64
HEADS = 2
FEED_FORWARD = 128
MAX_POSITIONS = 256


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


@keras.saving.register_keras_serializable(package="rnn_labs")
class MaxOverTime(layers.Layer):
    """The largest value of each feature over the real (unmasked) time steps; zeros for a
    message with none (a text model's message made only of unknown symbols)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True

    def call(self, inputs, mask=None):
        if mask is None:
            return keras.ops.max(inputs, axis=1)
        largest = keras.ops.max(keras.ops.where(mask[..., None], inputs, float("-inf")), axis=1)
        return keras.ops.where(keras.ops.any(mask, axis=1)[:, None], largest, 0.0)

    def compute_mask(self, inputs, mask=None):
        return None


@keras.saving.register_keras_serializable(package="rnn_labs")
class TransformerEncoder(layers.Layer):
    """One encoder block over masked token vectors, then the mean over the real tokens:
    width projection + learned positions → self-attention (padding never attended to) and a
    feed-forward block, each with a residual connection and layer normalisation.

    The mask is applied explicitly (attention mask, masked mean), so a message gets the same
    output in any batch, padded to any length."""

    def __init__(self, model_dim=MODEL_DIM, heads=HEADS, feed_forward=FEED_FORWARD,
                 max_positions=MAX_POSITIONS, dropout=DROPOUT, **kwargs):
        super().__init__(**kwargs)
        self.settings = {"model_dim": model_dim, "heads": heads, "feed_forward": feed_forward,
                         "max_positions": max_positions, "dropout": dropout}
        self.supports_masking = True
        self.projection = layers.Dense(model_dim)
        self.positions = layers.Embedding(max_positions, model_dim)
        self.attention = layers.MultiHeadAttention(heads, model_dim // heads, dropout=dropout)
        self.hidden = layers.Dense(feed_forward, activation="relu")
        self.output_projection = layers.Dense(model_dim)
        self.dropout = layers.Dropout(dropout)
        self.first_norm = layers.LayerNormalization()
        self.second_norm = layers.LayerNormalization()

    def build(self, input_shape):
        sequence = (input_shape[0], input_shape[1], self.settings["model_dim"])
        self.projection.build(input_shape)
        self.positions.build((None,))
        self.attention.build(sequence, sequence)
        self.hidden.build(sequence)
        self.output_projection.build((*sequence[:2], self.settings["feed_forward"]))
        self.first_norm.build(sequence)
        self.second_norm.build(sequence)

    def call(self, inputs, mask=None, training=None):
        inputs = inputs[:, :self.settings["max_positions"]]
        length = keras.ops.shape(inputs)[1]
        valid = (keras.ops.ones(keras.ops.shape(inputs)[:2], "bool") if mask is None
                 else keras.ops.cast(mask[:, :self.settings["max_positions"]], "bool"))
        features = self.projection(inputs) + self.positions(keras.ops.arange(length))[None]
        pairs = keras.ops.logical_and(valid[:, :, None], valid[:, None, :])
        attended = self.attention(features, features, attention_mask=pairs, training=training)
        features = self.first_norm(features + attended)
        forward = self.output_projection(self.dropout(self.hidden(features), training=training))
        features = self.second_norm(features + forward)
        weights = keras.ops.cast(valid, features.dtype)[:, :, None]
        return keras.ops.sum(features * weights, axis=1) / keras.ops.maximum(
            keras.ops.sum(weights, axis=1), 1.0)

    def compute_mask(self, inputs, mask=None):
        return None

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.settings["model_dim"])

    def get_config(self):
        return {**super().get_config(), **self.settings}


def recurrent_layer(variant, units, return_sequences=False):
    """``lstm`` → LSTM(units); ``bi-lstm`` → Bidirectional(LSTM(units)); and so on."""
    cell = variant.removeprefix("bi-")
    if variant not in RECURRENT_VARIANTS:
        raise ValueError(f"unknown variant {variant!r}; choose from {', '.join(VARIANTS)}")
    layer = RECURRENT_LAYERS[cell](units, return_sequences=return_sequences)
    return layers.Bidirectional(layer) if variant.startswith("bi-") else layer


def recurrent_encoder(features, variant, units, pooling):
    """``last``: the course's last hidden state. ``max``: every hidden state in turn, and
    the largest value of each unit over the message (a spam cue anywhere in a long message
    reaches the output as directly as one at its end); padding is masked out of the
    maximum."""
    if pooling == "last":
        return recurrent_layer(variant, units)(features)
    if pooling != "max":
        raise ValueError(f"unknown pooling {pooling!r}; choose from {', '.join(POOLINGS)}")
    sequence = recurrent_layer(variant, units, return_sequences=True)(features)
    return MaxOverTime(name="max_over_time")(sequence)


def build_model(variant, inputs, vector_size, maxlen=50, units=UNITS, dropout=DROPOUT,
                learning_rate=LEARNING_RATE, mask_padding=False, pooling="last"):
    """The course's classifier: RNN(64) → Dropout(0.3) → Dense(1, sigmoid), Adam, BCE.

    ``inputs="padded"`` takes (maxlen, vector_size) batches; with no mask, as in the course,
    the RNN reads the zero vectors; ``mask_padding=True`` masks them. ``inputs="ragged"``
    takes a ragged batch of any length, masked. ``variant="transformer"`` puts the attention
    encoder where the RNN was (padding always masked).
    ``pooling`` (recurrent variants): the ``last`` hidden state,
    as in the course, or the ``max`` over all of them.
    """
    if variant not in VARIANTS:
        raise ValueError(f"unknown variant {variant!r}; choose from {', '.join(VARIANTS)}")
    if inputs == "padded":
        sequence = keras.Input(shape=(maxlen, vector_size), name="token_vectors")
        masked = mask_padding or variant == "transformer"
        features = layers.Masking(0.0, name="padding_mask")(sequence) if masked else sequence
    elif inputs == "ragged":
        sequence = keras.Input(shape=(None, vector_size), ragged=True, name="token_vectors")
        features = DensifyRagged()(sequence)
    else:
        raise ValueError(f"unknown inputs {inputs!r}; choose from {', '.join(INPUT_KINDS)}")
    if variant == "transformer":
        features = TransformerEncoder(dropout=dropout, name="transformer_encoder")(features)
    else:
        features = recurrent_encoder(features, variant, units, pooling)
    features = layers.Dropout(dropout)(features)
    probability = layers.Dense(1, activation="sigmoid", name="spam_probability")(features)
    model = keras.Model(sequence, probability, name=f"spam_{variant}_{inputs}".replace("-", "_"))
    model.compile(optimizer=keras.optimizers.Adam(learning_rate),
                  loss="binary_crossentropy", metrics=["accuracy"])
    return model


def check_signature(model, metadata, path):
    """The metadata must describe the model it sits beside: input kind, length, vector size.
    A padded model fed ragged inputs (or the reverse) would answer, wrongly."""
    expected = f"spam_{metadata['variant']}".replace("-", "_")
    if metadata["inputs"] == "text" or not model.name.endswith(("_padded", "_ragged")):
        if model.name != expected:
            raise LabError(f"{path.with_suffix('.json')} does not match {path.name}: it says "
                           f"{expected} but the model is {model.name}; retrain it with "
                           "`make spam`")
        return
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
