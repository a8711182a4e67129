"""One process, one recipe: seconds per training epoch and peak memory (bench worker).

    python -m bench.train_epoch --recipe course --batch-size 128 --epochs 4
    python -m bench.train_epoch --recipe lab --batch-size 256 --fraction 0.25

Run in a fresh process per recipe so that each peak resident memory is its own. Prints
one JSON line. Both recipes train the same network (LSTM(128) → Dense(vocabulary,
softmax), RMSprop lr 0.01) on the same windows of Leopardi (maxlen 40, step 1, the whole
text as in the course).
"""

import argparse
import json
import resource
import time

import numpy as np

import labs  # noqa: F401  (quiets TensorFlow)
from labs import data


def peak_megabytes():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kilobytes


def course_vectorisation(text, maxlen, step):
    """The course's data preparation, as written: boolean one-hot X and y."""
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


def course_recipe(text, maxlen, step, batch_size, epochs, timer):
    """The course as written: boolean one-hot X and y in NumPy, then model.fit."""
    import keras
    from keras import layers

    chars, x, y = course_vectorisation(text, maxlen, step)
    model = keras.Sequential([
        keras.Input(shape=(maxlen, len(chars))),
        layers.LSTM(128),
        layers.Dense(len(chars), activation="softmax"),
    ])
    model.compile(loss="categorical_crossentropy",
                  optimizer=keras.optimizers.RMSprop(learning_rate=0.01))
    model.fit(x, y, batch_size=batch_size, epochs=epochs, callbacks=[timer], verbose=0)
    return len(x)


def lab_recipe(text, maxlen, step, batch_size, epochs, timer):
    """The lab: uint8 windows, one-hot inside the model, tf.data without autotune."""
    from labs.models import build_char_model
    from labs.poetry import build_vocabulary, make_dataset, make_windows

    vocabulary = build_vocabulary([text])
    inputs, targets = make_windows([text], vocabulary, maxlen, step)
    model = build_char_model(len(vocabulary), maxlen, clipnorm=None)
    model.fit(make_dataset(inputs, targets, batch_size, seed=0), epochs=epochs,
              callbacks=[timer], shuffle=False, verbose=0)
    return len(inputs)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipe", choices=("course", "lab"), required=True, help="which pipeline")
    parser.add_argument("--batch-size", type=int, default=128, help="batch size (default: 128)")
    parser.add_argument("--epochs", type=int, default=4, help="epochs; the first is warm-up")
    parser.add_argument("--fraction", type=float, default=1.0,
                        help="leading fraction of Leopardi to train on (default: 1.0)")
    parser.add_argument("--maxlen", type=int, default=40, help="window length (default: 40)")
    parser.add_argument("--step", type=int, default=1, help="window stride (default: 1)")
    args = parser.parse_args(argv)
    import keras

    from labs.models import EpochTimer

    keras.utils.set_random_seed(0)
    baseline = peak_megabytes()
    text = data.load_text(data.locate("leopardi.txt", log=lambda message: None))
    text = text[:int(len(text) * args.fraction)]
    timer = EpochTimer()
    recipe = course_recipe if args.recipe == "course" else lab_recipe
    started = time.perf_counter()
    windows = recipe(text, args.maxlen, args.step, args.batch_size, args.epochs, timer)
    print(json.dumps({"recipe": args.recipe, "batch_size": args.batch_size,
                      "fraction": args.fraction, "characters": len(text), "windows": windows,
                      "epoch_seconds": timer.seconds, "total_seconds": time.perf_counter() - started,
                      "peak_rss_mb": peak_megabytes(), "rss_after_imports_mb": baseline}))


if __name__ == "__main__":
    main()
