"""Prompt → continuation with keras-hub's compiled generation loop, and a chat on top of it.

The course's recipe, ``generate(max_length, num_return_sequences, no_repeat_ngram_size=2,
do_sample=True)``, in keras-hub terms: the prompt is tokenized here (so the number of new
tokens is exact and the ids stay visible), ``GPT2CausalLM.generate`` runs with the
preprocessor detached, and the sampler is one of keras-hub's. keras-hub has no
``no_repeat_ngram_size``: ``NoRepeatNgram`` adds it by wrapping the function that gives the
sampler each step's logits, so it works under every sampler, beam search included.
"""

import sys
import time

import keras
import numpy as np
from keras import ops

from labs.cli import LabError, decoded
from labs.gpt2.config import Generation
from labs.gpt2.presets import keras_hub

BANNED = -1e9  # a logit no softmax turns into a probability above 0


def banned_logits(logits, tokens, index, size):
    """``logits`` with every token that would complete an N-gram (N = ``size``) already in
    ``tokens[:, :index]`` set to ``BANNED``. ``tokens`` is the generation buffer: positions
    before ``index`` are written, the one at ``index`` is being chosen."""
    length, vocabulary = ops.shape(tokens)[1], ops.shape(logits)[-1]
    batch = ops.shape(tokens)[0]
    count = length - size + 1  # N-grams that fit in the buffer
    if count <= 0:
        return logits
    grams = ops.stack([tokens[:, k:k + count] for k in range(size)], axis=-1)  # (B, count, N)
    if size == 1:  # unigrams: every token written so far is banned, whatever came before
        same = ops.ones((batch, count), "bool")
    else:
        recent = ops.stack([ops.take(tokens, ops.maximum(index - size + 1 + k, 0), axis=1)
                            for k in range(size - 1)], axis=-1)  # (B, N - 1): the last N - 1
        same = ops.all(ops.equal(grams[:, :, :-1], recent[:, None, :]), axis=-1)
    written = ops.arange(count) + size - 1 < index  # the N-gram's last token is written
    banned = ops.logical_and(ops.logical_and(same, written[None, :]), index >= size - 1)
    rows = ops.repeat(ops.arange(batch)[:, None], count, axis=1)
    targets = ops.where(banned, grams[:, :, -1], vocabulary)  # vocabulary: a spare column
    positions = ops.reshape(ops.stack([rows, ops.cast(targets, rows.dtype)], axis=-1), (-1, 2))
    hits = ops.scatter(positions, ops.ones((batch * count,), "float32"),
                       (batch, vocabulary + 1))[:, :vocabulary]
    return ops.where(hits > 0, ops.cast(BANNED, logits.dtype), logits)


def no_repeat(sampler_class, size):
    """``sampler_class`` whose every step first bans the tokens that repeat an N-gram."""
    class NoRepeatNgram(sampler_class):
        def __call__(self, next, prompt, **kwargs):
            def guarded(tokens, cache, index):
                logits, hidden_states, cache = next(tokens, cache, index)
                return banned_logits(logits, tokens, index, size), hidden_states, cache
            return super().__call__(next=guarded, prompt=prompt, **kwargs)

    NoRepeatNgram.__name__ = f"NoRepeat{size}gram{sampler_class.__name__}"
    return NoRepeatNgram


def make_sampler(settings):
    """The keras-hub sampler of ``settings`` (a ``config.Generation``)."""
    samplers = keras_hub().samplers
    seeded = {"seed": settings.seed, "temperature": settings.temperature}
    choices = {"greedy": (samplers.GreedySampler, {}),
               "temperature": (samplers.RandomSampler, seeded),
               "top-k": (samplers.TopKSampler, {"k": settings.top_k, **seeded}),
               "top-p": (samplers.TopPSampler, {"p": settings.top_p, **seeded}),
               "beam": (samplers.BeamSampler, {"num_beams": settings.beams})}
    if settings.method not in choices:
        raise LabError(f"unknown sampling method {settings.method!r}; choose from "
                       f"{', '.join(choices)}")
    sampler_class, options = choices[settings.method]
    if settings.no_repeat_ngram:
        sampler_class = no_repeat(sampler_class, settings.no_repeat_ngram)
    return sampler_class(**options)


