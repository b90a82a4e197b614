"""``extract_text`` pauses the cyclic garbage collector while it parses a file (a third of the
time per file otherwise); the pause is process-wide, so it must be counted across threads and
must leave the collector as it found it."""

from __future__ import annotations

import gc
import threading

from similarity.features import _gc_paused, extract_text

SOURCE = "import os\n\ndef f(x):\n    return [y * 2 for y in x if y]\n\nprint(f(range(3)))\n"


def test_collector_is_back_on_after_a_file():
    assert gc.isenabled()
    extract_text(SOURCE)
    assert gc.isenabled()


def test_a_collector_turned_off_by_the_caller_stays_off():
    gc.disable()
    try:
        extract_text(SOURCE)
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_one_thread_finishing_does_not_turn_it_on_under_another():
    first_in, second_in, first_out = threading.Event(), threading.Event(), threading.Event()
    seen: list[bool] = []

    def first_file():  # starts first, finishes first
        with _gc_paused():
            first_in.set()
            second_in.wait(10)
        first_out.set()

    def second_file():
        first_in.wait(10)
        with _gc_paused():
            second_in.set()
            first_out.wait(10)
            seen.append(gc.isenabled())  # still parsing after the first file is done

    threads = [threading.Thread(target=first_file), threading.Thread(target=second_file)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert seen == [False]
    assert gc.isenabled()


def test_a_file_leaves_no_cyclic_garbage():
    # The premise of the pause (and of reading workers that postpone collections): a file's
    # features make no reference cycles, so reference counting frees everything at once. The
    # recursive AST walk refers to itself through its closure; unbroken, that cycle kept a
    # file's walk keys alive (~2,250 objects for a 250-line file) until a collection.
    body = "".join(f"def f{i}(a, b):\n    c = [a * k + b for k in range(a) if k % 3]\n"
                   f"    return sum(c) / (len(c) or 1)\n\n" for i in range(40))
    source = SOURCE + body + "\nclass M:\n    def fit(self, x):\n        self.m = max(x)\n"
    extract_text(source)  # warm every cache
    gc.collect()
    gc.disable()
    try:
        extract_text(source)
        assert gc.collect() == 0
    finally:
        gc.enable()
