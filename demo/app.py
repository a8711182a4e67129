"""``make demo``: the published models in a browser, offline, on 127.0.0.1.

One Gradio page with three tabs over what ``predict`` and ``generate`` read: the spam
detector's every model side by side, the poetry generator writing as you watch, GPT-2 when a
preset is on disk. Models load on first use and stay loaded; a bad input is one line in the
page, and the app keeps serving.
"""

import argparse
import os
import signal
import sys
import time
from pathlib import Path

from labs.cli import MODELS_DIR, whole_number

POETRY_TRAIN = "make poetry"


def build(models_dir, gpt2_preset=None):
    """The Gradio Blocks app (not launched)."""
    import gradio as gr
    import keras

    from labs.cli import LabError
    from labs.reports import device_line
    from demo.gpt2 import GPT2Model
    from demo.poetry import CORPORA, MAX_LENGTH, PoetryModels
    from demo.spam import COLUMNS, SpamModels, explanation_markdown

    spam, poetry, gpt2 = SpamModels(models_dir), PoetryModels(models_dir), GPT2Model(
        models_dir, gpt2_preset)

    def failed(error):
        return f"⚠️ {error}"

    with gr.Blocks(title="rnn-labs demo", analytics_enabled=False) as app:
        gr.Markdown("# rnn-labs: the trained models, live\nEverything runs on this machine, "
                    f"from the published runs in `{models_dir}`.")
        # ------------------------------------------------------------ spam
        with gr.Tab("Spam detector", elem_id="spam-tab"):
            try:
                _, run_id, quick = spam.run()
                header = (f"Run `{run_id}`" + (" — **QUICK run**: a smoke test, not trained "
                          "models; `make spam` trains the real ones" if quick else ""))
                examples = spam.examples()
            except LabError as error:
                header, examples = f"No spam models yet: {error}", []
            gr.Markdown(header, elem_id="spam-run")
            message = gr.Textbox(label="SMS message", lines=3, elem_id="spam-message")
            classify = gr.Button("Classify", variant="primary", elem_id="spam-classify")
            spam_status = gr.Markdown(elem_id="spam-status")
            table = gr.Dataframe(headers=COLUMNS, interactive=False, elem_id="spam-table",
                                 label="Every published model, in the comparison's order "
                                       "(click a header to sort)")
            why = gr.Markdown(elem_id="spam-why")
            if examples:
                gr.Examples(examples, inputs=[message], label="Messages from the held-out "
                            "fold (no saved model learned from them)")

            def classify_message(text):
                started = time.perf_counter()
                try:
                    rows, explanation = spam.answer(text)
                except (LabError, OSError) as error:
                    return failed(error), gr.update(value=None), ""
                return (f"{len(rows)} models answered in {time.perf_counter() - started:.2f} s",
                        rows, explanation_markdown(explanation))

            for trigger in (classify.click, message.submit):
                trigger(classify_message, [message], [spam_status, table, why],
                        api_name=False)
        # ------------------------------------------------------------ poetry
        with gr.Tab("Poetry generator", elem_id="poetry-tab"):
            corpus = gr.Radio(list(CORPORA), value=CORPORA[0], label="corpus",
                              elem_id="poetry-corpus")
            run_choice = gr.Dropdown(label="model (run)", elem_id="poetry-run")
            poetry_note = gr.Markdown(elem_id="poetry-note")
            seed = gr.Textbox(label="seed text", value="Sempre caro mi fu quest'ermo colle, ",
                              elem_id="poetry-seed")
            with gr.Row():
                method = gr.Radio(["temperature", "top-k", "top-p", "greedy"],
                                  value="temperature", label="sampler",
                                  elem_id="poetry-method")
                parameter = gr.Number(value=0.5, label="its parameter (temperature, k or p)",
                                      elem_id="poetry-parameter")
                length = gr.Slider(1, MAX_LENGTH, value=300, step=1, label="characters",
                                   elem_id="poetry-length")
                random_seed = gr.Number(value=42, precision=0, label="random seed",
                                        elem_id="poetry-random-seed")
            write = gr.Button("Write", variant="primary", elem_id="poetry-write")
            poetry_status = gr.Markdown(elem_id="poetry-status")
            poem = gr.Textbox(label="text", lines=12, elem_id="poetry-text")

            def runs_of(name):
                try:
                    choices = poetry.choices(name)
                except LabError as error:
                    return gr.update(choices=[], value=None), failed(error)
                quick = bool(choices) and "QUICK run" in choices[0][0]
                note = ("**QUICK run**: a smoke test, not a trained model; `make poetry` "
                        "trains the real one" if quick else "")
                return gr.update(choices=choices, value=choices[0][1]), note

            def write_text(name, run_id, seed_text, how, value, characters, draw_seed):
                if not run_id:
                    yield "", failed(f"no {name} model: train one with `{POETRY_TRAIN}`")
                    return
                try:
                    yield from poetry.write(name, run_id, seed_text, how, value, characters,
                                            draw_seed)
                except (LabError, OSError) as error:
                    yield "", failed(error)

            corpus.change(runs_of, [corpus], [run_choice, poetry_note], api_name=False)
            app.load(runs_of, [corpus], [run_choice, poetry_note], api_name=False)
            write.click(write_text, [corpus, run_choice, seed, method, parameter, length,
                                     random_seed], [poem, poetry_status], api_name=False)
        # ------------------------------------------------------------ GPT-2
        with gr.Tab("GPT-2", elem_id="gpt2-tab"):
            gr.Markdown(gpt2.describe(), elem_id="gpt2-note")
            if gpt2.available():
                with gr.Row():
                    gpt2_method = gr.Radio(["greedy", "temperature", "top-k", "top-p"],
                                           value="top-k", label="sampler",
                                           elem_id="gpt2-method")
                    temperature = gr.Number(value=1.0, label="temperature",
                                            elem_id="gpt2-temperature")
                    top_k = gr.Number(value=50, precision=0, label="top-k", elem_id="gpt2-top-k")
                    top_p = gr.Number(value=0.9, label="top-p", elem_id="gpt2-top-p")
                    most = gpt2.max_new_tokens()  # the model's context bounds it
                    new_tokens = gr.Slider(1, most, value=min(40, most), step=1,
                                           label="new tokens", elem_id="gpt2-new-tokens")
                    no_repeat = gr.Number(value=3, precision=0,
                                          label="no repeated n-gram (0: off)",
                                          elem_id="gpt2-no-repeat")
                    gpt2_seed = gr.Number(value=42, precision=0, label="random seed",
                                          elem_id="gpt2-seed")
                options = [gpt2_method, temperature, top_k, top_p, new_tokens, no_repeat,
                           gpt2_seed]
                gpt2_status = gr.Markdown(elem_id="gpt2-status")
                prompt = gr.Textbox(label="prompt", lines=2, elem_id="gpt2-prompt")
                complete = gr.Button("Continue", variant="primary", elem_id="gpt2-continue")
                continuation = gr.Textbox(label="continuation", lines=6,
                                          elem_id="gpt2-text")
                chat = gr.Chatbot(label="chat", elem_id="gpt2-chat")
                line = gr.Textbox(label="your message", elem_id="gpt2-line")

                def continue_prompt(text, *values):
                    try:
                        result, speed = gpt2.complete(text, gpt2.settings(*values))
                    except (LabError, OSError, ValueError) as error:
                        return "", failed(error)
                    return result, speed

                def answer(history, text, *values):
                    try:
                        return gpt2.reply(history or [], text, gpt2.settings(*values)), "", ""
                    except (LabError, OSError, ValueError) as error:
                        return history, text, failed(error)

                complete.click(continue_prompt, [prompt, *options], [continuation, gpt2_status],
                               api_name=False)
                line.submit(answer, [chat, line, *options], [chat, line, gpt2_status],
                            api_name=False)
        gr.Markdown(f"{device_line(keras)} · Keras backend: "
                    f"`{keras.backend.backend()}` (`KERAS_BACKEND`)", elem_id="footer")
    return app


