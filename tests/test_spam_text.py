"""The spam lab's text models (``labs.spam.text_models``): vocabularies learned from the fit
part only, model choices blind to the test labels, and raw-text ``predict`` that gives the
saved model's own output, on seen and never-seen text."""

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from keras import layers
from sklearn.base import clone
from sklearn.metrics import confusion_matrix

from labs import embeddings
from labs.spam import cli, lab, text_models, train
from labs.spam import data as spam_data
from labs.spam.config import RECIPES, Settings

TEXT_VARIANTS = list(text_models.TEXT_VARIANTS)
VECTOR_SIZE = 8


@pytest.fixture(scope="module")
def small(known_edition):
    """400 real messages, random token vectors for the hybrid, the first of 2 grouped
    folds with its fit/validation split."""
    from labs import data

    sms = data.load_sms(known_edition("sms_spam.tsv")).iloc[:400].reset_index(drop=True)
    labels = (sms["label"] == "spam").to_numpy().astype(np.float32)
    texts = sms["text"].to_numpy()
    rng = np.random.default_rng(5)
    lengths = rng.integers(1, 20, size=len(texts))
    vectors = embeddings.TokenVectors(rng.normal(size=(lengths.sum(), VECTOR_SIZE)).astype(
        np.float32), lengths, "test", "0")
    fold, _ = spam_data.make_folds(labels, texts, 2, "grouped", 0)
    return fold, vectors


def every_token(reader, texts):
    """Every token ``reader`` (a fitted TextVectorization or TfidfVectorizer) would find in
    ``texts``: the same processing, fitted on them with no frequency cut."""
    if isinstance(reader, layers.TextVectorization):
        config = reader.get_config()
        fresh = layers.TextVectorization(standardize=config["standardize"],
                                         split=config["split"], ngrams=config["ngrams"])
        fresh.adapt(np.asarray(texts, dtype=object))
        return set(fresh.get_vocabulary()[2:])
    return set(clone(reader).set_params(min_df=1).fit(texts).vocabulary_)


def readers(model, preprocessor):
    found = [layer for layer in model.layers if isinstance(layer, layers.TextVectorization)]
    if preprocessor is not None:
        found += [preprocessor.words, preprocessor.characters]
    return found


def test_no_learned_vocabulary_holds_a_token_seen_outside_the_fit_part(small):
    """Every vocabulary, adapt and TF-IDF table of every text model is a subset of what the
    fit part contains, so nothing seen only in the test part (or the validation part) is
    in it; and the test part does hold such tokens, so the check has something to catch."""
    fold, vectors = small
    fold = fold.for_recipe(RECIPES["tuned"], 0)  # as train_variant splits it
    texts, settings = fold.texts, Settings(RECIPES["tuned"], maxlen=20)
    for variant in TEXT_VARIANTS:
        model, reader = train.build(variant, "text", vectors, fold, settings)  # train's path
        found = readers(model, reader.preprocessor)
        assert found, variant
        for reader in found:
            learned = (set(reader.get_vocabulary()[2:]) if isinstance(
                reader, layers.TextVectorization) else set(reader.vocabulary_))
            seen_in_fit = every_token(reader, texts[fold.fit])
            test_only = every_token(reader, texts[fold.test]) - every_token(
                reader, texts[fold.train])
            assert learned and learned <= seen_in_fit, (variant, learned - seen_in_fit)
            assert test_only and not learned & test_only, variant


@pytest.mark.slow
def test_shuffled_test_labels_change_no_choice_of_a_text_model(small):
    """The chosen epoch, threshold and every test score stay the same when the test part's
    labels are shuffled: the test part is only ever predicted."""
    fold, vectors = small
    settings = Settings(replace(RECIPES["tuned"], epochs=2, batch_size=32, patience=1),
                        maxlen=20)
    shuffled = fold.labels.copy()
    shuffled[fold.test] = np.random.default_rng(1).permutation(shuffled[fold.test])
    assert (shuffled[fold.test] != fold.labels[fold.test]).sum() > 20  # the labels do change
    # The epoch and threshold are chosen by the same code for every model; what differs is
    # the input each fits: the one fitted with the labels (tfidf-mlp's ANOVA F selection),
    # and the hybrid, which reads spaCy vectors and the text.
    for variant in ("tfidf-mlp", "hybrid"):
        results = [train.train_variant(variant, "text", vectors, replace(fold, labels=labels),
                                       settings, seed=3)[1]
                   for labels in (fold.labels, shuffled)]
        for key in ("best_epoch", "threshold", "epochs_run"):
            assert results[0][key] == results[1][key], (variant, key)
        np.testing.assert_allclose(results[0]["test_scores"], results[1]["test_scores"],
                                   atol=1e-6, err_msg=variant)


def predicted(capsys, root, model, texts):
    capsys.readouterr()
    cli.main(["predict", "--models-dir", str(root / "models"), "--model", model, *texts])
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == len(texts)
    return [(line.split("\t")[0], float(line.split("\t")[1])) for line in lines]


@pytest.mark.slow
def test_every_text_model_predicts_raw_text_as_it_scored_it(tmp_path, capsys):
    """A real quick run of the five text models; ``predict`` on raw text reproduces each
    one's test predictions of the saved fold exactly, and gives finite probabilities, the
    same alone as in a batch, to text with words and characters never seen in training."""
    root = tmp_path
    cli.main(["train", "--quick", "--folds", "1", "--epochs", "1", "--baselines",
              "--variants", *TEXT_VARIANTS, "--reports-dir", str(root / "reports"),
              "--models-dir", str(root / "models")])
    pointer = json.loads((root / "models" / "spam" / "latest-quick.json").read_text())
    messages = spam_data.load_messages(Path("datasets"), 1000, 42)
    (fold,) = spam_data.make_folds(messages.labels, messages.texts, 1, "grouped", 42)
    texts = list(messages.texts[fold.test])
    unseen = ["Ωmega zzqx qwpv ☃ 0999999999 ¥¥¥", "☃", "k", "ÆØÅ ɐ ʎ"]
    for variant in TEXT_VARIANTS:
        name = f"{variant}_text"
        answers = predicted(capsys, root, name, texts + unseen)  # one batch, as a user would
        labels = [label == "spam" for label, _ in answers[:len(texts)]]
        stored = json.loads((Path(pointer["reports"]) / name / "metrics.json").read_text())
        assert confusion_matrix(messages.labels[fold.test].astype(int), np.asarray(labels, int),
                                labels=[0, 1]).tolist() == stored["folds"][0]["confusion_matrix"]
        together = [probability for _, probability in answers[len(texts):]]
        assert np.isfinite(together).all() and 0 < min(together) and max(together) < 1
        model, metadata = lab.load_saved(name, root / "models")
        alone = [lab.text_probabilities(model, metadata, [text])[0] for text in unseen]
        np.testing.assert_allclose(alone, together, atol=2e-4, err_msg=variant)
