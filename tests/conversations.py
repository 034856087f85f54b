"""Scripted seeker messages shared by the API and browser tests."""

from coach.guide.move import MOVE_ON, YES

# A guided conversation through every stage, in order: the seeker confirms what the
# coach proposes and agrees to move on each time it asks.
GUIDED_WALK = [
    "I feel crushed. I was sure I had it after the second interview.",
    YES,
    MOVE_ON,
    "They said they went with an internal candidate.",
    YES,
    MOVE_ON,
    "I want to show my distinctive strengths more clearly in applications.",
    YES,
    MOVE_ON,
    "Every morning I will walk for half an hour and then apply for two roles.",
    YES,
    "My friend Sam will check in with me every Friday.",
    YES,
    MOVE_ON,
]
