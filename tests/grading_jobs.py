"""Grading workers that misbehave, for tests/test_grading_safety.py (a module of its own, so
that a spawned worker process can import them): each answers the grader's protocol
(exercises/grading.py: ``worker``) for the jobs it is sent, until a job makes it stall or
die."""

import os
import time


def misbehaving(connection):
    while True:
        try:
            job = connection.recv()
        except EOFError:
            return
        if job is None:
            return
        if job == "stall":
            time.sleep(3600)
        if job == "die":
            os._exit(3)
        connection.send({"job": job, "seconds": 0.0, "pid": os.getpid()})
