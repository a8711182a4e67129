"""The course's PyTorch word model, written natively: ``python -m labs.words --framework pytorch``.

The course's GPT-2 notebook opens with this model: ``RNNModel(nn.Module)`` is
``nn.Embedding`` → ``nn.RNN`` → ``nn.Linear``, trained with ``torch.optim.Adam`` and
``nn.CrossEntropyLoss``, generating by taking ``torch.max`` of the output for the last word
and feeding it back with the hidden state. Here it learns exactly the word lab's windows,
with the Keras model's sizes and optimizer (``nn.LSTM`` by default, as the Keras model;
``--cell rnn`` is the course's ``nn.RNN``), chooses its epoch on the same validation part,
and is scored by the lab's own code: ``TorchPredictor.predict_on_batch`` is all the lab's
perplexity, bits-per-character and samplers ask of a model.

PyTorch's defaults differ from Keras's in two places that matter to a fair comparison and
are matched here: Keras's ``clipnorm`` clips each weight's gradient by its own norm (not the
global norm of ``clip_grad_norm_``), and Keras initialises differently (Glorot and orthogonal
against PyTorch's uniform): left as PyTorch's, as the course leaves it.
"""

import time

import numpy as np
import torch
from torch import nn

from labs.cli import check_interrupted, note_progress

CELLS = {"lstm": nn.LSTM, "rnn": nn.RNN}


class RNNModel(nn.Module):
    """Embedding → RNN (or LSTM) → Linear over the vocabulary, as the course writes it."""

    def __init__(self, vocab_size, embed_size, hidden_size, num_layers=1, cell="lstm"):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embed_size)
        self.rnn = CELLS[cell](embed_size, hidden_size, num_layers, batch_first=True)
        self.linear = nn.Linear(hidden_size, vocab_size)

    def forward(self, x, h=None):
        """Token ids (batch, steps) → logits at every step, and the last hidden state."""
        out, h = self.rnn(self.embedding(x), h)
        return self.linear(out), h

    def next_logits(self, x):
        """The last step's logits only, all that a window → next-word model is trained and
        scored on: the output layer over the vocabulary is most of the work, and ``forward``
        applies it at every step."""
        out, _ = self.rnn(self.embedding(x))
        return self.linear(out[:, -1])


class TorchPredictor:
    """The face of a Keras model that the word lab's scoring and sampling use."""

    def __init__(self, model):
        self.model = model

    @torch.no_grad()
    def predict_on_batch(self, inputs):
        """Windows → the next token's probabilities (the softmax of the last step)."""
        self.model.eval()
        logits = self.model.next_logits(torch.as_tensor(np.asarray(inputs), dtype=torch.long))
        return torch.softmax(logits, dim=-1).numpy()

    def count_params(self):
        return sum(parameter.numel() for parameter in self.model.parameters())


def clip_each(model, clipnorm):
    """Keras's ``clipnorm``: every weight's gradient clipped by its own norm."""
    for parameter in model.parameters():
        if parameter.grad is not None:
            nn.utils.clip_grad_norm_([parameter], clipnorm)


def epoch_loss(model, loss_function, inputs, targets, batch_size=2048):
    """The mean cross-entropy of the last step's prediction over every window."""
    model.eval()
    total = 0.0
    with torch.no_grad():
        for start in range(0, len(inputs), batch_size):
            logits = model.next_logits(inputs[start:start + batch_size])
            total += loss_function(logits, targets[start:start + batch_size]).item() * len(logits)
    return total / len(inputs)


def train_epoch(model, optimizer, loss_function, inputs, targets, batch_size, generator,
                clipnorm):
    """One pass over the shuffled windows; the mean training loss."""
    model.train()
    order = torch.randperm(len(inputs), generator=generator)
    total = 0.0
    for start in range(0, len(inputs), batch_size):
        check_interrupted()
        batch = order[start:start + batch_size]
        optimizer.zero_grad()
        loss = loss_function(model.next_logits(inputs[batch]), targets[batch])
        loss.backward()
        clip_each(model, clipnorm)
        optimizer.step()
        total += loss.item() * len(batch)
    return total / len(inputs)


def fit(model, training, validation, epochs, batch_size, learning_rate, patience, seed,
        clipnorm=1.0, log=print):
    """Adam and cross-entropy, early stopping on the validation loss with the best epoch's
    weights restored, as the Keras model trains: a ``History``-like dict of lists."""
    generator = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=learning_rate)
    loss_function = nn.CrossEntropyLoss()
    (train_x, train_y), (valid_x, valid_y) = [
        (torch.as_tensor(x, dtype=torch.long), torch.as_tensor(y, dtype=torch.long))
        for x, y in (training, validation)]
    history, best, best_state = {"loss": [], "val_loss": []}, float("inf"), None
    for epoch in range(1, epochs + 1):
        started = time.perf_counter()
        history["loss"].append(train_epoch(model, optimizer, loss_function, train_x, train_y,
                                           batch_size, generator, clipnorm))
        history["val_loss"].append(epoch_loss(model, loss_function, valid_x, valid_y))
        log(f"epoch {epoch}/{epochs}: loss {history['loss'][-1]:.4f}, validation loss "
            f"{history['val_loss'][-1]:.4f}, {time.perf_counter() - started:.0f} s")
        note_progress(f"after epoch {epoch}")
        if history["val_loss"][-1] < best:
            best = history["val_loss"][-1]
            best_state = {name: value.clone() for name, value in model.state_dict().items()}
        elif epoch - 1 - int(np.argmin(history["val_loss"])) >= patience:
            break
    model.load_state_dict(best_state)
    return history


@torch.no_grad()
def course_greedy(model, seed_ids, length):
    """The course's generation: the seed through the network once, then each new word fed
    back with the hidden state, always the ``torch.max`` of the last output."""
    model.eval()
    logits, hidden = model(torch.as_tensor([seed_ids], dtype=torch.long))
    output = []
    for _ in range(length):
        _, predicted = torch.max(logits[:, -1], 1)
        output.append(int(predicted))
        logits, hidden = model(predicted.view(1, 1), hidden)
    return output


def device():
    """What the PyTorch model ran on, for the report's device line."""
    return f"PyTorch {torch.__version__} ({torch.get_num_threads()} threads)"


def summary(model):
    """The module tree and its size, as ``model_summary.txt`` holds a Keras model's."""
    return f"{model}\n\nparameters: {sum(p.numel() for p in model.parameters()):,}\n"
