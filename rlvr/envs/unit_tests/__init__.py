"""Unit-test adversary envs (UTRL, Repair-R1): test generation against mutant pools."""
