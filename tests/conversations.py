"""Scripted seeker messages shared by the API and browser tests."""

# A guided conversation that leaves each stage by its exit rule, in order.
GUIDED_WALK = [
    "I feel crushed. I was sure I had it after the second interview.",
    "Mostly disappointment, and some self-doubt.",
    "They said they went with an internal candidate.",
    "Good question.",
    "I want to show my distinctive strengths more clearly in applications.",
    "Every morning I will walk for half an hour and then apply for two roles.",
    "My friend Sam will check in with me every Friday.",
]
