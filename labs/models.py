"""Model builders: every variant behind one function, chosen by name.

Spam: ``build_spam_model("bi-lstm", "ragged", vector_size)``. Poetry:
``build_char_model(vocabulary_size, maxlen, cell="lstm")``. Both return compiled models.
"""

import keras
import tensorflow as tf
from keras import layers

RECURRENT_LAYERS = {"simplernn": layers.SimpleRNN, "lstm": layers.LSTM, "gru": layers.GRU}
SPAM_VARIANTS = ("simplernn", "lstm", "gru", "bi-simplernn", "bi-lstm", "bi-gru")
INPUT_KINDS = ("padded", "ragged")


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


def recurrent_layer(variant, units, **kwargs):
    """``lstm`` → LSTM(units); ``bi-lstm`` → Bidirectional(LSTM(units)); and so on."""
    bidirectional = variant.startswith("bi-")
    cell = variant.removeprefix("bi-")
    if cell not in RECURRENT_LAYERS:
        raise ValueError(f"unknown variant {variant!r}; choose from {', '.join(SPAM_VARIANTS)}")
    layer = RECURRENT_LAYERS[cell](units, **kwargs)
    return layers.Bidirectional(layer) if bidirectional else layer


def build_spam_model(variant, inputs, vector_size, maxlen=50, units=64, dropout=0.3,
                     learning_rate=1e-3):
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


@keras.saving.register_keras_serializable(package="rnn_labs")
class OneHot(layers.Layer):
    """Character indices → one-hot vectors, inside the model.

    The network is the course's one-hot LSTM, but the data stays one uint8 index per
    character: 1/vocabulary of the memory of the course's boolean ``X``.
    """

    def __init__(self, depth, **kwargs):
        super().__init__(**kwargs)
        self.depth = depth

    def call(self, inputs):
        return keras.ops.one_hot(keras.ops.cast(inputs, "int32"), self.depth)

    def compute_output_shape(self, input_shape):
        return (*input_shape, self.depth)

    def get_config(self):
        return {**super().get_config(), "depth": self.depth}


CHAR_CELLS = ("lstm", "gru", "simplernn")


class EpochTimer(keras.callbacks.Callback):
    """Wall-clock seconds of every epoch (training and validation), for reports and benches."""

    def __init__(self):
        super().__init__()
        self.seconds = []

    def on_epoch_begin(self, epoch, logs=None):
        import time

        self.started = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        import time

        self.seconds.append(time.perf_counter() - self.started)


def build_char_model(vocabulary_size, maxlen, cell="lstm", layers_count=1, units=128,
                     optimizer="rmsprop", learning_rate=0.01, clipnorm=1.0, one_hot_inside=True):
    """The course's character model: [RNN(units)] × layers → Dense(vocabulary, softmax).

    ``one_hot_inside=False`` builds the course's exact input, a (maxlen, vocabulary)
    one-hot tensor, for comparison; the weights of both versions are interchangeable.
    Gradient clipping (``clipnorm``) keeps RMSprop at lr 0.01 from diverging in long runs.
    """
    if cell not in CHAR_CELLS:
        raise ValueError(f"unknown cell {cell!r}; choose from {', '.join(CHAR_CELLS)}")
    if layers_count < 1 or units < 1:
        raise ValueError("layers and units must be at least 1")
    if one_hot_inside:
        characters = keras.Input(shape=(maxlen,), dtype="uint8", name="characters")
        features = OneHot(vocabulary_size, name="one_hot")(characters)
    else:
        characters = keras.Input(shape=(maxlen, vocabulary_size), name="one_hot_characters")
        features = characters
    for layer in range(layers_count):
        last = layer == layers_count - 1
        features = RECURRENT_LAYERS[cell](units, return_sequences=not last,
                                          name=f"{cell}_{layer + 1}")(features)
    probabilities = layers.Dense(vocabulary_size, activation="softmax",
                                 name="next_character")(features)
    model = keras.Model(characters, probabilities, name=f"char_{cell}")
    if optimizer == "rmsprop":
        chosen = keras.optimizers.RMSprop(learning_rate, clipnorm=clipnorm)
    elif optimizer == "adam":
        chosen = keras.optimizers.Adam(learning_rate, clipnorm=clipnorm)
    else:
        raise ValueError(f"unknown optimizer {optimizer!r}; choose rmsprop or adam")
    model.compile(optimizer=chosen, loss="sparse_categorical_crossentropy")
    return model
