"""Course operations around the grading pipeline: the roster, e-mailed submissions (intake),
Kaggle leaderboards, the reproduction check and final course grades.

Each module reads one kind of instructor file through ``grader.ops.tables`` (one set of CSV
conventions for every user table) and reports problems as ``InputFileError``.
"""
