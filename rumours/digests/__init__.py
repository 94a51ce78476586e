"""Email digests and alerts: who wants what (:mod:`.schedule`), what goes in
(:mod:`.content`), how it looks (:mod:`.rendering`) and sending it at most once
(:mod:`.services`). The subscriber's own pages are :mod:`.views`."""
