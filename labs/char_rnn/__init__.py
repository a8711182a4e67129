"""Char-RNN from scratch lab: a character RNN in NumPy, what the Keras layers do, one
function a step.

    python -m labs.char_rnn --corpus leopardi          # train, sample, report
    python -m labs.char_rnn --iterations 2000 --hidden 64

The lesson, in the order the code runs it (start reading at ``lab.run``; every setting is
an option of ``cli`` with its default in ``config``):

1. ``model``: the vocabulary (the sorted distinct characters), the text as indices cut into
   25-character chunks, then the network: embedding lookup → tanh RNN → logits, the
   softmax cross-entropy, backpropagation through time (``backward``, checked against
   ``numerical_gradient``), gradient clipping and Adagrad, as in Karpathy's min-char-rnn.
2. ``sampling``: one step at a time, the hidden state carried along, each character drawn
   with a ``labs.sampling`` method.
3. ``training``: truncated BPTT, the hidden state carried from one chunk to the next, the
   loss smoothed as min-char-rnn smooths it, samples as it learns; the held-out loss.
4. ``report``: the loss against the two baselines every model must beat, the uniform guess
   (ln V nats) and the unigram model (the entropy of the character frequencies).

The exercise ``exercises/char-rnn.ipynb`` has a student write these functions one by one;
its checks call this package's as the reference. The command line is ``cli``: run it all
with ``python -m labs.char_rnn --help``.
"""
