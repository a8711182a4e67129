"""SMS spam detector lab: spaCy token vectors → RNN variants, padded and ragged, and models
that learn their input from the text, compared with classical baselines on the same folds.

The lesson, in the order the code runs it (start reading at ``lab.train_command``; every
setting it reads is a field of ``config.Settings`` and its ``config.Recipe``):

1. ``data``: load the SMS Spam Collection, encode the labels, cut 5 stratified grouped
   folds (``Fold``: copies of a message stay on one side) and, inside each training part, a
   validation part (``Fold.for_recipe``); build padded (course, maxlen 50) or ragged inputs.
2. ``labs.embeddings``: token vectors from the best spaCy pipeline installed, cached, with
   optional token attributes.
3. ``models``: one builder for every variant — SimpleRNN, LSTM, GRU, their Bidirectional
   versions and a small Transformer encoder — over padded or ragged inputs.
   ``text_models``: the models that read what the n-gram baselines read — learned words,
   characters, a spaCy + characters hybrid, a bag of n-gram embeddings, an MLP on TF-IDF
   features — their vocabularies fitted on each fold's fit part, their text processing
   saved with them.
4. ``train``: the two recipes (the course's, and the tuned one that chooses epoch and
   threshold on the validation part), one variant on one fold, the test part predicted once.
5. ``baselines``: TF-IDF word and character n-grams into linear models, C chosen by grouped
   cross-validation inside the training part; the course's weak baseline as a labelled row.
6. ``stats``: 95% intervals over folds, the corrected paired t-test, plain verdicts.
7. ``report``: per-model history, confusion matrix and classification report; one
   comparison (reading guide, table, pairwise tests, plot) and the lab's index section.

``lab.predict_command`` classifies new messages with a saved model (``labs.saving``). The
command line is ``cli``: run it all with ``python -m labs.spam --help``.
"""
