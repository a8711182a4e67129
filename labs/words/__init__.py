"""Word-level language model lab: Embedding → LSTM → softmax over words, with perplexity.

    python -m labs.words                                  # Nietzsche, report and samples
    python -m labs.words --tokens subword                 # a byte-level BPE: nothing unknown
    python -m labs.words --corpus leopardi --seed-phrase "sempre caro mi fu"
    python -m labs.words --framework pytorch              # the course's RNNModel, in PyTorch

The lesson, in the order the code runs it (start reading at ``lab.run``; every setting is
an option of ``cli`` with its default in ``config``):

1. ``data``: ``--tokens words``: lowercased words (``\\w+``, an inner apostrophe kept:
   "don't", "l'erme") and punctuation marks, each its own token: punctuation carries the
   rhythm of the text, and generating it makes samples readable. Words seen fewer than
   ``--min-count`` times in the training text become ``<unk>``, which is never sampled.
   ``--tokens subword``: a byte-level BPE of ``--vocabulary-size`` tokens learned from the
   training text only (``labs.tokens``), so no word is unknown. Windows of tokens → the
   next one; the unigram model, the number a language model has to beat.
2. ``model``: the Keras network, Embedding → LSTM (or SimpleRNN) → softmax; the probability
   it gives each true token (perplexity); generation with a ``labs.sampling`` method.
   ``torch_model``: the course's ``RNNModel`` written natively in PyTorch, the same sizes,
   trained on the same windows and scored by the same code.
3. ``lab``: the text is cut as the poetry lab cuts it (``labs.poetry.data.held_out_parts``):
   the model learns from the first 85%, the next 5% chooses its epoch (early stopping), and
   the last 10% is scored once, at the end: perplexity per token beside the unigram model's
   and **bits per character**, the measure every model of the course shares (``make gpt2``'s
   comparison).
4. ``report``: report.md with the samples of each method, history.png, metrics.json.

The command line is ``cli``: run it all with ``python -m labs.words --help``.
"""
