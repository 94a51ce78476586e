"""Detection: from an article's text to an inbox row. Pure code, no ORM.

The pipeline, each step its own module:

- :mod:`.text`: HTML to plain text, NFKC case/width folding with a map back to the
  original characters, sentences.
- :mod:`.language`: script rules for Hangul, kana, Han and Thai; a statistical
  identifier (py3langid) only for the Latin-script languages.
- :mod:`.names`: one Aho–Corasick automaton over every alias of every company (or
  person): a single pass over the text whatever the size of the watchlist, then the
  boundary and ambiguity rules on the few hits.
- :mod:`.lexicon`: the curated multilingual deal vocabulary (``lexicon/*.json``).
- :mod:`.signals`: deal score, stage hint, deal type and the parties.
- :mod:`.quotes`: direct quotes with their speakers.
- :mod:`.fingerprint`: MinHash signatures and LSH band keys for story clusters.
- :mod:`.pipeline`: runs them all over one document: :func:`.pipeline.detect`.

The ORM side (loading the watchlist, storing mentions, clustering against stored
bands) is :mod:`rumours.mentions`.
"""
