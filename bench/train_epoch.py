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

import keras

from labs import course, data
from labs.poetry import data as poetry_data
from labs.poetry.models import build_model
from labs.training import EpochTimer, make_dataset


def peak_megabytes():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: kilobytes


def course_recipe(text, maxlen, step, batch_size, epochs, timer):
    """The course as written: boolean one-hot X and y in NumPy, then model.fit."""
    chars, x, y = course.vectorise(text, maxlen, step)
    model = course.char_model(maxlen, len(chars))
    model.fit(x, y, batch_size=batch_size, epochs=epochs, callbacks=[timer], verbose=0)
    return len(x)


def lab_recipe(text, maxlen, step, batch_size, epochs, timer):
    """The lab: uint8 windows, one-hot inside the model, tf.data without autotune."""
    vocabulary = poetry_data.build_vocabulary([text])
    inputs, targets = poetry_data.make_windows([text], vocabulary, maxlen, step)
    model = build_model(len(vocabulary), maxlen, clipnorm=None)
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
                      "epoch_seconds": timer.seconds,
                      "total_seconds": time.perf_counter() - started,
                      "peak_rss_mb": peak_megabytes(), "rss_after_imports_mb": baseline}))


if __name__ == "__main__":
    main()