class Generator:
    """A ``GPT2CausalLM`` with its tokenizer: ids in, ids out, text at the edges."""

    def __init__(self, model, settings=None):
        settings = settings or Generation()
        self.model = model
        self.preprocessor = model.preprocessor
        self.tokenizer = self.preprocessor.tokenizer
        self.end = int(self.tokenizer.end_token_id)
        self.context = int(model.backbone.max_sequence_length)
        self.use(settings)

    def use(self, settings):
        vocabulary = int(self.tokenizer.vocabulary_size())
        for option, value, method in (("--top-k", settings.top_k, "top-k"),
                                      ("--beams", settings.beams, "beam")):
            if settings.method == method and value > vocabulary:
                raise LabError(f"{option} {value} is more than the model's vocabulary of "
                               f"{vocabulary:,} tokens; give at most {vocabulary}")
        keras.utils.set_random_seed(settings.seed)
        self.settings = settings
        self.model.sampler = make_sampler(settings)
        self.model.generate_function = None  # recompiled with the new sampler

    def encode(self, text):
        return [int(number) for number in np.asarray(self.tokenizer(text)).ravel()]

    def decode(self, ids):
        ids = [int(number) for number in ids]
        return "" if not ids else str(self.tokenizer.detokenize(np.array(ids, "int32")))

    def continue_ids(self, prompt_ids, count=1, max_new_tokens=None):
        """``count`` continuations (token id lists, the prompt left out) of ``prompt_ids``,
        with the start token before it; the prompt is cut from the left to leave room for
        ``max_new_tokens`` in the model's context."""
        new = max_new_tokens or self.settings.max_new_tokens
        if new >= self.context:
            raise LabError(f"--max-new-tokens {new} does not fit the model's context of "
                           f"{self.context} tokens; give fewer")
        prompt = [self.end, *prompt_ids][-(self.context - new):]
        length = len(prompt) + new
        token_ids = np.zeros((count, length), "int32")
        token_ids[:, :len(prompt)] = prompt
        padding_mask = np.zeros((count, length), bool)
        padding_mask[:, :len(prompt)] = True
        self.model.preprocessor = None
        try:
            output = self.model.generate({"token_ids": token_ids, "padding_mask": padding_mask},
                                         stop_token_ids=(self.end,))
        finally:
            self.model.preprocessor = self.preprocessor
        ids, mask = np.asarray(output["token_ids"]), np.asarray(output["padding_mask"])
        continuations = []
        for row, keep in zip(ids, mask):
            generated = [int(token) for token in row[len(prompt):][keep[len(prompt):]]]
            continuations.append([token for token in generated if token != self.end])
        return continuations

    def generate(self, prompt, count=1):
        """``(continuations as text, new tokens per second)``."""
        started = time.perf_counter()
        continuations = self.continue_ids(self.encode(prompt), count)
        seconds = time.perf_counter() - started
        tokens = sum(len(ids) for ids in continuations)
        return [self.decode(ids) for ids in continuations], tokens / max(seconds, 1e-9)


def generate_command(args, model):
    """Each prompt → ``--num-return-sequences`` continuations, printed with tokens/s."""
    generator = Generator(model, args.generation)
    room = generator.context - args.generation.max_new_tokens - 1
    if room < 1:
        raise LabError(f"--max-new-tokens {args.generation.max_new_tokens} does not fit the "
                       f"model's context of {generator.context} tokens; give at most "
                       f"{generator.context - 2}")
    for prompt in args.prompt:
        if len(generator.encode(prompt)) > room:
            print(f"(the prompt {prompt[:30]!r}... is longer than the {room} tokens the context "
                  "leaves beside the new ones: the model reads its end only)", file=sys.stderr)
        if args.warm_up:
            generator.generate(prompt, 1)
        texts, speed = generator.generate(prompt, args.generation.num_return_sequences)
        for number, text in enumerate(texts, 1):
            print(f"--- {number}/{len(texts)}: {prompt}" + text)
        print(f"({speed:.1f} new tokens/s, {args.generation.method}"
              + (f", no repeated {args.generation.no_repeat_ngram}-grams"
                 if args.generation.no_repeat_ngram else "") + ")", file=sys.stderr)


# ---------------------------------------------------------------- chat
class Conversation:
    """The dialogue so far, as text the model continues: every turn is appended; the prompt
    keeps the newest tokens that fit the context with room for a reply (the oldest go)."""

    def __init__(self, generator, you="You", bot="GPT-2"):
        self.generator, self.you, self.bot = generator, you, bot
        self.history = ""

    def prompt_ids(self, line):
        """The ids of history + this turn, cut from the left to fit the context."""
        self.history += f"{self.you}: {line.strip()}\n{self.bot}:"
        room = self.generator.context - self.generator.settings.max_new_tokens - 1
        return self.generator.encode(self.history)[-room:]

    def reply(self, line):
        ids = self.prompt_ids(line)
        generated = self.generator.continue_ids(ids)[0]
        answer = self.generator.decode(generated).split("\n")[0].split(f"{self.you}:")[0]
        answer = answer.strip() or "…"
        self.history += f" {answer}\n"
        return answer


def chat_command(args, model, lines=None, write=print):
    """Read a line, answer it, until end of input or Ctrl-C (both end it cleanly)."""
    conversation = Conversation(Generator(model, args.generation))
    interactive = lines is None and sys.stdin.isatty()
    lines = iter(lines if lines is not None else getattr(sys.stdin, "buffer", sys.stdin))
    write(f"chatting with {args.preset}: type a line and press Enter; Ctrl-D or Ctrl-C ends it")
    turns, number = 0, 0
    try:
        while True:
            if interactive:
                print(f"{conversation.you}: ", end="", flush=True)
            line, number = next(lines, None), number + 1
            if line is None:
                break
            line = decoded(line, number)
            if not line.strip():
                continue
            write(f"{conversation.bot}: {conversation.reply(line)}")
            turns += 1
    except KeyboardInterrupt:
        pass
    write(f"\n(conversation ended after {turns} turns)")
    return conversation
