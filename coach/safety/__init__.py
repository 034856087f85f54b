"""Safety: the crisis screen, the fixed crisis reply and resources, careful mode,
and the output guard that checks every model reply before it is stored and shown.
"""
