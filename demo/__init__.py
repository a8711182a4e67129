"""``make demo``: try the published models in a browser (Gradio, offline, 127.0.0.1).

Reading order:

1. ``app``: the page — three tabs, a footer naming the device and the Keras backend — and
   ``python -m demo``'s options.
2. ``spam``: every published spam model (the baselines too) on one message, in the
   comparison's order; the TF-IDF logistic regression's exact per-n-gram account.
3. ``poetry``: a published character model writing, streamed, with the lab's samplers.
4. ``gpt2``: prompt generation and chat when a GPT-2 preset is on disk.
5. ``inputs``: the one rule for what counts as text, and its one-line refusals.
6. ``browser``: waiting for one request's answer in the page (the tests and ``bench.demo``).

The demo is not a lab: it trains nothing and writes nothing; it reads ``models/`` through
the labs' own loading code (``labs.spam.lab.load_saved``, ``labs.poetry.generate``,
``labs.gpt2.presets``), so the page's numbers are the command line's.
"""
