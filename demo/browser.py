"""Driving the demo page from Playwright (the tests and ``bench.demo``): one request's answer.

Gradio writes its progress line ("processing", "queue:") into an output while a request
runs, and leaves the last answer there until the new one arrives: waiting for a text alone
could read the previous request's. ``answered`` waits for this request's.
"""

import time


def answered(page, element, final, action, timeout_ms=120_000):
    """Do ``action`` (a click, a key) and wait until ``element`` shows a final text matching
    the regular expression ``final`` set by this request: an observer notes the progress line
    appearing in it, then the text must settle without it. ``(text, seconds)``."""
    page.evaluate("""element => {
        const node = document.querySelector(element);
        window.__pending = false;
        new MutationObserver(() => {
            if (/processing|queue:/.test(node.innerText)) { window.__pending = true; }
        }).observe(node, {subtree: true, childList: true, characterData: true,
                          attributes: true});
    }""", element)
    started = time.perf_counter()
    action()
    page.wait_for_function("""([element, final]) => {
        const text = document.querySelector(element).innerText;
        return window.__pending && !/processing|queue:/.test(text)
            && new RegExp(final).test(text);
    }""", arg=[element, final], timeout=timeout_ms)
    return page.inner_text(element).strip(), time.perf_counter() - started
