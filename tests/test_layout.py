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
    for module in ("labs/spam/lab.py", "labs/poetry/lab.py", "labs/words.py",
                   "labs/char_rnn_numpy.py", "labs/training.py", "labs/course.py"):
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


# The labs: packages, and the one-file labs of the fundamentals (a lab may read another
# lab's data, as words and gpt2 read the poetry lab's split; a shared module never does).
LAB_MODULES = ("labs.spam", "labs.poetry", "labs.gpt2", "labs.words", "labs.char_rnn_numpy")


def test_shared_modules_never_import_a_lab():
    shared = {name: modules for name, modules in imports_in_labs().items()
              if name.count(".") == 1 and not name.startswith(LAB_MODULES)}
    wrong = {name: [module for module in modules if module.startswith(LAB_MODULES)]
             for name, modules in shared.items()}
    assert not any(wrong.values()), wrong
