import contextlib
import io
import math

import numpy as np
import pytest

from conftest import REPOSITORY
from labs.cli import LabError
from labs.words import cli, config, model as word_model
from labs.words import data as words
from labs.poetry.data import held_out_parts
from labs.sampling import Sampler


def test_tokenizer_keeps_punctuation_and_inner_apostrophes():
    assert words.tokenize("Don't stop -- L'erme Torri, ok?") == [
        "don't", "stop", "-", "-", "l'erme", "torri", ",", "ok", "?"]


def test_vocabulary_maps_rare_words_to_unk():
    vocabulary = words.Vocabulary(["a", "b", "a", "c", "a", "b"], min_count=2)
    assert vocabulary.words == ["<unk>", "a", "b"]
    np.testing.assert_array_equal(vocabulary.encode(["a", "c", "zebra", "b"]), [1, 0, 0, 2])
    assert vocabulary.unknown_in(["a", "zebra"]) == ["zebra"]
    with pytest.raises(LabError, match="--min-count must be at least 1"):
        words.Vocabulary(["a"], min_count=0)


def test_windows_of_five_predict_the_next_token():
    inputs, targets = words.windows(np.arange(8))
    np.testing.assert_array_equal(inputs, [[0, 1, 2, 3, 4], [1, 2, 3, 4, 5], [2, 3, 4, 5, 6]])
    np.testing.assert_array_equal(targets, [5, 6, 7])
    with pytest.raises(LabError, match="need more than 5 tokens"):
        words.windows(np.arange(5))


def test_perplexity_is_exp_of_the_mean_cross_entropy():
    probabilities = np.array([0.5, 0.25, 0.125])
    cross_entropy = -(math.log(0.5) + math.log(0.25) + math.log(0.125)) / 3
    assert word_model.perplexity(probabilities) == pytest.approx(math.exp(cross_entropy))
    assert word_model.perplexity(probabilities) == pytest.approx(4.0)
    assert word_model.perplexity(np.full(7, 1 / 10)) == pytest.approx(10.0)


def test_perplexity_agrees_with_the_keras_loss():
    import keras

    rng = np.random.default_rng(0)
    probabilities = rng.dirichlet(np.ones(6), size=10)
    targets = rng.integers(0, 6, 10)
    loss = keras.losses.SparseCategoricalCrossentropy()(targets, probabilities)
    assert math.exp(float(loss)) == pytest.approx(
        word_model.perplexity(probabilities[np.arange(10), targets]), rel=1e-5)


def test_unigram_baseline_is_add_one_smoothed_frequencies():
    probabilities = words.unigram_probabilities(np.array([1, 1, 1, 2]), 3)
    np.testing.assert_allclose(probabilities, [1 / 7, 4 / 7, 2 / 7])
    assert word_model.perplexity(probabilities[[1, 2]]) == pytest.approx(
        1 / math.sqrt(4 / 7 * 2 / 7))


@pytest.fixture(scope="module")
def leopardi_quick(tmp_path_factory):
    """One quick Keras run on Leopardi, its metrics and what it printed: the test below reads
    it, and the course's PyTorch model's run sets itself beside it."""
    folder = tmp_path_factory.mktemp("words")
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        metrics = cli.main(["--quick", "--corpus", "leopardi", "--seed-phrase", "xyzzy caro",
                            "--length", "5", "--reports-dir", str(folder)])
    return folder, metrics, printed.getvalue()


