"""A smoke test: the bench runs end to end on tiny inputs and writes its report.
Timings are never asserted (they are ratios measured in one run, see bench/run.py).

Benchmarks, not tests of the labs: ``make bench-smoke`` runs them (CI does, after the
suite), ``make test`` leaves them out."""

import json
import os
from pathlib import Path

import pytest


@pytest.mark.slow
@pytest.mark.benchmark
def test_bench_smoke_run_writes_the_report(tmp_path):
    from bench import run  # here, not at the top: make test collects this file and skips it

    results = run.main(["--smoke", "--reports-dir", str(tmp_path), "--models-dir",
                        str(tmp_path / "no-models")])
    report = (tmp_path / "bench.md").read_text()
    for heading in ("## 1. Generation", "## 2. Training epoch", "## 3. Spam features",
                    "## 4. Padded vs ragged", "## 5. Scaling", "SMOKE RUN"):
        assert heading in report
    assert "## 6. End to end" not in report  # a smoke run does not run it
    assert "| measure | course | lab | ratio | target | met |" in report
    # Labels say what this run measured, not what a full run would.
    sizes = run.SMOKE
    assert f"characters per second ({sizes.generation_length} chars, T = 0.5)" in report
    assert f"(maxlen {sizes.maxlen}, step {sizes.step}, {sizes.training_fraction:.1%} of " \
        "the text)" in report
    assert "whole text" not in report and "(400 chars" not in report
    stored = json.loads((tmp_path / "bench.json").read_text())
    assert stored["repeats"] == 1 and stored["machine"]["cpus"] == os.cpu_count()
    # The lab's NumPy generation writes the course's text, character for character.
    assert results["generation"]["same_text"] == [True]
    assert "| same text for the same random seed |  |  | 1/1 | all | yes |" in report
    assert results["features"]["same_vectors"]
    assert (tmp_path / "bench_scaling.png").stat().st_size > 0


@pytest.mark.slow
@pytest.mark.benchmark
def test_gpt2_bench_smoke_run_measures_every_command(tmp_path):
    from bench import gpt2

    results = gpt2.main(["--smoke", "--reports-dir", str(tmp_path)])
    assert set(results["tasks"]) == set(gpt2.TASKS)
    assert set(results["tasks"]["generate"]["samplers"]) == set(gpt2.SAMPLERS)
    assert results["tasks"]["load"]["parameters"] > 3_000_000  # GPT-2's 50,257-token embedding
    report = (tmp_path / "bench-gpt2.md").read_text()
    assert "SMOKE RUN" in report and "| generate --method beam |" in report
    assert "What `make gpt2`'s 10-minute budget buys" in report


LOSS_TOLERANCE = 0.02  # nats, after two epochs from the same weights


@pytest.mark.slow
@pytest.mark.benchmark
def test_two_epochs_from_the_same_weights_end_alike_on_every_backend_and_natively(tmp_path):
    """``make bench-backends``'s smoke run: the course model two epochs on a small slice of
    Nietzsche, on each backend and in native PyTorch, from the same initial weights. (A
    benchmark's smoke run: it moved here from tests/test_backends.py, which keeps the
    backends' own tests — predictions alike, each other's models loaded.)"""
    from bench import backends as bench

    results = bench.main(["--smoke", "--reports-dir", str(tmp_path)])
    runners = results["runners"]
    assert not [runner for runner, result in runners.items() if "error" in result], runners
    assert set(runners) == set(bench.RUNNERS)
    assert set(runners["jax"]["models"]) == {"course"}  # the smoke run's one model
    losses = {runner: result["models"]["course"]["held_out_loss"]
              for runner, result in runners.items()}
    assert max(losses.values()) - min(losses.values()) < LOSS_TOLERANCE, losses
    report = (tmp_path / "bench-backends.md").read_text()
    assert "SMOKE RUN" in report and "| native PyTorch (nn.LSTM) | course |" in report


@pytest.mark.parametrize("where", ["file", "proc"])
def test_bench_demo_refuses_a_reports_dir_it_cannot_write_before_any_work(where, tmp_path,
                                                                         capsys):
    """A file, or a place no one can write: one line naming the option, at once (it once
    failed with a traceback after 40 s of work)."""
    from bench import demo

    reports = tmp_path / "a-file" if where == "file" else Path("/proc/rnn-labs-bench")
    if where == "file":
        reports.write_text("a file")
    with pytest.raises(SystemExit) as exited:
        demo.main(["--reports-dir", str(reports)])
    assert exited.value.code == 2
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert error.startswith("python -m bench.demo: error: --reports-dir: cannot write")
