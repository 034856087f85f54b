"""Safety: what keeps a seeker safe before and around the coaching.

This area owns the crisis screen (`crisis`: transparent rules read from
`prompts/safety/crisis_signals.toml`, run on every seeker message before any
other logic), the fixed crisis reply and the crisis resources for each region
(`replies`, `resources`), careful mode and how a seeker leaves it (`careful`),
and the output guard on model replies. Its facts live as data under
`prompts/safety/`; the code only normalises text and applies the rules.

It may import `coach.guide`, `coach.providers`, `coach.storage` and the shared
top-level modules, and nothing above them.
"""