@pytest.mark.slow
def test_quick_run_reports_perplexity_and_says_which_seed_words_are_unknown(
        leopardi_quick, dataset_path):
    tmp_path, metrics, printed = leopardi_quick
    dataset_path("leopardi.txt")
    parts = held_out_parts("leopardi", REPOSITORY / "datasets",
                           characters=config.QUICK["characters"], log=lambda *_: None)
    tokens = words.Tokenization("words", parts.fit)
    assert metrics["epochs"] == 1 and metrics["vocabulary_size"] == len(tokens.vocabulary)
    encoded = tokens.encode(parts.held_out)
    unigram = words.unigram_probabilities(tokens.encode(parts.fit), len(tokens))
    _, targets = words.windows(encoded)
    assert metrics["unigram_held_out_perplexity"] == pytest.approx(
        word_model.perplexity(unigram[targets]))
    assert metrics["held_out_unknown_rate"] == pytest.approx(float(np.mean(encoded == 0)))
    assert not (tmp_path / "tensorboard").exists()  # only with --tensorboard
    assert metrics["unknown_spelling_nats"] == pytest.approx(
        sum(tokens.spelling(token) for token, target
            in zip(words.tokenize(parts.held_out)[config.WINDOW:], targets) if target == 0))
    assert 0 < metrics["held_out_bits_per_char"] < 8
    (run,) = (tmp_path / "words" / "leopardi" / "runs").iterdir()
    report = (run / "report.md").read_text()
    assert "read as `<unk>`: xyzzy" in report
    samples = [line for line in report.splitlines() if line.startswith("| ") and "**" in line]
    assert len(samples) == 4 and not any("<unk>" in line for line in samples)  # escaped
    assert not any("&lt;unk&gt;" in line.split("**")[1] for line in samples)  # never drawn
    assert "is never drawn" in report and "<unk>" not in metrics["comparison_sample"]
    assert metrics["comparison_sample"].startswith(parts.prompt)
    for method in ("greedy", "temperature 0.7", "top-k"):
        assert method in report
    assert "xyzzy" in printed


@pytest.mark.slow
def test_subword_tokens_leave_nothing_unknown_and_score_bits_per_character(tmp_path):
    metrics = cli.main(["--quick", "--tokens", "subword", "--vocabulary-size", "1000",
                          "--length", "8", "--reports-dir", str(tmp_path)])
    parts = held_out_parts("nietzsche", REPOSITORY / "datasets",
                           characters=config.QUICK["characters"], log=lambda *_: None)
    tokens = words.Tokenization("subword", parts.fit, size=1000)
    assert tokens.decode(tokens.encode(parts.held_out)) == parts.held_out  # nothing lost
    assert metrics["vocabulary_size"] == len(tokens) <= 1000
    assert metrics["held_out_unknown_rate"] == 0 and metrics["unknown_spelling_nats"] == 0
    scored = len(parts.held_out) - len(tokens.decode(tokens.encode(parts.held_out)[:10]))
    assert metrics["held_out_characters_scored"] == scored
    assert 0 < metrics["held_out_bits_per_char"] < 8
    (run,) = (tmp_path / "words" / "nietzsche-subword" / "runs").iterdir()
    report = (run / "report.md").read_text()
    assert "Nothing is unknown" in report and "unk&gt;" not in report.split("## Samples")[1]


def test_spelling_cost_and_context_characters():
    spelling = words.SpellingCost(["ab", "a"])  # a: 2, b: 1, 2 word ends; 2 kinds + 2 slots
    total = 2 + 1 + 2 + 2 + 2
    assert spelling("ab") == pytest.approx(-math.log(3 / total) - math.log(2 / total)
                                           - math.log(3 / total))
    assert spelling("z") == pytest.approx(-math.log(3 / total) - math.log(1 / total))
    tokens = words.Tokenization("words", "one two, three. " * 20)
    assert tokens.context_characters("one two, three. four five") == len("one two, three.")


def test_cli_errors(tmp_path, capsys):
    with pytest.raises(SystemExit):
        cli.main(["--epochs", "0"])
    assert "argument --epochs: must be at least 1, got 0" in capsys.readouterr().err
    with pytest.raises(SystemExit) as raised:
        cli.main(["--quick", "--corpus", "leopardi", "--seed-phrase", "   ",
                    "--reports-dir", str(tmp_path)])
    assert str(raised.value.code) == ("labs.words: error: --seed-phrase '   ' has no words; "
                                      "give a word or two")


class MostlyUnknown:
    """A stand-in language model whose every prediction puts 90% on ``<unk>``."""

    def predict_on_batch(self, windows):
        return np.array([[0.9, 0.06, 0.04]] * len(windows), np.float32)


@pytest.mark.parametrize("sampler", [Sampler("greedy"), Sampler("temperature", 1.0),
                                     Sampler("top-k", top_k=2), Sampler("top-p", top_p=0.5)])
