"""The repository's reading contract: every function in labs/ fits on a screen."""

import ast
from pathlib import Path

LABS = Path(__file__).resolve().parent.parent / "labs"
LONGEST_FUNCTION = 40


def function_lengths():
    for path in sorted(LABS.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                yield f"{path.relative_to(LABS.parent)}:{node.lineno} {node.name}", \
                    node.end_lineno - node.lineno + 1


def test_no_function_in_the_labs_is_longer_than_40_lines():
    long = [f"{name} ({length} lines)" for name, length in function_lengths()
            if length > LONGEST_FUNCTION]
    assert not long, "split these into helpers with names that say what they do: " + ", ".join(long)


def test_the_length_check_sees_every_lab_module():
    names = {name.split(":")[0] for name, _ in function_lengths()}
    for module in ("labs/spam/lab.py", "labs/poetry/lab.py", "labs/words/lab.py",
                   "labs/char_rnn/model.py", "labs/training.py", "labs/course.py"):
        assert module in names


def module_name(path):
    parts = path.relative_to(LABS.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_in_labs():
    """module → the modules of labs/ it imports (at the top or inside a function)."""
    paths = {module_name(path): path for path in LABS.rglob("*.py")}
    graph = {}
    for name, path in paths.items():
        imported = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                imported |= {alias.name for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                imported.add(node.module)
                imported |= {f"{node.module}.{alias.name}" for alias in node.names}
        graph[name] = sorted(module for module in imported
                             if module in paths and module != name and module != "labs")
    return graph


def cycles(graph):
    """Every import cycle, as the list of modules around it (depth-first search)."""
    found, state = [], {}

    def visit(module, stack):
        state[module] = "open"
        for imported in graph[module]:
            if state.get(imported) == "open":
                found.append(stack[stack.index(imported):] + [imported])
            elif imported not in state:
                visit(imported, [*stack, imported])
        state[module] = "done"

    for module in sorted(graph):
        if module not in state:
            visit(module, [module])
    return found


def test_no_import_cycle_in_the_labs():
    found = cycles(imports_in_labs())
    assert not found, "import cycles: " + "; ".join(" -> ".join(cycle) for cycle in found)


def test_the_cycle_check_finds_a_cycle():
    assert cycles({"a": ["b"], "b": ["c"], "c": ["a"], "d": []}) == [["a", "b", "c", "a"]]
    graph = imports_in_labs()
    assert "labs.poetry.config" in graph["labs.poetry.lab"]  # it reads the real imports


# The labs, each a package (a lab may read another lab's data, as words and gpt2 read the
# poetry lab's split; a shared module never does).
LAB_PACKAGES = ("spam", "poetry", "gpt2", "words", "char_rnn")
LAB_MODULES = tuple(f"labs.{name}" for name in LAB_PACKAGES)
# What every lab package holds: the reading order (__init__'s docstring), the command
# (__main__, cli), the story, its settings and its page.
LAB_PARTS = ("__init__.py", "__main__.py", "lab.py", "config.py", "cli.py", "README.md")


def missing_parts(labs_folder):
    """``labs/<lab>/<part>`` for each part a lab package lacks, and each package under
    ``labs_folder`` runnable with ``python -m`` that is not in ``LAB_PACKAGES``."""
    missing = [f"labs/{name}/{part}" for name in LAB_PACKAGES for part in LAB_PARTS
               if not (labs_folder / name / part).is_file()]
    missing += [f"labs/{name}/__init__.py (a docstring: the reading order)"
                for name in LAB_PACKAGES if (labs_folder / name / "__init__.py").is_file()
                and not ast.get_docstring(ast.parse(
                    (labs_folder / name / "__init__.py").read_text(encoding="utf-8")))]
    runnable = {path.parent.name for path in labs_folder.glob("*/__main__.py")}
    return missing + [f"labs/{name} (a lab not in LAB_PACKAGES)"
                      for name in sorted(runnable - set(LAB_PACKAGES))]


def test_every_lab_is_a_package_with_its_story_config_cli_and_page():
    assert not missing_parts(LABS), missing_parts(LABS)


def test_the_package_check_sees_a_missing_page(tmp_path):
    for name in LAB_PACKAGES:
        for part in LAB_PARTS:
            (tmp_path / name).mkdir(exist_ok=True)
            (tmp_path / name / part).write_text('"""Reading order."""\n')
    assert missing_parts(tmp_path) == []
    (tmp_path / "words" / "README.md").unlink()
    (tmp_path / "extra").mkdir()
    (tmp_path / "extra" / "__main__.py").write_text("")
    assert missing_parts(tmp_path) == ["labs/words/README.md",
                                       "labs/extra (a lab not in LAB_PACKAGES)"]


def starts_runs(path):
    """Whether a module starts or publishes a run (``runs.start``, ``runs.publish``): what a
    lab does and a shared module (data, reports, the browser check) never does."""
    return any(isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
               and node.func.attr in ("start", "publish")
               and getattr(node.func.value, "id", None) == "runs"
               for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))))


def test_no_module_of_labs_is_a_lab_on_its_own():
    alone = [path.name for path in LABS.glob("*.py") if starts_runs(path)]
    assert not alone, f"make these labs packages of their own: {alone}"
    assert starts_runs(LABS / "words" / "lab.py")  # it sees a lab


def test_shared_modules_never_import_a_lab():
    shared = {name: modules for name, modules in imports_in_labs().items()
              if name.count(".") == 1 and not name.startswith(LAB_MODULES)}
    wrong = {name: [module for module in modules if module.startswith(LAB_MODULES)]
             for name, modules in shared.items()}
    assert not any(wrong.values()), wrong
