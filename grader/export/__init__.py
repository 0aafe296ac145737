"""`grader export PLATFORM ...`: what a teaching platform takes, made from the course.

- gradescope (grader.export.gradescope): an autograder zip for one Gradescope assignment;
  inside Gradescope, grader.export.autograder grades a submission into results.json.
- classroom (grader.export.classroom): the GitHub Classroom workflow running the visible checks.
"""
from __future__ import annotations


def exercise_ids(course, wanted: list[str] | None) -> list[str]:
    """The exercises named (all by default), checked, in course order."""
    wanted = wanted or list(course.exercises)
    for ex_id in wanted:
        course.get(ex_id)  # an unknown id: the CLI's closest-match message
    return [i for i in course.exercises if i in wanted]


def cmd_export(course, args) -> int:
    """The `export` subcommand (grader.cli)."""
    if args.platform == "gradescope":
        from .gradescope import cmd_gradescope
        return cmd_gradescope(course, args)
    from .classroom import cmd_classroom
    return cmd_classroom(course, args)
