"""The class report beside grades.csv: ``class.md`` and ``class.html`` (one page that opens
from the file system), with ``class.png``.

What an instructor asks after a deadline, from the grading's own rows: how the totals are
spread; per task, the share of the class that lost points and the most common reasons (the
checks' messages grouped by their template: numbers and quoted student text stripped, so
"h_states[0] differs … by 0.581" and "… by 0.2" are one reason), with a count and one
example student each; the rows with a problem (no notebook, a flag, a dead kernel); the
grading time of each submission; and the pairs of students whose code is alike
(exercises/similarity.py), with the shared lines side by side: a list to judge, never a
penalty.

Everything a submission controls (names, messages, code) is escaped for HTML and clipped.
"""

import html
import re
import statistics
from collections import Counter

from labs.reports import atomic_write_text, index_html, pyplot, save_figure

NUMBER = re.compile(r"[-+]?(?:\d+[.,]?)+(?:e[-+]?\d+)?", re.I)
QUOTED = re.compile(r"«[^»]*»")
REASONS = 3  # the most common reasons shown per task
TEXT_LIMIT = 160


def template(message):
    """A check's message as its reason: numbers and quoted student text stripped."""
    text = QUOTED.sub("«…»", str(message))
    text = NUMBER.sub("#", text)
    text = re.sub(r"'[^']{0,80}'", "'…'", text)  # the student's strings and values
    return re.sub(r"\s+", " ", text).strip()[:TEXT_LIMIT]


def escaped(text, limit=TEXT_LIMIT):
    """Student text as inert Markdown and HTML: clipped, entities, no table breaks."""
    text = str(text)
    text = text if len(text) <= limit else text[:limit] + "…"
    return html.escape(text, quote=False).replace("|", "&#124;").replace("`", "&#96;") \
        .replace("*", "&#42;").replace("[", "&#91;").replace("\n", " ")


def graded(rows):
    """The rows that have scores (a notebook that was graded)."""
    return [row for row in rows if None not in row["scores"]]


def total(tasks, row):
    return sum(float((row["scores"].get(task) or (0, ""))[0] or 0)
               for task, _, by_hand in tasks if not by_hand)


def task_summaries(tasks, rows):
    """Per automatic task: points, how many graded students lost points, the reasons."""
    marked = graded(rows)
    summaries = []
    for task, points, by_hand in tasks:
        if by_hand:
            continue
        lost = [(row, (row["scores"].get(task) or (0, "missing from the notebook")))
                for row in marked
                if float((row["scores"].get(task) or (0, ""))[0] or 0) < points]
        reasons = Counter()
        example = {}
        for row, (_, message) in lost:
            reason = template(message or "failed")
            reasons[reason] += 1
            example.setdefault(reason, (row["student"], message))
        summaries.append({"task": task, "points": points, "graded": len(marked),
                          "lost": len(lost),
                          "reasons": [(reason, count, *example[reason])
                                      for reason, count in reasons.most_common(REASONS)]})
    return summaries


def plot(tasks, rows, maximum, path):
    """The totals' distribution and the grading time per submission, side by side."""
    plt = pyplot()
    figure, (left, right) = plt.subplots(1, 2, figsize=(10, 3.6))
    totals = [total(tasks, row) for row in graded(rows)]
    bins = [edge - 0.5 for edge in range(int(maximum) + 2)]
    left.hist(totals, bins=bins, color="tab:blue", edgecolor="white")
    left.set_xlabel(f"auto-graded points (of {maximum:g})")
    left.set_ylabel("students")
    left.set_title("Totals")
    seconds = [row["seconds"] for row in rows if row.get("seconds")]
    right.hist(seconds, bins=20, color="tab:grey", edgecolor="white")
    right.set_xlabel("seconds to grade one submission")
    right.set_ylabel("submissions")
    right.set_title("Grading time")
    from matplotlib.ticker import MaxNLocator

    for axis in (left, right):
        axis.grid(alpha=0.3)
        axis.yaxis.set_major_locator(MaxNLocator(integer=True))
    save_figure(figure, path)


