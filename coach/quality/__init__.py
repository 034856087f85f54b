"""The conversation-quality suite behind `coach eval`: scripted conversations with
hand-labelled expectations (kept as data in the top-level `evals/` folder, read by
`cases`), a driver that holds each one with the real app through its JSON API
(`drive`: guided cases in guided mode, model cases through the `openai` provider
against `replay`, a local OpenAI-compatible server answering from the recorded
replies in `cassettes`), the scores against the targets (`checks`, `scoring`), the
checks of issue 9 (`suite_checks`, `prompt_files`, `judging`), and the printed
tables and Markdown report (`report`).

It may import coaching, guide, plans, safety, storage and web, since it drives the
whole app; nothing imports it but the command line.
"""
