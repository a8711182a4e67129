"""Poetry generator lab: a one-hot character-level LSTM on Leopardi and on Nietzsche.

The lesson, in the order the code runs it (start reading at ``lab.train_command``; every
setting it reads is a field of ``config.Config``):

1. ``data``: read the corpus (``Corpus``), build the vocabulary (the sorted distinct
   characters), hold out the last 10% of the text, cut windows of ``maxlen`` characters →
   the next one.
2. ``models``: the course's network, [LSTM(128)] → Dense(softmax), with the one-hot
   encoding inside the model (``models.build(config, vocabulary_size)``); beside it the same
   network in NumPy for fast generation.
3. ``train``: ``model.fit`` with early stopping on the held-out text, samples every epoch,
   the metrics a report needs (loss in nats and bits per character, perplexity).
4. ``generate``: re-feed the last ``maxlen`` characters, draw the next one with a sampling
   method (``labs.sampling``: temperature, greedy, top-k, top-p).
5. ``report``: history plot, samples at several temperatures, the lab's index section.

Beyond the course: ``--objective every-step`` (a target at every position, ``train.
EveryStepBatches``), ``--input embedding``, ``--cell transformer`` (``transformer``: a causal
transformer and its NumPy twin with a key/value cache), one held-out measure for all of them
(``train.next_char_loss``), the best epoch saved as it happens and ``--resume``
(``train.Checkpoints``), ``--dropout`` and ``--schedule cosine`` (``train.CosineSchedule``),
``compare``: every configuration for one time budget against the course model's curve, and
``tune``: an Optuna search for the configuration that learns most in that budget, scored on
the validation part (never the held-out text); its winner is compare's tuned configuration.

``generate.generate_command`` writes text with a saved model, without retraining. The
command line is ``cli``: run it all with ``python -m labs.poetry --help``.
"""
