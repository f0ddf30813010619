"""The figures the hardening tests reach in a run (races held, kills survived, requests, matrix cells), printed at
the end of the run so ``make stress`` quotes them."""

FIGURES: list[str] = []
