"""Companies, people, rumours, sources, quotes and status history (built in later issues).

For now it owns the receiving end of tracker's hand-off and the ``load_demo`` command.
"""
