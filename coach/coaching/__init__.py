"""Coaching: how a turn is answered (`turns`), the life of one reply (`reply`,
`reply_mark`), the stages (`stages`), what the model is shown (`prompts`,
`transcript`), the reflection record's keyword rules and the model's reading of
it (`keyword_rules`, which reads sentences with `phrase_reading`;
`record_refinement`), and the seeker's sessions (`sessions`).

It may import providers, guide and storage; never the web.
"""
