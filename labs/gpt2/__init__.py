"""GPT-2 beside the RNNs: a pretrained transformer (keras-hub) on the poetry lab's text.

The lesson, in the order a student meets it (every default is in ``config``):

1. ``presets``: load ``keras_hub.models.GPT2CausalLM`` from a preset name (one download,
   about 0.5 GB for ``gpt2_base_en``, then a copy under ``models/gpt2/presets/`` loads
   offline), a preset folder, or an ``hf://`` handle; with no network it stops in one line.
   ``build_test_preset`` makes a random GPT-2 that loads the same way (tests, offline): tiny
   or of GPT-2 base's shape, with a learned BPE or GPT-2's real one.
2. ``generate``: prompt → token ids → keras-hub's compiled generation with a sampler
   (greedy, temperature, top-k, top-p, beam) and ``--no-repeat-ngram``, which keras-hub
   lacks and ``NoRepeatNgram`` adds inside the generation loop; ``chat`` appends each turn
   to the dialogue history and cuts it from the left to the model's context.
3. ``evaluate``: held-out **bits per character** on the poetry lab's last 10%: total
   next-token negative log-likelihood (sliding windows) over the characters it covers, the
   measure that puts a token model in the character models' table.
4. ``finetune``: ``fit`` on the poetry lab's first 85% for a time budget, scored on the next
   5% (which chooses the checkpoint), the best saved with ``save_to_preset``; ``--run``
   loads it, and ``--resume`` continues a run that was interrupted or killed.
5. ``compare``: the course char-LSTM, the best every-step model, the word models and GPT-2
   on the same held-out text and from the same prompt.

The command line is ``cli``: ``python -m labs.gpt2 --help``.
"""