def markdown(exercise, tasks, rows, pairs, threshold, feedback):
    maximum = sum(points for _, points, by_hand in tasks if not by_hand)
    marked = graded(rows)
    totals = [total(tasks, row) for row in marked]
    seconds = [row["seconds"] for row in rows if row.get("seconds")]
    lines = [f"# Class report: {exercise}", "",
             f"{len(rows)} students, {len(marked)} graded notebooks"
             + (f"; totals out of {maximum:g}: mean {statistics.mean(totals):.2f}, median "
                f"{statistics.median(totals):g}, lowest {min(totals):g}, highest "
                f"{max(totals):g}" if totals else "") + ".",
             "Feedback for each student: " + ("`feedback/<student>.html`." if feedback
                                              else "not written (--no-feedback)."),
             "", "![Totals and grading time](class.png)", "",
             "## Where the class lost points", "",
             "Per task, the share of the graded class that lost it, and the most common "
             "reasons: the checks' messages grouped with their numbers and quoted text "
             "stripped, each with one student's message.", "",
             "| task | points | lost by | most common reason | students | e.g. |",
             "|---|---|---|---|---|---|"]
    for summary in task_summaries(tasks, rows):
        share = summary["lost"] / summary["graded"] if summary["graded"] else 0.0
        head = (f"| {summary['task']} | {summary['points']:g} | {summary['lost']} of "
                f"{summary['graded']} ({share:.0%}) |")
        if not summary["reasons"]:
            lines.append(head + " — | | |")
        for number, (reason, count, student, message) in enumerate(summary["reasons"]):
            lines.append((head if number == 0 else "| | | |")
                         + f" {escaped(reason)} | {count} | {escaped(student, 40)}: "
                           f"{escaped(message, 120)} |")
    problems = [row for row in rows if row["problems"]]
    lines += ["", "## Rows with a problem", ""]
    if problems:
        lines += ["| student | problem |", "|---|---|"]
        lines += [f"| {escaped(row['student'], 60)} | {escaped('; '.join(row['problems']), 400)} |"
                  for row in problems]
    else:
        lines.append("None.")
    lines += ["", "## Grading time", ""]
    if seconds:
        slowest = max(rows, key=lambda row: row.get("seconds") or 0)
        lines.append(f"{len(seconds)} submissions: median {statistics.median(seconds):.1f} s, "
                     f"slowest {slowest['seconds']:.1f} s ({escaped(slowest['student'], 60)}).")
    lines += ["", "## Similar submissions", "",
              f"Pairs of students whose code for one task shares at least {threshold:.0%} of "
              f"the fingerprints of one of them (copydetect, names and layout normalised; the "
              f"scaffold's lines, the master's own answer and code that more than ten "
              f"students share left out: an answer anyone can write is no sign of copying). "
              f"A list to judge, never a penalty: similar code can be honest.", ""]
    if not pairs:
        lines.append("No pair above the threshold.")
    for pair in pairs:
        lines += [f"### {escaped(pair['task'], 40)}: {escaped(pair['first'], 60)} and "
                  f"{escaped(pair['second'], 60)}, {pair['share']:.0%} shared", "",
                  "<table><tr>"
                  f"<th>{escaped(pair['first'], 60)}</th><th>{escaped(pair['second'], 60)}</th>"
                  "</tr><tr>"
                  f"<td><pre>{html.escape(pair['first_lines'])}</pre></td>"
                  f"<td><pre>{html.escape(pair['second_lines'])}</pre></td>"
                  "</tr></table>", ""]
    return "\n".join(lines) + "\n"


def write(output, exercise, tasks, rows, pairs, threshold, feedback=True):
    """class.md, class.html and class.png in the grading folder ``output``; class.md's path."""
    maximum = sum(points for _, points, by_hand in tasks if not by_hand)
    plot(tasks, rows, maximum, output / "class.png")
    text = markdown(exercise, tasks, rows, pairs, threshold, feedback)
    atomic_write_text(output / "class.md", text)
    page = index_html(text).replace("<title>rnn-labs reports</title>",
                                    f"<title>Class report: {html.escape(exercise)}</title>")
    atomic_write_text(output / "class.html", page)
    return output / "class.md"
