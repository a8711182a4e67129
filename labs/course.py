"""The course's recipes as the course writes them: the reference the labs are measured
and tested against.

Nothing here is fast or clever on purpose. The tests use these functions as oracles (the
labs' windows, one-hot encoding and sampler must agree with them) and the bench times the
labs against them (``bench/``).
"""

import numpy as np


def vectorise(text, maxlen, step):
    """The course's data preparation: boolean one-hot ``x`` (windows) and ``y`` (next char)."""
    chars = sorted(list(set(text)))
    char_indices = dict((c, i) for i, c in enumerate(chars))
    sentences = []
    next_chars = []
    for i in range(0, len(text) - maxlen, step):
        sentences.append(text[i: i + maxlen])
        next_chars.append(text[i + maxlen])
    x = np.zeros((len(sentences), maxlen, len(chars)), dtype=bool)
    y = np.zeros((len(sentences), len(chars)), dtype=bool)
    for i, sentence in enumerate(sentences):
        for t, char in enumerate(sentence):
            x[i, t, char_indices[char]] = 1
        y[i, char_indices[next_chars[i]]] = 1
    return chars, x, y


def char_model(maxlen, vocabulary_size, units=128, learning_rate=0.01):
    """The course's network: one-hot input → LSTM(128) → Dense(softmax), RMSprop."""
    import keras
    from keras import layers

    model = keras.Sequential([
        keras.Input(shape=(maxlen, vocabulary_size)),
        layers.LSTM(units),
        layers.Dense(vocabulary_size, activation="softmax"),
    ])
    model.compile(loss="categorical_crossentropy",
                  optimizer=keras.optimizers.RMSprop(learning_rate=learning_rate))
    return model


def sample(preds, temperature=1.0, random_state=np.random):
    """The course's sampler; ``random_state`` lets a test seed it (default: ``np.random``)."""
    preds = np.asarray(preds).astype("float64")
    preds = np.log(preds) / temperature
    exp_preds = np.exp(preds)
    preds = exp_preds / np.sum(exp_preds)
    probas = random_state.multinomial(1, preds, 1)
    return np.argmax(probas)


def generate(model, sentence, chars, maxlen, length, temperature, seed):
    """The course's generation loop: re-feed the window, one ``model.predict`` a character."""
    char_indices = dict((c, i) for i, c in enumerate(chars))
    np.random.seed(seed)
    generated = ""
    for i in range(length):
        x_pred = np.zeros((1, maxlen, len(chars)))
        for t, char in enumerate(sentence):
            x_pred[0, t, char_indices[char]] = 1.0
        preds = model.predict(x_pred, verbose=0)[0]
        next_index = sample(preds, temperature)
        next_char = chars[next_index]
        sentence = sentence[1:] + next_char
        generated += next_char
    return generated
