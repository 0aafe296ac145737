"""Instructor batch grading: `grader batch SUBMISSIONS --out OUTDIR` and `grader pack`.

The flow, one module per step:
    ids        who an entry of SUBMISSIONS belongs to (plain id, Canvas, Moodle, --id-pattern)
    extract    a zip or folder copied into a staging folder safely (no escape, no links, caps)
    normalise  a student's sources made runnable here (GBK/BOM -> UTF-8, CRLF -> LF), noted
    intake     the submission: its exercise folders found, copied to OUTDIR/graded/<student>/
    digest     what a stored result depends on (the submission's files, the exercise's suite)
    gradebook  OUTDIR/gradebook.sqlite: every finished run, committed as soon as it exists
    runner     the worker pool (one run_judge per student and exercise), progress, resume
    feedback   feedback/<student>.md: what may go back to the student, Markdown-escaped
    outputs    grades.csv, results/<student>.json and the summary printed at the end
    pack       the student side: the zip to upload, in the layout intake expects
Student code never runs in this process: each run is a judge (grader.judge.run_judge) against
that student's normalised copy, with the same confinement as `grader check` of a submission.
"""