def launch(app, host="127.0.0.1", port=None):
    """Serve ``app`` from a background thread (``port`` None: the first free one from
    7860); its address. Four requests run at once: one browser's poetry stream does not
    hold up another's spam table."""
    app.queue(default_concurrency_limit=4).launch(
        server_name=host, server_port=port, share=False, inbrowser=False, show_error=False,
        prevent_thread_lock=True, quiet=True)
    return app.local_url


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m demo", description=__doc__.split("\n\n")[0])
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to serve on (default: %(default)s, this machine only)")
    parser.add_argument("--port", type=whole_number(1, 65535), default=7860,
                        help="port (default: %(default)s)")
    parser.add_argument("--models-dir", type=Path, default=MODELS_DIR,
                        help="where the published runs are (default: %(default)s)")
    parser.add_argument("--gpt2-preset", type=Path, default=None,
                        help="a GPT-2 preset folder (default: the copy make gpt2 keeps, if any)")
    args = parser.parse_args(argv)
    try:
        return serve(parser, args)
    except KeyboardInterrupt:  # Ctrl-C at any moment, the imports' seconds included
        print("python -m demo: interrupted; nothing was left running", file=sys.stderr)
        return 130


def serve(parser, args):
    if args.gpt2_preset is not None:
        from demo.inputs import preset_problem

        problem = preset_problem(args.gpt2_preset)
        if problem:
            parser.error(f"--gpt2-preset {problem}")
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    started = time.perf_counter()
    try:
        app = build(args.models_dir, args.gpt2_preset)
    except ImportError as error:
        sys.exit(f"python -m demo: error: {error.name} is not installed; run `make demo`, "
                 "which installs requirements-demo.txt once")
    try:
        launch(app, args.host, args.port)
    except OSError as error:
        sys.exit(f"python -m demo: error: cannot serve on {args.host}:{args.port} ({error}); "
                 "give another --port")
    # Serving from here: Ctrl-C stops the server (until now it ended the start at once,
    # labs.interrupted_while_starting).
    signal.signal(signal.SIGINT, signal.default_int_handler)
    print(f"serving http://{args.host}:{args.port} ({time.perf_counter() - started:.1f} s "
          "after start); Ctrl-C stops", flush=True)
    try:
        app.block_thread()
    except KeyboardInterrupt:
        app.close()
    return 0
