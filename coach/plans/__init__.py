"""Action plans: generating a plan from a session's reflection record (from the
guide's templates, or by a model as structured output), its versions, editing and
ticking off its goals and steps, the journal beside it, the mood check-ins of a
session, and the plan's exports (Markdown, iCalendar).

The plan's shape is defined once, in `coach.plans.schema`: what a model must
answer, what is validated before anything is stored, and what the API shows.
"""
