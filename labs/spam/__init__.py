"""SMS spam detector lab: spaCy token vectors → RNN variants, padded and ragged, compared.

The lesson, in the order the code runs it (start reading at ``lab.train_command``):

1. ``data``: load the SMS Spam Collection, encode the labels, split 80/20 so that copies of
   a message stay on one side; build padded (course, maxlen 50) or ragged inputs.
2. ``labs.embeddings``: token vectors from the best spaCy pipeline installed, cached.
3. ``models``: one builder for every variant — SimpleRNN, LSTM, GRU and their
   Bidirectional versions — over padded or ragged inputs (``DensifyRagged``).
4. ``train``: fit each variant with several seeds, predict the test split once, score it
   with scikit-learn; the TF-IDF + logistic-regression baseline on the same split.
5. ``report``: per-variant history, confusion matrix and classification report; one
   comparison of all variants (table, CSV, plot) and the lab's section of the index.

``lab.predict_command`` classifies new messages with a saved model. Run it all with
``python -m labs.spam --help``.
"""
