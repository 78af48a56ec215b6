"""Fast versions of the fault suite's key cases (bench/faults.py runs the long ones and prints the table)."""
