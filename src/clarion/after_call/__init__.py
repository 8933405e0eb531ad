"""What follows a call: the reaper that ends calls nobody holds, and the analysis and
end-of-call report of every ended call (loops.py, analysis.py; the organization's schema
checked in a process of its own, schema_check.py), with the moves they make on a call's row
(moves.py)."""