def test_unk_is_never_sampled_and_the_rest_keeps_its_proportions(sampler):
    vocabulary = words.Vocabulary(["a"] * 5 + ["b"] * 4)
    generated = word_model.generate(MostlyUnknown(), vocabulary, ["a"], 400,
                                    np.random.RandomState(0), sampler)
    assert "<unk>" not in generated and len(generated) == 400
    if sampler.method == "temperature":  # 0.06 : 0.04 once <unk> is gone, 60% a
        assert 0.5 < generated.count("a") / 400 < 0.7


@pytest.mark.slow
def test_the_course_pytorch_model_learns_the_same_windows_and_sits_beside_keras(
        leopardi_quick):
    import torch

    from labs.words import torch_model as words_torch

    tmp_path, keras_metrics, _ = leopardi_quick  # the Keras run of the same settings
    options = ["--quick", "--corpus", "leopardi", "--length", "5", "--reports-dir", str(tmp_path)]
    metrics = cli.main([*options, "--framework", "pytorch"])
    assert metrics["framework"] == "pytorch" and metrics["epochs"] == 1
    assert 0 < metrics["held_out_perplexity"] < metrics["unigram_held_out_perplexity"]
    (run,) = (tmp_path / "words" / "leopardi-pytorch" / "runs").iterdir()
    report = (run / "report.md").read_text()
    table = report.split("## Beside the Keras model")[1]
    assert f"| {keras_metrics['held_out_perplexity']:.1f} |" in table
    assert f"| {metrics['held_out_perplexity']:.1f} |" in table
    assert "greedy as the course generates" in report and "nn.LSTM(256)" in report
    assert (run / "training_log.csv").read_text().splitlines()[0] == "epoch,loss,val_loss"
    # the lab's scoring of the PyTorch model is the course's CrossEntropyLoss, exponentiated
    model = words_torch.RNNModel(30, 8, 16)
    inputs, targets = torch.randint(0, 30, (64, config.WINDOW)), torch.randint(0, 30, (64,))
    loss = torch.nn.CrossEntropyLoss()(model(inputs)[0][:, -1], targets)
    probabilities = word_model.target_probabilities(words_torch.TorchPredictor(model),
                                               inputs.numpy(), targets.numpy())
    assert word_model.perplexity(probabilities) == pytest.approx(math.exp(loss.item()), rel=1e-5)


def test_keras_clipnorm_is_matched_weight_by_weight():
    import torch

    from labs.words import torch_model as words_torch

    model = words_torch.RNNModel(30, 8, 16, cell="rnn")
    logits, _ = model(torch.randint(0, 30, (4, 5)))
    (logits.sum() * 1000).backward()
    before = {name: parameter.grad.clone() for name, parameter in model.named_parameters()}
    words_torch.clip_each(model, 1.0)
    for name, parameter in model.named_parameters():
        norm = float(before[name].norm())
        expected = before[name] * min(1.0, 1.0 / norm)
        assert torch.allclose(parameter.grad, expected, rtol=1e-4, atol=1e-7), name


def test_pytorch_with_a_keras_only_option_is_one_line(tmp_path):
    with pytest.raises(SystemExit) as raised:
        cli.main(["--framework", "pytorch", "--tensorboard", "--reports-dir", str(tmp_path)])
    assert str(raised.value.code) == ("labs.words: error: --tensorboard is for the Keras model; "
                                      "leave it out with --framework pytorch")


def test_a_keras_option_with_pytorch_is_refused_before_the_devices_are_set_up(tmp_path):
    """--distribute with --framework pytorch: the option's own line, not the devices' hint."""
    with pytest.raises(SystemExit) as raised:
        cli.main(["--framework", "pytorch", "--quick", "--distribute", "--reports-dir",
                    str(tmp_path)])
    assert str(raised.value.code) == ("labs.words: error: --distribute is for the Keras model; "
                                      "leave it out with --framework pytorch")


def test_a_min_count_that_keeps_no_word_is_refused_before_training():
    """--min-count 100000 made every word <unk>: an epoch trained, then sampling ended in
    ValueError: pvals < 0. It is refused before anything trains, naming the option."""
    from labs.cli import LabError
    from labs.words.data import Vocabulary

    with pytest.raises(LabError, match="--min-count 100000 keeps 0 word"):
        Vocabulary("the cat sat on the mat".split(), 100_000).check_kept()
    assert Vocabulary("the the cat cat sat".split(), 2).words == ["<unk>", "cat", "the"]
