"""The conversation-quality suite behind `coach eval`: scripted conversations with
hand-labelled expectations (kept as data in the top-level `evals/` folder, read by
`cases`), a driver that holds each one with the real app through its JSON API in
guided mode (`drive`), the checks and the scores against the targets (`checks`,
`scoring`), and the printed table and Markdown report (`report`).

It may import coaching, guide, storage and web, since it drives the whole app;
nothing imports it but the command line.
"""
