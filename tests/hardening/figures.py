"""The figures the hardening tests reach in a run (races held, kills survived, requests, matrix cells), printed at
the end of the run so ``make stress`` quotes them.

A test appends its lines to ``FIGURES`` in the process that runs it; tests/hardening/conftest.py hands them to the
test's report (so pytest-xdist carries them to the main process) and prints them at the end."""

FIGURES: list[str] = []
#: The lines that reached this (main) process in reports, in the order the tests finished.
REPORTED: list[str] = []
#: Generated API requests, summed over the fuzz tests' reports.
FUZZ_REQUESTS = {"total": 0}
